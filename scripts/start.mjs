// `npm start`: the desktop app where Electron can run; elsewhere, the same UI through `mcp-tokens ui`.
//
// Electron's binary is fetched here, on the first start, not by `npm ci`: package.json's
// `allowScripts` denies electron's postinstall, so an install never fails where the download
// host cannot be reached, and the electron package (with the types the glue is checked
// against) is always installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
// Bounds a download that never answers (a silently dropping firewall); a slow link still fits.
const DOWNLOAD_LIMIT_MS = 10 * 60_000;

/** The Electron binary's path when it is on disk, else undefined. */
function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when it was never downloaded.
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Runs electron's own installer once; resolves with undefined on success, else a one-line reason. */
function downloadElectron(installer, version) {
  process.stderr.write(`Downloading Electron ${version} (once; about 100 MB)…\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-4000)));
    const timer = setTimeout(() => child.kill(), DOWNLOAD_LIMIT_MS);
    const done = (why) => {
      clearTimeout(timer);
      resolve(why);
    };
    child.once('error', (e) => done(e.message));
    child.once('exit', (code, signal) => {
      if (code === 0) return done(undefined);
      if (signal) return done(`no answer within ${DOWNLOAD_LIMIT_MS / 60_000} min`);
      // install.js prints the error's stack: its first line names the cause (e.g. getaddrinfo ENOTFOUND).
      const first = err.split('\n').map((l) => l.trim()).find((l) => /error|ENOTFOUND|ECONN|ETIMEDOUT|EAI_AGAIN|HTTP/i.test(l));
      done(first ?? `exit code ${code}`);
    });
  });
}

/** Why the desktop app cannot open here and what would make it open, or the binary to run. */
async function electronOrReason() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { why: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)', fix: 'run `npm start` in a desktop session' };
  }
  if (!existsSync(`${root}dist/electron/main.js`)) return { why: 'the desktop app is not built', fix: 'run `npm run build`' };
  const have = electronBinary();
  if (have) return { binary: have };
  let pkg;
  try {
    pkg = { installer: require.resolve('electron/install.js'), version: require('electron/package.json').version };
  } catch {
    return { why: 'the electron package is not installed', fix: 'run `npm ci` (without --omit=dev)' };
  }
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return { why: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set, so the Electron binary is not downloaded', fix: 'unset it and run `npm start` again' };
  }
  const failed = await downloadElectron(pkg.installer, pkg.version);
  const binary = electronBinary();
  if (binary) return { binary };
  return {
    why: `the Electron binary could not be downloaded (${failed ?? 'nothing was installed'})`,
    fix: 'run `npm start` where github.com is reachable, or set ELECTRON_MIRROR to a mirror you can reach',
  };
}

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
}

const r = await electronOrReason();
if (r.binary) {
  run(r.binary, [`${root}dist/electron/main.js`]);
} else {
  process.stderr.write(`MCP Token Manager: the desktop app cannot open because ${r.why}; serving the same UI with \`mcp-tokens ui\` instead (to get the desktop app: ${r.fix}).\n`);
  // Without a display no browser can open: print the link only, never leave an opener running.
  const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  run(process.execPath, [`${root}bin/mcp-tokens.js`, 'ui', ...(headless ? ['--no-open'] : [])]);
}
