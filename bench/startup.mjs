// Start-up cost of each module the bridge loads, in the order it loads them, in a fresh Node:
// dynamic import timings of the dist/ chunks (each includes the chunks it imports that were not
// loaded yet), plus Node's own first fetch() (undici) and, for comparison, what the bridge does
// not load on the legacy path. Prints JSON: [[label, ms], ...]. Used by bench/run.ts.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const dist = resolve(import.meta.dirname, '../dist');
const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
const find = (prefix) => {
  const f = files.find((x) => x.startsWith(prefix));
  if (!f) throw new Error(`no ${prefix}*.js in dist/`);
  return pathToFileURL(join(dist, f)).href;
};
const steps = [
  ['cli.js static imports (args, errors, redact, version)', async () => {
    const src = (await import('node:fs')).readFileSync(join(dist, 'cli.js'), 'utf8');
    for (const m of src.matchAll(/^import[^;]*?from\s*"\.\/([^"]+)"/gm)) await import(pathToFileURL(join(dist, m[1])).href);
  }],
  ['bridge-command (broker client, log, paths)', () => import(find('bridge-command-'))],
  ['bridge (legacy byte path, auth-fetch, stdio)', () => import(find('bridge-').replace(/bridge-command[^/]*$/, ''))],
  ['first fetch() (Node loads undici)', () => fetch('http://127.0.0.1:9/').catch(() => undefined)],
  ['modern side: protocol + session (+ SDK types, zod) — not loaded for legacy servers', async () => {
    const src = (await import('node:fs')).readFileSync(new URL(find('bridge-')), 'utf8');
    for (const m of src.matchAll(/import\("\.\/((?:protocol|session)-[^"]+)"\)/g)) await import(pathToFileURL(join(dist, m[1])).href);
  }],
  ['app-launcher (zod) — cold path only', () => import(find('app-launcher-'))],
];
const out = [];
for (const [label, f] of steps) {
  const t0 = performance.now();
  await f();
  out.push([label, performance.now() - t0]);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
