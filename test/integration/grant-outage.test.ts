// An outage of the authorization server while the resource server rejects the live token (a
// restart, a key rotation; a laptop waking on a network that is not up yet) must not cost the
// grant: the call fails saying the AS is unreachable, and once it is back the same grant
// refreshes, with no refresh token presented twice and no re-authorization.
import { describe, expect, it } from 'vitest';
import { openBridge, textOf, waitFor } from './bridge-helpers.js';
import { runCli } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';
import { expectNoReuse, refreshesOf, rigFixture } from './rig-fixture.js';

const { linked } = rigFixture();

const outages = [
  { what: 'answers a bare 503', only: undefined, begin: (rig: Rig) => rig.as.setTokenFault({ status503: true }), end: (rig: Rig) => rig.as.setTokenFault(undefined) },
  { what: 'never answers', only: 'api-path-rotating', begin: (rig: Rig) => rig.as.setTokenFault({ hangMs: 20_000 }), end: (rig: Rig) => rig.as.setTokenFault(undefined) },
  { what: 'is unreachable', only: undefined, begin: (rig: Rig) => rig.as.setDown(true), end: (rig: Rig) => rig.as.setDown(false) },
] as const;
type Rig = Awaited<ReturnType<typeof linked>>['rig'];

describe('an authorization server outage during a 401', () => {
  for (const profile of ['api-path-rotating', 'separate-as', 'device-only', 'legacy-sse'] as const) for (const o of outages) {
    if (o.only && o.only !== profile) continue;
    it(`${profile}: the AS ${o.what} when the server drops the live token: the call says so, the grant is kept, and the next call after the AS is back works with the same grant`, async () => {
      const { rig, home, env, id } = await linked(profile, {}, { MCP_TOKENS_DAEMON_IDLE: '30' });
      const before = await readVault(home);
      const grantBefore = before.servers[id]!.grant!;
      const b = await openBridge(env, id);
      try {
        expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'warm' } }))).toBe('warm');
        const refreshesBefore = refreshesOf(rig).length;
        await o.begin(rig);
        rig.mcp.dropLiveTokens();
        // Every call while the AS is out fails with the outage, never with "re-authorize".
        for (let i = 0; i < 3; i++) {
          const err = await b.client.callTool({ name: 'echo', arguments: { text: `down ${i}` } }).then(
            (r) => new Error(`unexpected success: ${JSON.stringify(r)}`),
            (e: Error) => e,
          );
          expect(err.message).toMatch(/authorization server .*(is unreachable; retrying in \d+ s|is slow to answer the token refresh; retrying) \(the sign-in is kept\)/i);
          expect(err.message).not.toMatch(/re-authorize|mcp-tokens link/i);
        }
        const during = await runCli(['status', id, '--json'], env);
        expect(JSON.parse(during.stdout)).toMatchObject({ status: 'ok' });
        // Nothing reached the AS's refresh handling while it was out.
        expect(refreshesOf(rig).length).toBe(refreshesBefore);
        await o.end(rig);
        // The broker backs off (1 s, doubling): the next call after that works, on the same grant.
        let text = '';
        await waitFor(
          async () => {
            text = await b.client.callTool({ name: 'echo', arguments: { text: 'back' } }).then(textOf, (e: Error) => e.message);
            return text === 'back';
          },
          90_000,
          `a call to work again after the outage (last: ${text})`,
        );
        const after = refreshesOf(rig).slice(refreshesBefore);
        expect(after).toHaveLength(1);
        expect(after[0]!.status).toBe(200);
      } finally {
        await b.close();
      }
      const v = await readVault(home);
      expect(v.servers[id]!.state.status).toBe('ok');
      // The same grant: refreshed from the refresh token it had, not signed in again.
      expect(v.servers[id]!.grant!.obtainedAt).toBe(grantBefore.obtainedAt);
      expect(v.servers[id]!.grant!.refreshCount).toBe((grantBefore.refreshCount ?? 0) + 1);
      expect(rig.as.presentedRefreshTokens).toContain(before.secrets.tokens[id]!.refreshToken!);
      expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
      expectNoReuse(rig);
    }, 240_000);
  }
});
