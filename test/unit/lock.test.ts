import { spawn, spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockTimeoutError, withLock } from '../../src-main/core/vault/lock.js';

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-lock-'));
  lockPath = path.join(dir, 'x.lock');
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** A pid that certainly belongs to no process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Runs a TypeScript child with tsx; resolves with its exit code and stderr, killed after `ms`. */
function runChild(script: string, args: string[], ms = 30_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('withLock', () => {
  it('two processes contending never overlap and lose no increment', async () => {
    const counter = path.join(dir, 'counter');
    await fsp.writeFile(counter, '0');
    const script = path.join(dir, 'child.mts');
    const lockModule = pathToFileURL(path.resolve('src-main/core/vault/lock.ts')).href;
    await fsp.writeFile(
      script,
      `import fsp from 'node:fs/promises';
import { withLock } from ${JSON.stringify(lockModule)};
const [lockPath, counter, inside] = process.argv.slice(2);
for (let i = 0; i < 20; i++) {
  await withLock(lockPath, async () => {
    // Marker created exclusively: a second holder at the same time would fail here.
    await fsp.writeFile(inside, String(process.pid), { flag: 'wx' });
    const n = Number(await fsp.readFile(counter, 'utf8'));
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    await fsp.writeFile(counter, String(n + 1));
    await fsp.unlink(inside);
  });
}
`,
    );
    const inside = path.join(dir, 'inside');
    const results = await Promise.all([runChild(script, [lockPath, counter, inside]), runChild(script, [lockPath, counter, inside])]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(await fsp.readFile(counter, 'utf8')).toBe('40');
    expect(await fsp.stat(lockPath).catch(() => null)).toBeNull();
  });

  it('serializes callers within one process too', async () => {
    let active = 0;
    let maxActive = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(lockPath, async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 2));
          active--;
        }),
      ),
    );
    expect(maxActive).toBe(1);
  });

  it('releases the lock when fn throws, and passes the error on', async () => {
    await expect(withLock(lockPath, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await fsp.stat(lockPath).catch(() => null)).toBeNull();
    await expect(withLock(lockPath, () => 7, { timeoutMs: 200 })).resolves.toBe(7);
  });

  it('breaks a lock whose process is dead', async () => {
    await fsp.writeFile(lockPath, JSON.stringify({ pid: deadPid(), at: Date.now(), token: 'x' }));
    const t = Date.now();
    await expect(withLock(lockPath, () => 'got it', { timeoutMs: 2000 })).resolves.toBe('got it');
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('breaks a lock older than staleMs even if its pid is alive', async () => {
    await fsp.writeFile(lockPath, JSON.stringify({ pid: process.pid, at: Date.now() - 5000, token: 'x' }));
    const old = new Date(Date.now() - 5000);
    await fsp.utimes(lockPath, old, old); // not renewed since
    await expect(withLock(lockPath, () => 1, { timeoutMs: 2000, staleMs: 1000 })).resolves.toBe(1);
  });

  it('renews a held lock, so a live holder is never taken for stale however long it holds', async () => {
    const script = path.join(dir, 'holder.mts');
    const lockModule = pathToFileURL(path.resolve('src-main/core/vault/lock.ts')).href;
    const inside = path.join(dir, 'inside');
    const done = path.join(dir, 'done');
    await fsp.writeFile(
      script,
      `import fsp from 'node:fs/promises';
import { withLock } from ${JSON.stringify(lockModule)};
const [lockPath, inside, done] = process.argv.slice(2);
await withLock(lockPath, async () => {
  await fsp.writeFile(inside, '1');
  // Held for many times the stale age.
  await new Promise((r) => setTimeout(r, 2000));
  await fsp.writeFile(done, '1');
}, { staleMs: 300 });
`,
    );
    const child = runChild(script, [lockPath, inside, done]);
    for (let i = 0; i < 400 && !(await fsp.stat(inside).catch(() => null)); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 600)); // past the stale age already
    const err = await withLock(lockPath, () => 'stolen', { timeoutMs: 700, staleMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(await fsp.stat(done).catch(() => null)).toBeNull(); // the holder was still inside
    expect((await child).code).toBe(0);
    await expect(withLock(lockPath, () => 'after', { timeoutMs: 2000, staleMs: 300 })).resolves.toBe('after');
  });

  it('breaks an empty lock file left by a process that died before writing it, but only once it is old', async () => {
    await fsp.writeFile(lockPath, '');
    await expect(withLock(lockPath, () => 1, { timeoutMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError);
    const old = new Date(Date.now() - 10_000);
    await fsp.utimes(lockPath, old, old);
    await expect(withLock(lockPath, () => 2, { timeoutMs: 1000 })).resolves.toBe(2);
  });

  it('times out on a live holder and says who holds it', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      await fsp.writeFile(lockPath, JSON.stringify({ pid: holder.pid, at: Date.now(), token: 'x' }));
      const t = Date.now();
      const err = await withLock(lockPath, () => 1, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(Date.now() - t).toBeGreaterThanOrEqual(290);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as Error).message).toContain(`process ${holder.pid}`);
      expect((err as LockTimeoutError).hint).toContain(lockPath);
      // The other holder's lock was left alone.
      expect(JSON.parse(await fsp.readFile(lockPath, 'utf8'))).toMatchObject({ pid: holder.pid });
    } finally {
      holder.kill();
    }
  });

  it('does not remove a lock that was re-taken by someone else', async () => {
    await withLock(lockPath, async () => {
      await fsp.writeFile(lockPath, JSON.stringify({ pid: process.pid, at: Date.now(), token: 'someone-else' }));
    });
    expect(JSON.parse(await fsp.readFile(lockPath, 'utf8'))).toMatchObject({ token: 'someone-else' });
  });

  it('a nested call for the same lock times out instead of hanging', async () => {
    const err = await withLock(lockPath, () => withLock(lockPath, () => 1, { timeoutMs: 200 }), { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toMatch(/another task in this process/);
    await expect(withLock(lockPath, () => 2, { timeoutMs: 200 })).resolves.toBe(2);
  });
});
