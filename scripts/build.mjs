// Bundles the CLI (and with it the bridge) into dist/ so `mcp-tokens` starts fast.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Stale chunks from earlier builds would otherwise pile up beside the new ones.
await rm('dist', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'src-main/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  splitting: true,
  // A native module: loaded from node_modules at run time (and only when the vault is opened).
  external: ['@napi-rs/keyring'],
  sourcemap: 'linked',
  // Node ESM bundles need require() for CommonJS deps that esbuild inlines.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
