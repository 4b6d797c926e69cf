// The FileSystem core uses, on node:fs/promises. Writes are atomic: a reader sees either
// the old file or the new one, never a torn mix, even if the process dies mid-write.
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FileSystem } from '../platform/services.js';

/** Name of the temp file used while writing `target`: `.<base>.<pid>.<random>.tmp`. */
export function tempPathFor(target: string, pid: number = process.pid): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Matches temp files made by {@link tempPathFor} for `base`; captures the writer's pid. */
export function tempFilePattern(base: string): RegExp {
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${escaped}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

export async function writeFileAtomic(target: string, data: Buffer | string, mode = 0o600): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    // 'wx' (O_EXCL): never follow or reuse a file someone else put at the temp name.
    // The mode is given at creation so the content is never readable by others, not even briefly.
    handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
    await handle.writeFile(data);
    // Data must be on disk before the rename makes it visible, or a crash can leave an empty file.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Persist a rename by syncing its directory. Windows and some file systems refuse; that is fine. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: EISDIR/EPERM/EINVAL on Windows, unsupported on some mounts.
  } finally {
    if (handle !== undefined) await handle.close().catch(() => undefined);
  }
}

export const nodeFileSystem: FileSystem = {
  readFile: (p) => fsp.readFile(p),
  writeFileAtomic,
  rename: (from, to) => fsp.rename(from, to),
  unlink: (p) => fsp.unlink(p),
  async mkdir(p, mode = 0o700) {
    await fsp.mkdir(p, { recursive: true, mode });
  },
  async exists(p) {
    try {
      await fsp.lstat(p);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  },
};

/** The errno code of a Node error, when it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/** True when the process with this pid is gone. EPERM means it exists but is not ours. */
export function isPidDead(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return errnoCode(err) === 'ESRCH';
  }
}

/**
 * Makes `dir` exist with mode 0700 and checks it is ours: for directories that guard secrets
 * or sockets (the data dir, run/). Tightens a looser mode left by an older version or umask.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return; // ACLs, not modes; the profile dir is already private
  const st = await fsp.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user (uid ${st.uid}); refusing to use it`);
  }
  if ((st.mode & 0o077) !== 0) await fsp.chmod(dir, 0o700);
}
