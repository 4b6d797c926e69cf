// `npm start`: the desktop app where Electron can run; elsewhere, the same UI through `mcp-tokens ui`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when the binary was never downloaded.
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
}

const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const electron = electronBinary();
const appEntry = `${root}dist/electron/main.js`;
if (electron && hasDisplay && existsSync(appEntry)) {
  run(electron, [appEntry]);
} else {
  const why = !electron ? 'the Electron binary is not installed here' : !hasDisplay ? 'there is no display' : 'the desktop app is not built';
  process.stderr.write(`MCP Token Manager: cannot open the desktop app (${why}); serving the same UI with \`mcp-tokens ui\` instead.\n`);
  run(process.execPath, [`${root}bin/mcp-tokens.js`, 'ui']);
}
