// Inter-process advisory lock on a file created with O_EXCL. Guards the vault's
// read-modify-write so two processes (app, daemon, CLI) never lose each other's updates.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../platform/errors.js';
import { errnoCode, isPidDead } from './fs.js';

export interface LockOptions {
  /** Give up waiting after this long. Default 10 s. */
  timeoutMs?: number;
  /** A lock held longer than this is presumed abandoned (e.g. its pid was reused). Default 60 s. */
  staleMs?: number;
}

export class LockTimeoutError extends UserError {
  readonly lockPath: string;
  constructor(lockPath: string, timeoutMs: number, holder: string) {
    super(
      'timeout',
      `Could not get the lock ${lockPath} within ${Math.round(timeoutMs / 1000)} s; ${holder}.`,
      `If no mcp-tokens process is running, delete ${lockPath} and try again.`,
    );
    this.name = 'LockTimeoutError';
    this.lockPath = lockPath;
  }
}

interface Holder {
  raw: string;
  pid?: number;
  /** When it was taken or last renewed (epoch ms): the later of its content's time and its mtime. */
  at: number;
}

/** How often a held lock is renewed: well within the stale age. */
export function renewEveryMs(staleMs: number): number {
  return Math.max(50, Math.min(10_000, Math.floor(staleMs / 4)));
}

/** Touches the lock file if it is still ours, so others see a live holder. */
async function renewLock(lockPath: string, token: string): Promise<void> {
  try {
    const parsed = JSON.parse(await fsp.readFile(lockPath, 'utf8')) as { token?: unknown };
    if (parsed.token !== token) return;
    const now = new Date();
    await fsp.utimes(lockPath, now, now);
  } catch {
    // Gone or unreadable: nothing of ours to renew.
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 60_000;
/** A lock file with no readable content this old was left by a process that died between create and write. */
const EMPTY_GRACE_MS = 2_000;
/** A breaker holds the `.break` file for microseconds; one this old belongs to a dead process. */
const BREAKER_STALE_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Callers in this process queue here first, so they take turns without polling the file.
const localQueues = new Map<string, Promise<void>>();

/** Runs `fn` while holding the lock at `lockPath`; always releases, also when `fn` throws. Not re-entrant. */
export async function withLock<T>(lockPath: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const key = path.resolve(lockPath);
  const previous = localQueues.get(key) ?? Promise.resolve();
  let leave!: () => void;
  const mine = new Promise<void>((resolve) => (leave = resolve));
  const tail = previous.then(() => mine);
  localQueues.set(key, tail);
  try {
    await waitTurn(previous, timeoutMs, lockPath);
    const token = await acquire(lockPath, { ...options, timeoutMs: Math.max(0, deadline - Date.now()) }, timeoutMs);
    // Renewed while held, so a live holder is never judged stale, however long fn takes.
    const renew = setInterval(() => void renewLock(lockPath, token), renewEveryMs(options.staleMs ?? DEFAULT_STALE_MS));
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await release(lockPath, token);
    }
  } finally {
    leave();
    if (localQueues.get(key) === tail) localQueues.delete(key);
  }
}

/**
 * Takes the lock at `lockPath` now or never (no waiting) and holds it, renewed, until release():
 * for a holder that lives as long as its process (the broker election where the OS offers no
 * lock that dies with the process). Returns null when a live holder has it.
 */
export async function holdLock(lockPath: string, staleMs = DEFAULT_STALE_MS): Promise<{ release(): Promise<void> } | null> {
  let token: string;
  try {
    token = await acquire(lockPath, { timeoutMs: 0, staleMs }, 0);
  } catch (err) {
    if (err instanceof LockTimeoutError) return null;
    throw err;
  }
  const renew = setInterval(() => void renewLock(lockPath, token), renewEveryMs(staleMs));
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await release(lockPath, token);
    },
  };
}

async function waitTurn(previous: Promise<void>, timeoutMs: number, lockPath: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    if ((await Promise.race([previous, timedOut])) === 'timeout') {
      throw new LockTimeoutError(lockPath, timeoutMs, 'it is held by another task in this process');
    }
  } finally {
    clearTimeout(timer);
  }
}

async function acquire(lockPath: string, options: LockOptions, reportedTimeoutMs: number): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + timeoutMs;
  let delay = 4;
  for (;;) {
    const content = JSON.stringify({ pid: process.pid, at: Date.now(), token });
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(lockPath, 'wx', 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (handle !== undefined) {
      try {
        await handle.writeFile(content);
      } catch (err) {
        await handle.close().catch(() => undefined);
        await fsp.unlink(lockPath).catch(() => undefined);
        throw err;
      }
      await handle.close();
      return token;
    }

    const holder = await readHolder(lockPath);
    if (holder === null) continue; // released between our open and read: try again at once
    if (isStale(holder, staleMs)) {
      await breakLock(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, reportedTimeoutMs, describe(holder));
    // Jittered backoff so contenders do not retry in lockstep.
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
}

async function readHolder(lockPath: string): Promise<Holder | null> {
  let raw: string;
  let mtime: number;
  try {
    const [text, st] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
    raw = text;
    mtime = st.mtimeMs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JSON.parse(raw) as { pid?: unknown; at?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.at === 'number') return { raw, pid: parsed.pid, at: Math.max(parsed.at, mtime) };
  } catch {
    // Empty or partly written: judged by the file's age below.
  }
  return { raw, at: mtime };
}

function isStale(h: Holder, staleMs: number): boolean {
  const age = Date.now() - h.at;
  if (h.pid === undefined) return age > Math.min(EMPTY_GRACE_MS, staleMs);
  return isPidDead(h.pid) || age > staleMs;
}

function describe(h: Holder): string {
  const since = new Date(h.at).toISOString();
  return h.pid === undefined ? `it was created at ${since}` : `it is held by process ${h.pid} since ${since}`;
}

/**
 * Removes a stale lock. Breakers serialize on a second `.break` file and re-check the content
 * under it, so two waiters that both saw the same stale lock cannot remove a fresh lock that a
 * third process took in between.
 */
async function breakLock(lockPath: string, seen: Holder): Promise<void> {
  const breakPath = `${lockPath}.break`;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(breakPath, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    // Another breaker is at work; clear its file only if it died holding it.
    const st = await fsp.stat(breakPath).catch(() => null);
    if (st !== null && Date.now() - st.mtimeMs > BREAKER_STALE_MS) await fsp.unlink(breakPath).catch(() => undefined);
    await sleep(2);
    return;
  }
  try {
    await handle.close();
    const now = await readHolder(lockPath);
    if (now !== null && now.raw === seen.raw) await fsp.unlink(lockPath).catch(() => undefined);
  } finally {
    await fsp.unlink(breakPath).catch(() => undefined);
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  // Remove only our own lock: if it was broken as stale and re-taken, the new holder keeps it.
  try {
    const raw = await fsp.readFile(lockPath, 'utf8');
    const parsed = JSON.parse(raw) as { token?: unknown };
    if (parsed.token === token) await fsp.unlink(lockPath);
  } catch {
    // Already gone or replaced: nothing of ours to release.
  }
}
