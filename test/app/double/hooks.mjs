// Module resolution hook: the bare specifier 'electron' becomes the double; nothing else changes.
const DOUBLE = new URL('./electron.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: DOUBLE, shortCircuit: true };
  return next(specifier, context);
}
