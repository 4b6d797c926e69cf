// One broker per data dir, by construction: the broker holds an exclusive lock for its whole
// life, taken before its socket is touched, that the OS frees when the process dies.
//  - Linux: a Unix socket bound in the abstract namespace. Binding is atomic, a second bind
//    fails with EADDRINUSE, and the kernel drops the name with the last descriptor, so even a
//    SIGKILLed broker leaves nothing stale behind. (Abstract names are per network namespace,
//    not per user: the name carries the uid, and a squatter can only block, never serve, since
//    bridges connect to the socket in the private runtime dir, not to this name.)
//  - Windows: the named pipe itself is exclusive (a second server gets EADDRINUSE) and dies
//    with its process, so no separate lock is needed.
//  - macOS and others: no abstract namespace, and Node offers no flock(). The fallback is a lock
//    file taken with O_EXCL in the private runtime dir, renewed while the broker lives; a holder
//    whose pid is dead (or that stopped renewing, in case the pid was reused) is broken under the
//    `.break` protocol of vault/lock.ts, which never lets two contenders both win.
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { holdLock } from '../vault/lock.js';
import { electionName, homeKey } from './address.js';

export interface ElectionLock {
  release(): Promise<void>;
}

/** Takes the election lock of `home` now, or returns null when another living broker holds it. */
export async function takeBrokerLock(home: string, runDir: string, platform: NodeJS.Platform = process.platform): Promise<ElectionLock | null> {
  if (platform === 'win32') return { release: async () => {} };
  if (platform === 'linux') {
    const srv = createServer((s) => s.destroy());
    const ok = await new Promise<boolean>((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
      srv.listen({ path: electionName(home), exclusive: true }, () => resolve(true));
    });
    if (!ok) return null;
    srv.unref();
    return { release: () => new Promise<void>((r) => srv.close(() => r())) };
  }
  return holdLock(path.join(runDir, `broker-${homeKey(home, platform)}.lock`), 30_000);
}

/**
 * Whether a broker for `home` has won its election and is alive (it may still be starting).
 * Linux only (the election socket accepts and drops connections); elsewhere: unknown (false).
 */
export function brokerElected(home: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  if (platform !== 'linux') return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = connect(electionName(home));
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 1000).unref();
  });
}
