// Issue 23, finding 2: an OpenID provider that follows OIDC Core §11 (oidc-provider's own rule:
// offline_access survives only with prompt=consent, and only then is a refresh token issued)
// gave no refresh token, so the grant died at the first expiry. Now prompt=consent goes with
// offline_access, and a sign-in that still gets no refresh token says so at once.
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { cliEnv } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';
import { rigFixture } from './rig-fixture.js';

const fx = rigFixture();

describe('offline_access with an OpenID provider', () => {
  it('an AS applying the §11 rule: the sign-in asks with prompt=consent, gets a refresh token, and refresh works', async () => {
    const rig = await fx.rig('own-as', { oidcOfflineRule: true });
    const home = await fx.home();
    const env = cliEnv(home);
    const r = await runCli(['link', rig.mcpUrl, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const { id, note } = JSON.parse(r.stdout) as { id: string; note?: string };
    expect(note).toBeUndefined();
    const auth = rig.as.authorizationRequests.at(-1)!;
    expect(auth.scope?.split(' ')).toContain('offline_access');
    expect(auth.prompt).toBe('consent');
    const v = await readVault(home);
    expect(v.secrets.tokens[id]!.refreshToken).toBeTruthy();
    const rf = await runCli(['refresh', id, '--json'], env);
    expect(rf.code, rf.stderr).toBe(0);
    expect(rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token' && t.status === 200)).toHaveLength(1);
  }, 120_000);

  it('a sign-in that asked for offline_access and got no refresh token says so at once, with the lifetime in minutes', async () => {
    const rig = await fx.rig('own-as', { noRefreshTokens: true, accessTokenTtl: 1200 });
    const home = await fx.home();
    const r = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; note?: string };
    expect(out.note).toBe('The authorization server gave no refresh token although offline access was asked for: this server will need a new sign-in every 20 minutes.');
    expect(r.stderr).toContain('this server will need a new sign-in every 20 minutes');
  }, 120_000);
});
