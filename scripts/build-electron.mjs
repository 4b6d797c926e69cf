// Bundles the desktop app into dist/electron/:
//   main.js         the main process (ESM; everything but `electron` inlined, so the packaged
//                   app needs no node_modules)
//   preload.cjs     the sandboxed preload (CommonJS: sandboxed preloads cannot load modules)
//   mcp-tokens.mjs  the CLI and bridge as one file, run by the app's own binary with
//                   ELECTRON_RUN_AS_NODE=1 so MCP client configs need no global Node
//   assets/         tray and window icons
// The renderer is built separately into dist/renderer/.
import { build } from 'esbuild';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/electron`;
const electronVersion = JSON.parse(await readFile(`${root}node_modules/electron/package.json`, 'utf8')).version;
// Electron 41 ships a newer Node and Chromium than these targets; conservative is harmless.
const target = 'node20';
// Node ESM bundles need require() for CommonJS dependencies that esbuild inlines.
const esmRequire = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

await mkdir(out, { recursive: true });

await build({
  entryPoints: { main: 'src-main/electron/main.ts' },
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target,
  external: ['electron', '@napi-rs/keyring'],
  sourcemap: 'linked',
  banner: { js: esmRequire },
  logLevel: 'warning',
  absWorkingDir: root,
});

const preload = await build({
  entryPoints: { preload: 'src-main/preload/preload.ts' },
  outdir: out,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'chrome120',
  external: ['electron'],
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
});
// The preload runs in every page load with access to IPC: it must stay tiny and zod-free.
const inputs = Object.keys(preload.metafile.inputs);
const stray = inputs.filter((f) => f.includes('node_modules') || f.endsWith('contract.ts'));
if (stray.length > 0) throw new Error(`preload bundle pulled in ${stray.join(', ')}; import channel names from core/api/channels.ts only`);

await build({
  entryPoints: { 'mcp-tokens': 'src-main/cli/main.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target,
  external: ['@napi-rs/keyring'],
  sourcemap: false,
  banner: { js: esmRequire },
  logLevel: 'warning',
  absWorkingDir: root,
});

await cp(`${root}assets/tray`, `${out}/assets`, { recursive: true });
await cp(`${root}assets/icon.png`, `${out}/assets/icon.png`);
process.stderr.write(`built ${out} (main.js, preload.cjs, mcp-tokens.mjs, assets) for Electron ${electronVersion}\n`);
