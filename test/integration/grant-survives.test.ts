// A grant, once given, keeps working through the field's ordinary events: resource servers that
// drop live tokens, slow authorization servers, tokens that do not come with a refresh token.
// Single-refresh checks use long-lived tokens or a seeded expiry, never a race with the clock,
// and read the AS's own record: no refresh token is ever presented twice.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBridge, textOf, waitFor } from './bridge-helpers.js';
import { ROOT, runCli } from './cli-helpers.js';
import { openVault, readVault } from './grant-helpers.js';
import { expectNoReuse, refreshesOf, rigFixture } from './rig-fixture.js';

const { linked } = rigFixture();

describe('a grant survives', () => {
  it('5 bridges get a 401 at once right after a refresh (the server dropped live tokens): exactly one refresh, all calls succeed, the grant is kept', async () => {
    const { rig, home, env, id } = await linked('api-path-rotating');
    const bridges = await Promise.all(Array.from({ length: 5 }, () => openBridge(env, id)));
    try {
      for (const [i, b] of bridges.entries()) expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: `warm ${i}` } }))).toBe(`warm ${i}`);
      // A refresh just happened...
      const r = await runCli(['refresh', id, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const before = refreshesOf(rig).length;
      // ...and the resource server stops accepting every live token (a restart, a key rotation).
      rig.mcp.dropLiveTokens();
      const out = await Promise.all(bridges.map((b, i) => b.client.callTool({ name: 'echo', arguments: { text: `after ${i}` } })));
      expect(out.map(textOf)).toEqual(bridges.map((_, i) => `after ${i}`));
      const during = refreshesOf(rig).slice(before);
      expect(during).toHaveLength(1);
      expect(during[0]!.status).toBe(200);
    } finally {
      await Promise.all(bridges.map((b) => b.close()));
    }
    const st = await runCli(['status', id, '--json'], env);
    expect(JSON.parse(st.stdout)).toMatchObject({ status: 'ok' });
    const v = await readVault(home);
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
    expectNoReuse(rig);
  }, 240_000);

  it('the refresh succeeds but the server rejects the new token too: needs-reauth (rejected), at most 3 token requests, one clear error to every bridge', async () => {
    const { rig, env, id } = await linked('api-path-rotating');
    const bridges = await Promise.all(Array.from({ length: 5 }, () => openBridge(env, id)));
    try {
      for (const b of bridges) await b.client.listTools();
      const before = rig.as.tokenRequests.length;
      rig.mcp.rejectNextTokens(1_000_000); // every token, old and new
      const errs = await Promise.all(bridges.map((b) => b.client.callTool({ name: 'echo', arguments: { text: 'x' } }).then(() => undefined, (e: Error) => e)));
      for (const e of errs) {
        expect(e?.message).toMatch(/re-authorize/i);
        expect(e?.message).toContain('mcp-tokens link');
      }
      const tries = rig.as.tokenRequests.slice(before);
      expect(tries.length).toBeGreaterThanOrEqual(1);
      expect(tries.length).toBeLessThanOrEqual(3);
      // No loop: a second round of calls asks the AS for nothing more.
      const again = await Promise.all(bridges.map((b) => b.client.callTool({ name: 'echo', arguments: { text: 'y' } }).then(() => undefined, (e: Error) => e)));
      for (const e of again) expect(e?.message).toMatch(/re-authorize/i);
      expect(rig.as.tokenRequests.slice(before)).toHaveLength(tries.length);
    } finally {
      await Promise.all(bridges.map((b) => b.close()));
    }
    const st = await runCli(['status', id, '--json'], env);
    expect(JSON.parse(st.stdout)).toMatchObject({ status: 'needs-reauth', reason: 'rejected' });
    expectNoReuse(rig);
  }, 240_000);

  it('the token endpoint takes 40 s while another process needs the vault: that process is not held by the lock, and nothing is lost', async () => {
    const { rig, home, env, id } = await linked('own-as');
    const grantBefore = (await readVault(home)).secrets.tokens[id];
    rig.as.setTokenFault({ delayMs: 40_000 });
    let refreshDone = false;
    const slow = runCli(['refresh', id], env, { timeoutMs: 60_000 }).finally(() => (refreshDone = true));
    await waitFor(() => rig.as.tokenRequestsInFlight() > 0, 30_000, 'the refresh to reach the token endpoint');
    const other = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/fixtures/vault-touch.ts'), home, id, 'renamed meanwhile'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(other).toMatchObject({ code: 0, out: 'written\n' });
    // The other process finished its write while the refresh was still waiting for the AS.
    expect(refreshDone).toBe(false);
    expect(rig.as.tokenRequestsInFlight()).toBeGreaterThan(0);
    const r = await slow;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/authorization server/i);
    rig.as.setTokenFault(undefined);
    const after = await readVault(home);
    expect(after.servers[id]!.name).toBe('renamed meanwhile');
    expect(after.secrets.tokens[id]).toEqual(grantBefore);
    expect(after.servers[id]!.state.status).toBe('ok');
    expect(after.pending).toEqual([]);
    // And the grant still refreshes once the AS answers in time.
    const again = await runCli(['refresh', id, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
  });

  it('refresh on a grant without a refresh token says so, changes nothing, and bridges keep working', async () => {
    const { rig, home, env, id } = await linked('own-as', { noRefreshTokens: true });
    const before = await readVault(home);
    expect(before.secrets.tokens[id]!.refreshToken).toBeUndefined();
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');
      const r = await runCli(['refresh', id], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/gave no refresh token; the current token is valid until \d{4}-\d\d-\d\dT[\d:.]+Z; re-authorize after that/);
      const j = await runCli(['refresh', id, '--json'], env);
      expect(j.code, j.stderr).toBe(0);
      expect(JSON.parse(j.stdout)).toMatchObject({ id, status: 'ok', note: expect.stringMatching(/no refresh token/) });
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
    } finally {
      await b.close();
    }
    const after = await readVault(home);
    expect(after.secrets.tokens[id]).toEqual(before.secrets.tokens[id]);
    expect(after.servers[id]!.grant).toEqual(before.servers[id]!.grant);
    expect(after.servers[id]!.state).toEqual({ status: 'ok' });
    expect(refreshesOf(rig)).toHaveLength(0);
  });
  it('a refresh slower than the broker lets a bridge wait: it gets a clear error, the refresh token is still presented once, and the grant is kept', async () => {
    // The broker answers a waiting bridge after 8 s; the token endpoint here takes 12 s (within
    // the 15 s wire timeout) and rotates with reuse detection, so a second refresh started
    // beside the slow one would present the same refresh token and kill the grant.
    const { rig, home, env, id } = await linked('api-path-rotating');
    await (await openVault(home)).update((d) => {
      d.servers[id]!.grant!.expiresAt = Date.now() - 1000;
    });
    rig.as.setTokenFault({ delayMs: 12_000 });
    const during = await openBridge(env, id).then(
      async (b) => {
        const text = textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'during' } }));
        await b.close();
        return text;
      },
      (e: unknown) => String(e),
    );
    expect(during).toMatch(/^during$|slow to answer the token refresh/);
    await waitFor(() => refreshesOf(rig).length >= 1 && rig.as.tokenRequestsInFlight() === 0, 60_000, 'the slow refresh to finish');
    rig.as.setTokenFault(undefined);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    } finally {
      await b.close();
    }
    expectNoReuse(rig);
    expect(refreshesOf(rig).filter((t) => t.error === 'invalid_grant')).toHaveLength(0);
    const v = await readVault(home);
    expect(v.servers[id]!.state.status).toBe('ok');
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
  }, 240_000);
});
