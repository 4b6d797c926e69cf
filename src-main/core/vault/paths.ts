// Where the data dir lives. Pure functions of (env, platform, home dir) so every branch
// is testable on any machine.
import os from 'node:os';
import path from 'node:path';

const APP_NAME = 'MCP Token Manager';
const APP_SLUG = 'mcp-token-manager';

/**
 * The data dir: `MCP_TOKENS_HOME` when set, else the platform's app-data dir.
 * macOS: ~/Library/Application Support/MCP Token Manager; Windows: %APPDATA%\MCP Token Manager;
 * elsewhere: $XDG_CONFIG_HOME/mcp-token-manager or ~/.config/mcp-token-manager.
 */
export function dataHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  homedir: string = os.homedir(),
): string {
  // Join with the target platform's rules, not the host's, so the result is right in tests too.
  const p = platform === 'win32' ? path.win32 : path.posix;
  const override = env.MCP_TOKENS_HOME;
  if (override !== undefined && override.trim() !== '') return p.resolve(override);
  if (platform === 'darwin') return p.join(homedir, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') {
    const appData = env.APPDATA;
    const base = appData !== undefined && appData !== '' ? appData : p.join(homedir, 'AppData', 'Roaming');
    return p.join(base, APP_NAME);
  }
  // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && p.isAbsolute(xdg) ? xdg : p.join(homedir, '.config');
  return p.join(base, APP_SLUG);
}

/** The one vault file: clear records plus the sealed secrets. */
export function vaultPath(home: string): string {
  return path.join(home, 'vault.json');
}

/** The key file used when no OS keyring answers (mode 0600). */
export function keyFilePath(home: string): string {
  return path.join(home, 'vault.key');
}

/** The advisory lock guarding read-modify-write of the vault across processes. */
export function vaultLockPath(home: string): string {
  return path.join(home, 'vault.lock');
}

export function logDir(home: string): string {
  return path.join(home, 'logs');
}

/** Directory (mode 0700) for runtime files such as the broker socket. */
export function runDir(home: string): string {
  return path.join(home, 'run');
}

/** Modes used when creating things in the data dir. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
