// Bundles the desktop app into dist/electron/:
//   main.js         the main process (ESM; everything but `electron` inlined, so the packaged
//                   app needs no node_modules)
//   preload.cjs     the sandboxed preload (CommonJS: sandboxed preloads cannot load modules)
//   bridge-manifest.json  the dist/ CLI files (built by scripts/build.mjs, the build npm users
//                   run and `npm run bench` measures) with their sha256: the app copies exactly
//                   those into the data dir and runs them with its own binary as Node
//                   (ELECTRON_RUN_AS_NODE=1), so MCP client configs need no global Node
//   assets/         tray and window icons
// The renderer is built separately into dist/renderer/.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
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

// The bridge is the CLI build in dist/ itself (no second bundle): list its files, minus source
// maps and the app's own folders.
const dist = `${root}dist`;
const cliFiles = [];
async function walk(rel) {
  for (const e of await readdir(`${dist}/${rel}`, { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!rel && (e.name === 'electron' || e.name === 'renderer')) continue;
      await walk(p);
    } else if (e.isFile() && !p.endsWith('.map')) {
      const data = await readFile(`${dist}/${p}`);
      cliFiles.push({ path: p, sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
    }
  }
}
await walk('');
cliFiles.sort((a, b) => (a.path < b.path ? -1 : 1));
if (!cliFiles.some((f) => f.path === 'cli.js')) throw new Error('dist/cli.js is missing: run scripts/build.mjs first (npm run build does)');
const version = JSON.parse(await readFile(`${root}package.json`, 'utf8')).version;
await writeFile(`${out}/bridge-manifest.json`, `${JSON.stringify({ version, entry: 'cli.js', files: cliFiles }, null, 2)}\n`);

await cp(`${root}assets/tray`, `${out}/assets`, { recursive: true });
await cp(`${root}assets/icon.png`, `${out}/assets/icon.png`);
process.stderr.write(`built ${out} (main.js, preload.cjs, bridge-manifest.json for ${cliFiles.length} CLI files, assets) for Electron ${electronVersion}\n`);
