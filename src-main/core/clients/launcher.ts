// How an MCP client starts the bridge: an absolute executable that exists on this machine, never
// a package name resolved at run time (`npx mcp-tokens` would fetch whatever is published under
// that name). Checked by running it with `--version` before any entry is written.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../platform/errors.js';
import { dataHome } from '../vault/paths.js';

/** `command` + `args`, then `bridge <target>`; `env` goes into the entry (the app sets ELECTRON_RUN_AS_NODE). */
export interface Launcher {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** bin/mcp-tokens.js of this installation, found from a file inside it (source, dist or bundle). */
export function findCliBin(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = path.dirname(from);
  for (let i = 0; i < 6; i++) {
    const bin = path.join(dir, 'bin', 'mcp-tokens.js');
    if (existsSync(bin)) return realpathSync(bin);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The launcher of the running CLI: this Node executable and the real path of the bin script
 * (`argv1` when started through it, e.g. a global install's symlink on PATH). Inside Electron
 * the executable is the app, which runs the script as Node only when told to.
 */
export function runningLauncher(argv1: string | undefined = process.argv[1]): Launcher {
  let bin: string | undefined;
  if (argv1 && /mcp-tokens(\.js)?$/i.test(argv1) && existsSync(argv1)) bin = realpathSync(argv1);
  bin ??= findCliBin();
  if (!bin) throw new UserError('vault', 'Cannot find bin/mcp-tokens.js of this installation.', 'Run the command through the installed `mcp-tokens`.');
  return { command: process.execPath, args: [bin], ...(process.versions.electron ? { env: { ELECTRON_RUN_AS_NODE: '1' } } : {}) };
}

/**
 * `MCP_TOKENS_HOME` for the entry when this data dir is not the one a client's bridge would find
 * by itself (clients start servers with a bare environment: HOME, maybe APPDATA, no XDG_*).
 */
export function dataDirEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Record<string, string> {
  const homedir = env.HOME || env.USERPROFILE || os.homedir();
  const home = dataHome(env, platform, homedir);
  const bare: NodeJS.ProcessEnv = env.APPDATA !== undefined ? { APPDATA: env.APPDATA } : {};
  return home === dataHome(bare, platform, homedir) ? {} : { MCP_TOKENS_HOME: home };
}

/** The launcher with the data dir added to its env. */
export function withDataDir(l: Launcher, env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): Launcher {
  const extra = dataDirEnv(env, platform);
  return Object.keys(extra).length ? { ...l, env: { ...l.env, ...extra } } : l;
}

export interface LauncherCheck {
  ok: boolean;
  /** The version printed, when it started. */
  version?: string;
  reason?: string;
}

/**
 * Runs the launcher with `--version` as a client would: no shell, cwd /, only its own env on top
 * of PATH and HOME. A bounded wait: a launcher that hangs is as broken as one that fails.
 */
export function checkLauncher(l: Launcher, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<LauncherCheck> {
  if (!path.isAbsolute(l.command)) return Promise.resolve({ ok: false, reason: `${l.command} is not an absolute path` });
  if (!existsSync(l.command)) return Promise.resolve({ ok: false, reason: `${l.command} does not exist` });
  const base = opts.env ?? process.env;
  const env: NodeJS.ProcessEnv = { ...(base.PATH !== undefined ? { PATH: base.PATH } : {}), ...(base.HOME !== undefined ? { HOME: base.HOME } : {}), ...(base.SYSTEMROOT !== undefined ? { SYSTEMROOT: base.SYSTEMROOT } : {}), ...l.env };
  return new Promise((resolve) => {
    execFile(l.command, [...l.args, '--version'], { env, cwd: path.parse(process.cwd()).root, timeout: opts.timeoutMs ?? 20_000, windowsHide: true, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const version = String(stdout).trim();
      if (!err && /^\d+\.\d+/.test(version)) return resolve({ ok: true, version });
      const why = err && 'killed' in err && err.killed ? 'it did not finish in time' : err ? (String(stderr).trim().split('\n').pop() ?? err.message) || err.message : `it printed "${version.slice(0, 80)}" instead of a version`;
      resolve({ ok: false, reason: why });
    });
  });
}

/** Throws a clear UserError unless the launcher starts. */
export async function assertLauncherWorks(l: Launcher, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<void> {
  const r = await checkLauncher(l, opts);
  if (r.ok) return;
  const shown = [l.command, ...l.args].join(' ');
  throw new UserError('vault', `The bridge launcher \`${shown}\` does not start (${r.reason}); nothing was written.`, 'Install mcp-tokens (or run this command from the installed copy) and try again.');
}
