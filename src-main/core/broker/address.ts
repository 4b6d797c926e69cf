// Where the broker of a data dir listens, and the files it leaves for bridges beside the data.
// Unix socket paths are capped near 104 (macOS) and 108 (Linux) bytes, and a data dir can be
// long, so the socket lives in a short per-user runtime dir, named by a hash of the data dir.
import { createHash } from 'node:crypto';
import path from 'node:path';

/** The longest socket path we use (macOS caps sun_path at 104 bytes including the NUL). */
export const MAX_SOCKET_PATH = 100;

/** A short, stable name for a data dir: two data dirs never share a broker. */
export function homeKey(home: string, platform: NodeJS.Platform = process.platform): string {
  const p = platform === 'win32' ? path.win32.resolve(home).toLowerCase() : path.posix.resolve(home);
  return createHash('sha256').update(p).digest('hex').slice(0, 16);
}

function uidOf(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
}

/**
 * The per-user runtime dir for broker sockets: $XDG_RUNTIME_DIR/mcp-tokens where set (per user,
 * 0700 by the spec), else mcp-tokens-<uid> under the system temp dir. Its owner and mode are
 * checked before use (ensurePrivateDir), since a temp dir is shared with other users.
 */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env, uid: string = uidOf()): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, 'mcp-tokens');
  const tmp = (env.TMPDIR || env.TMP || env.TEMP || '/tmp').replace(/\/+$/, '') || '/tmp';
  return path.posix.join(tmp, `mcp-tokens-${uid}`);
}

/** Where the broker of `home` listens: a socket in the runtime dir, or a per-home named pipe on Windows. */
export function brokerAddress(home: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, uid: string = uidOf()): string {
  const key = homeKey(home, platform);
  if (platform === 'win32') return `\\\\.\\pipe\\mcp-tokens-${key}`;
  const name = `broker-${key}.sock`;
  const sock = path.posix.join(runtimeDir(env, uid), name);
  // A very long TMPDIR (or XDG dir) would not fit either: /tmp always does.
  return Buffer.byteLength(sock) <= MAX_SOCKET_PATH ? sock : path.posix.join(`/tmp/mcp-tokens-${uid}`, name);
}

/** The broker election lock of `home`: in the data dir's private run/ dir (see election.ts). */
export function electionLockFile(home: string): string {
  return path.join(home, 'run', 'broker.lock');
}

/** The file where the running broker writes its address (bridges with another environment find it there). */
export function advertisedAddressFile(home: string): string {
  return path.join(home, 'run', 'broker.json');
}

/** The file where a daemon that could not start leaves its reason for the bridge that started it. */
export function daemonFailureFile(home: string): string {
  return path.join(home, 'run', 'daemon-failed.json');
}
