// Runs a script as another local user (uid/gid 65534, no groups) with setpriv, as the tests that
// attack the product from outside the person's account do. We run as root in CI; elsewhere the
// caller skips with a message (otherUserUnavailable says why).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OTHER_UID = 65534;

/** Why no second uid can be had here, or undefined when setpriv can run code as 65534. */
export function otherUserUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (setpriv)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root to switch to uid 65534';
  const r = spawnSync('setpriv', ['--reuid', String(OTHER_UID), '--regid', String(OTHER_UID), '--clear-groups', process.execPath, '-e', 'process.stdout.write(String(process.getuid()))'], { encoding: 'utf8' });
  if (r.error || r.stdout !== String(OTHER_UID)) return `setpriv could not run node as uid ${OTHER_UID}: ${r.error?.message ?? r.stderr}`;
  return undefined;
}

export interface Attacker {
  child: ChildProcess;
  /** Everything it printed so far. */
  out(): string;
  /** Resolves with the first line of output matching `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `source` (an ES module) as uid 65534. The script lives in a 0755 directory of its own
 * under the temp dir so that user can read it; nothing else of ours is readable to it.
 */
export async function runAsOtherUser(source: string, args: string[]): Promise<Attacker> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-tokens-attacker-'));
  await chmod(dir, 0o755);
  const script = join(dir, 'attack.mjs');
  await writeFile(script, source, { mode: 0o644 });
  const child = spawn('setpriv', ['--reuid', String(OTHER_UID), '--regid', String(OTHER_UID), '--clear-groups', process.execPath, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    out: () => out,
    async line(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = out.split('\n').find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the other user's script printed no line matching ${re}: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Watches every process's command line (as any local user can) for one whose arguments contain
 * `marker` (the test's browser, so other tests' processes are left alone), and races for what it
 * finds there: reads a file:// page, requests a loopback link. Prints WATCHING when it starts,
 * `FILE <url> <errno>` or `READ <url>` per page, `GOT <url> <status>` per link, and POLLED after
 * each full scan that followed a find. Arguments: marker, how long to watch (ms).
 */
export const WATCHER = `
import { readdirSync, readFileSync } from 'node:fs';
const [marker, ms] = process.argv.slice(2);
const deadline = Date.now() + Number(ms);
const tried = new Set();
let found = false;
console.log('WATCHING');
while (Date.now() < deadline) {
  for (const pid of readdirSync('/proc')) {
    if (!/^\\d+$/.test(pid)) continue;
    let argv;
    try { argv = readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0'); } catch { continue; }
    if (!argv.some((a) => a.includes(marker))) continue;
    for (const a of argv) {
      if (tried.has(a)) continue;
      if (/^file:/.test(a)) {
        tried.add(a);
        found = true;
        try { readFileSync(new URL(a), 'utf8'); console.log('READ ' + a); } catch (e) { console.log('FILE ' + a + ' ' + e.code); }
      } else if (/^https?:\\/\\/(127\\.|localhost|\\[::1\\])/.test(a)) {
        tried.add(a);
        found = true;
        const r = await fetch(a, { redirect: 'manual' }).catch(() => undefined);
        console.log('GOT ' + a + ' ' + (r ? r.status : 'no answer'));
      }
    }
  }
  if (found) console.log('POLLED');
  await new Promise((r) => setTimeout(r, 10));
}
console.log('DONE');
`;
