// Helpers for bench/run.ts: statistics, /proc readings, time bounds, and the record of the
// processes the bench spawned (so every one is gone when the bench ends, however it ends).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export function median(xs: number[]): number {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : NaN;
}

export interface ProcMem {
  rss: number; // bytes
  hwm: number; // bytes
}

/** VmRSS and VmHWM of a process (Linux); undefined elsewhere or once it is gone. */
export async function procMem(pid: number | null | undefined): Promise<ProcMem | undefined> {
  if (!pid) return undefined;
  try {
    const s = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    const m = { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    return Number.isFinite(m.rss) && Number.isFinite(m.hwm) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so a later VmHWM is the peak since now. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** `f`, or an error naming `what` once `ms` have passed (f keeps running: its caller cleans up). */
export async function within<T>(ms: number, what: string, f: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([f(), expiry]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) for a process to be gone, then kills it outright. */
export async function reap(pid: number, ms: number): Promise<void> {
  for (let i = 0; i < ms / 20 && alive(pid); i++) await sleep(20);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** A process's start time (clock ticks since boot): a pid with another start time is another process. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Every process the bench started (subjects, brokers): all killed at the end, whatever happens. */
export class Spawned {
  private readonly pids = new Map<number, string | undefined>();

  add(pid: number | undefined | null): void {
    if (pid && !this.pids.has(pid)) this.pids.set(pid, startTime(pid));
  }

  /** Ours and still running (not a later process that got the same pid). */
  private live(): number[] {
    return [...this.pids].filter(([pid, t]) => alive(pid) && startTime(pid) === t).map(([pid]) => pid);
  }

  /** SIGTERM to all, then SIGKILL to any still there after `graceMs`. */
  async killAll(graceMs: number): Promise<number> {
    const left = this.live();
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
    await Promise.all(left.map((pid) => reap(pid, graceMs)));
    this.pids.clear();
    return left.length;
  }

  /** For a signal handler: no waiting. */
  killAllNow(): void {
    for (const pid of this.live()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Time of `node -e 0`, spawn to exit. */
export async function nodeBare(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((res, rej) => {
    const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    p.on('error', rej);
    p.on('exit', () => res());
  });
  return performance.now() - t0;
}

/** Runs a Node script and returns its stdout (bounded in time; killed past it). */
export function runNode(args: string[], env: NodeJS.ProcessEnv, ms: number): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', () => {
      clearTimeout(timer);
      res({ code: null, out });
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}
