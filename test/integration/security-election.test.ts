// Issue 23, finding 4: another local user took the broker's election (an abstract-namespace
// socket, predictable and bindable by anyone) while the person's broker was idle-exited, and
// every bridge of the person went silent. Now the lock is a file in the data dir's private run/
// dir and the socket's directory is checked; here uid 65534 squats everything it can create, and
// a lock held by a process that never serves makes the bridge say so at once.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { homeKey } from '../../src-main/core/broker/address.js';
import { OTHER_UID, otherUserUnavailable, runAsOtherUser } from './attacker.js';
import { openBridge, stopBroker, textOf } from './bridge-helpers.js';
import { cliEnv } from './cli-helpers.js';
import { linkCli, rigFixture } from './rig-fixture.js';

const fx = rigFixture();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const unavailable = otherUserUnavailable();
if (unavailable) console.warn(`security-election: the other-user tests are skipped: ${unavailable}`);

// Squats what the old election and the default socket location let anyone take: the abstract
// name, the runtime dir under a shared temp dir (with a listening socket inside, counting who
// connects), and the election lock in the data dir. Prints what worked.
const SQUAT = `
import { createServer } from 'node:net';
import { mkdirSync, openSync, chmodSync } from 'node:fs';
const [abstractKey, runDir, sockName, lockFile] = process.argv.slice(2);
const abstractName = '\\0' + abstractKey;
const listen = (path) => new Promise((resolve) => {
  const srv = createServer((s) => { console.log('CONNECTED ' + path.replace(/\\0/g, '@')); s.on('error', () => {}); });
  srv.once('error', (e) => resolve(e.code));
  srv.listen({ path, exclusive: true }, () => resolve('bound'));
});
console.log('ABSTRACT ' + await listen(abstractName));
let rundir;
try { mkdirSync(runDir, { mode: 0o755 }); chmodSync(runDir, 0o755); rundir = 'created'; } catch (e) { rundir = e.code; }
console.log('RUNDIR ' + rundir);
console.log('RUNSOCK ' + await listen(runDir + '/' + sockName));
let lock;
try { openSync(lockFile, 'wx'); lock = 'created'; } catch (e) { lock = e.code; }
console.log('LOCK ' + lock);
console.log('READY');
setInterval(() => {}, 1000);
`;

describe('the broker election and socket, against another local user', () => {
  it.skipIf(unavailable)('uid 65534 squats the old abstract name, the runtime dir in a shared temp dir and the lock: the bridge still works and never talks to its socket', async () => {
    const rig = await fx.rig('own-as');
    // A shared temp dir of our own (sticky and world-writable, as /tmp is), so the runtime dir
    // does not exist yet when the other user strikes.
    const shared = await mkdtemp(join(tmpdir(), 'mcp-tokens-sharedtmp-'));
    await chmod(shared, 0o1777);
    cleanups.push(() => rm(shared, { recursive: true, force: true }));
    const home = await fx.home();
    // A data dir others may read, as many homes are; its run/ is what must stay ours.
    await chmod(home, 0o755);
    const env = cliEnv(home, { TMPDIR: shared, MCP_TOKENS_DAEMON_IDLE: '5' });
    const key = homeKey(home);
    const attacker = await runAsOtherUser(SQUAT, [`mcp-tokens-broker-0-${key}`, join(shared, 'mcp-tokens-0'), `broker-${key}.sock`, join(home, 'run', 'broker.lock')]);
    cleanups.push(() => attacker.stop());
    await attacker.line(/^READY$/);
    // What the other user could take: the abstract name and a directory in the shared temp dir.
    expect(attacker.out()).toContain('ABSTRACT bound');
    expect(attacker.out()).toContain('RUNDIR created');
    expect(attacker.out()).toContain('RUNSOCK bound');
    expect((await stat(join(shared, 'mcp-tokens-0'))).uid).toBe(OTHER_UID);
    // What it could not: anything in the data dir's run/.
    expect(attacker.out()).toMatch(/LOCK (EACCES|ENOENT)/);

    const id = await linkCli(rig.mcpUrl, env);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'despite the squat' } }))).toBe('despite the squat');
    } finally {
      await b.close();
    }
    // The broker listens in a fresh private dir and says where; nothing connected to the squatter.
    const advertised = JSON.parse(await readFile(join(home, 'run', 'broker.json'), 'utf8')) as { address: string };
    expect(advertised.address.startsWith(join(shared, 'mcp-tokens-0-'))).toBe(true);
    const dirSt = await stat(join(advertised.address, '..'));
    expect(dirSt.uid).toBe(0);
    expect(dirSt.mode & 0o777).toBe(0o700);
    expect(attacker.out()).not.toContain('CONNECTED');
    // A second bridge, through the running broker, too.
    const b2 = await openBridge(env, id);
    try {
      expect(textOf(await b2.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
    } finally {
      await b2.close();
    }
    expect(attacker.out()).not.toContain('CONNECTED');
    await stopBroker(home);
  }, 240_000);

  it.skipIf(unavailable)('a lock held by a process that never serves (here one of uid 65534): the bridge answers initialize and every call fails at once with the reason', async () => {
    const rig = await fx.rig('own-as');
    const home = await fx.home();
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '5' });
    const id = await linkCli(rig.mcpUrl, env);
    await stopBroker(home);
    // A live process that is not a broker, recorded as the lock's holder a minute ago.
    const holder = spawn('setpriv', ['--reuid', String(OTHER_UID), '--regid', String(OTHER_UID), '--clear-groups', 'sleep', '300'], { stdio: 'ignore' });
    cleanups.push(async () => void holder.kill('SIGKILL'));
    await new Promise((r) => holder.once('spawn', r));
    await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, 'run', 'broker.lock'), JSON.stringify({ pid: holder.pid, at: Date.now() - 60_000, token: 'not-a-broker' }), { mode: 0o600 });
    const t0 = Date.now();
    const b = await openBridge(env, id);
    try {
      expect(b.client.getInstructions()).toMatch(/another process holds the broker's lock: .*broker\.lock \(process \d+, since /);
      for (let i = 0; i < 3; i++) {
        const err = await b.client.callTool({ name: 'echo', arguments: { text: 'x' } }).then(
          () => new Error('unexpected success'),
          (e: Error) => e,
        );
        expect(err.message).toMatch(/another process holds the broker's lock: .*broker\.lock \(process \d+, since .*no broker answers at/);
      }
    } finally {
      await b.close();
    }
    // Well before the 90 s a bridge waits for a broker that is merely starting.
    expect(Date.now() - t0).toBeLessThan(60_000);
    holder.kill('SIGKILL');
    // Once the holder is gone, the next bridge starts a broker as usual.
    await new Promise((r) => setTimeout(r, 200));
    const ok = await openBridge(env, id);
    try {
      expect(textOf(await ok.client.callTool({ name: 'echo', arguments: { text: 'free again' } }))).toBe('free again');
    } finally {
      await ok.close();
    }
  }, 240_000);
  it.skipIf(unavailable)('a lock taken moments ago by a process that never serves: initialize is answered while the bridge waits, and the call fails with the reason', async () => {
    const rig = await fx.rig('own-as');
    const home = await fx.home();
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '5' });
    const id = await linkCli(rig.mcpUrl, env);
    await stopBroker(home);
    const holder = spawn('setpriv', ['--reuid', String(OTHER_UID), '--regid', String(OTHER_UID), '--clear-groups', 'sleep', '300'], { stdio: 'ignore' });
    cleanups.push(async () => void holder.kill('SIGKILL'));
    await new Promise((r) => holder.once('spawn', r));
    await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
    // Young enough to be a broker that is starting, so the bridge waits for it, but says so.
    await writeFile(join(home, 'run', 'broker.lock'), JSON.stringify({ pid: holder.pid, at: Date.now() - 15_000, token: 'not-a-broker' }), { mode: 0o600 });
    const b = await openBridge(env, id);
    try {
      // Answered by the bridge while it still waits (the final failure words differ).
      expect(b.client.getInstructions()).toMatch(/^The token broker does not answer yet: another process holds the broker's lock: .*broker\.lock \(process \d+, since .*waiting for it/);
      const err = await b.client.callTool({ name: 'echo', arguments: { text: 'x' } }, undefined, { timeout: 120_000 }).then(
        () => new Error('unexpected success'),
        (e: Error) => e,
      );
      expect(err.message).toMatch(/No token broker can start: another process holds the broker's lock: .*broker\.lock \(process \d+, since .*no broker answers at/);
    } finally {
      await b.close();
      holder.kill('SIGKILL');
    }
  }, 240_000);
});
