// One broker per data dir, by construction, at a socket path that always fits; and a daemon
// that cannot start tells the bridge why. Checked from the outside: the broker's own log
// lines, the AS's record of refreshes, what the MCP client sees.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import { isAlive, openBridge, textOf, waitFor } from './bridge-helpers.js';
import { cliEnv, runCli } from './cli-helpers.js';
import { openVault, readVault } from './grant-helpers.js';
import { expectNoReuse, linkCli, refreshesOf, rigFixture } from './rig-fixture.js';

const fx = rigFixture();

async function brokerPid(home: string): Promise<number | undefined> {
  const c = new BrokerClient({ address: brokerAddress(home), home });
  try {
    return (await c.request('hello', { client: 'test' }, 3000)).pid;
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

/** The "broker listening" lines every broker that won an election writes to the data dir's log, since `sinceMs`. */
async function listeningLines(home: string, sinceMs: number): Promise<string[]> {
  const logs = await Promise.all(['mcp-tokens.log.1', 'mcp-tokens.log'].map((f) => readFile(join(home, 'logs', f), 'utf8').catch(() => '')));
  return logs
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('broker listening') && Date.parse(l.slice(0, 24)) >= sinceMs);
}

describe('broker election', () => {
  it('20 bridges started in the same instant with no broker, 10 times: one broker process each time, one refresh per expiry', async () => {
    const { rig, home, env, id } = await fx.linked('api-path-rotating', {}, { MCP_TOKENS_DAEMON_IDLE: '30' });
    const vault = await openVault(home);
    const rounds: Array<{ brokers: number; refreshes: number; ok: number }> = [];
    for (let round = 0; round < 10; round++) {
      const pid = await brokerPid(home);
      if (pid !== undefined) {
        process.kill(pid, 'SIGTERM');
        await waitFor(() => !isAlive(pid), 15_000, 'the previous broker to exit');
      }
      // The token has expired (seeded, so no clock race decides the count).
      await vault.update((d) => {
        d.servers[id]!.grant!.expiresAt = Date.now() - 1000;
      });
      const roundStart = Date.now();
      const refreshesBefore = refreshesOf(rig).length;
      const bridges = await Promise.all(Array.from({ length: 20 }, () => openBridge(env, id, { timeoutMs: 300_000 })));
      let ok: number;
      try {
        const out = await Promise.all(bridges.map((b, i) => b.client.callTool({ name: 'echo', arguments: { text: `r${round} b${i}` } }, undefined, { timeout: 300_000 })));
        ok = out.filter((o, i) => textOf(o) === `r${round} b${i}`).length;
      } finally {
        await Promise.all(bridges.map((b) => b.close()));
      }
      rounds.push({ brokers: (await listeningLines(home, roundStart)).length, refreshes: refreshesOf(rig).length - refreshesBefore, ok });
    }
    expect(rounds).toEqual(Array.from({ length: 10 }, () => ({ brokers: 1, refreshes: 1, ok: 20 })));
    expectNoReuse(rig);
    const v = await readVault(home);
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
    // A cap, not a budget: 400 process starts on a loaded 2-core machine.
  }, 2_400_000);

  it('a data dir of 200 characters: link, bridge and refresh work', async () => {
    const rig = await fx.rig('own-as');
    const base = await fx.home();
    const home = join(base, 'd'.repeat(200 - base.length - 1));
    expect(home.length).toBe(200);
    await mkdir(home, { recursive: true, mode: 0o700 });
    await fx.home(home);
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    const id = await linkCli(rig.mcpUrl, env);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'long home' } }))).toBe('long home');
      const before = refreshesOf(rig).length;
      // Through the broker the bridge started.
      const r = await runCli(['refresh', id, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(refreshesOf(rig).length).toBe(before + 1);
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after refresh' } }))).toBe('after refresh');
    } finally {
      await b.close();
    }
  }, 240_000);

  it('a daemon that cannot start: the bridge says the daemon\'s own reason', async () => {
    const home = await fx.home();
    // A vault from a newer version: the daemon refuses to open it.
    await writeFile(join(home, 'vault.json'), JSON.stringify({ version: 9, servers: {}, clients: {}, sealed: '' }), { mode: 0o600 });
    const env = cliEnv(home);
    const r = await runCli(['bridge', 'anything'], env, { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/token broker could not start: The vault .* newer version/);
    expect(r.stderr).not.toMatch(/did not answer in time/);
  }, 120_000);
});
