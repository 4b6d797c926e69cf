// Runs once before any test file (and `npm test` runs it first, before the build):
// - without a browser the browser tests cannot run, so stop here with one message instead of
//   failures deep in the run;
// - the third-party parts the tests run against are installed here, once, outside any test's
//   timeout: the Python venv of the rig's FastMCP / Python SDK servers and clients (test/.venv),
//   and the MCP clients from npm (test/clients, its own package and lock: the MCP Inspector,
//   Gemini CLI, Codex, Qwen Code, opencode, Kilo, Continue, Cline, Copilot CLI, pinned).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveBrowser } from './e2e/browser.js';
import { ensureVenv } from './rig/third-party/index.js';

const CLIENTS = join(import.meta.dirname, 'clients');

function ensureTestClients(): void {
  const pkg = JSON.parse(readFileSync(join(CLIENTS, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const wanted = Object.keys(pkg.devDependencies);
  if (wanted.every((name) => existsSync(join(CLIENTS, 'node_modules', ...name.split('/'), 'package.json')))) return;
  process.stderr.write(`Installing the MCP clients for the client tests (${wanted.join(', ')}: npm install --prefix test/clients)…\n`);
  // Not `npm ci`: Qwen Code lists platform packages that are not on the registry (its clipboard
  // addon for macOS and Windows), so no lock can hold them and `npm ci` refuses every lock as out
  // of sync. `npm install --no-save` installs the lock's pinned versions and leaves both files as
  // they are.
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['install', '--no-save', '--prefix', CLIENTS, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 15 * 60_000,
    shell: process.platform === 'win32',
  });
}

export default async function setup(): Promise<void> {
  const b = resolveBrowser();
  if ('error' in b) {
    process.stderr.write(`\n${b.error}\n\n`);
    process.exit(1);
  }
  ensureTestClients();
  await ensureVenv();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await setup();
