// One broker per data dir, by construction: the broker holds an exclusive lock for its whole
// life, taken before its socket is touched.
//  - Unix: a lock file created with O_EXCL in the data dir's private `run/` directory (0700, owner
//    checked), renewed while the broker lives; a holder whose pid is dead (or that stopped
//    renewing, in case the pid was reused) is broken under the `.break` protocol of
//    vault/lock.ts, which never lets two contenders both win. Only the person (and root) can
//    create, hold or replace anything there. (It used to be an abstract-namespace socket: those
//    names have no owner or mode, so any local user could bind it first and stop every bridge.)
//    It lives beside the data, not in the runtime dir, so processes whose XDG_RUNTIME_DIR or
//    TMPDIR differ still elect one broker for the same data.
//  - Windows: the named pipe itself is exclusive (a second server gets EADDRINUSE) and dies
//    with its process, so no separate lock is needed.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, isPidDead } from '../vault/fs.js';
import { holdLock } from '../vault/lock.js';
import { electionLockFile } from './address.js';

export interface ElectionLock {
  release(): Promise<void>;
}

/** A holder that stopped renewing for this long is presumed dead (its pid may have been reused). */
export const ELECTION_STALE_MS = 60_000;

/** Takes the election lock of `home` now, or returns null when another living broker holds it. */
export async function takeBrokerLock(home: string, platform: NodeJS.Platform = process.platform): Promise<ElectionLock | null> {
  if (platform === 'win32') return { release: async () => {} };
  const file = electionLockFile(home);
  await ensurePrivateDir(path.dirname(file));
  return holdLock(file, ELECTION_STALE_MS);
}

export interface ElectionHolder {
  pid: number;
  /** When it took the lock (epoch ms). */
  since: number;
  file: string;
}

/**
 * The living process that holds the election lock of `home`, if any (it may be a broker that is
 * still starting). Unknown on Windows (undefined).
 */
export async function electionHolder(home: string, platform: NodeJS.Platform = process.platform): Promise<ElectionHolder | undefined> {
  if (platform === 'win32') return undefined;
  const file = electionLockFile(home);
  try {
    const [raw, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    const j = JSON.parse(raw) as { pid?: unknown; at?: unknown };
    if (typeof j.pid !== 'number' || typeof j.at !== 'number') return undefined;
    if (isPidDead(j.pid) || Date.now() - Math.max(j.at, st.mtimeMs) > ELECTION_STALE_MS) return undefined;
    return { pid: j.pid, since: j.at, file };
  } catch {
    return undefined;
  }
}

/** Whether a broker for `home` has won its election and is alive (it may still be starting). */
export async function brokerElected(home: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  return (await electionHolder(home, platform)) !== undefined;
}

/** Why no broker can start, in words for the person: who holds the lock, since when. */
export function describeHolder(h: ElectionHolder): string {
  return `another process holds the broker's lock: ${h.file} (process ${h.pid}, since ${new Date(h.since).toISOString()})`;
}
