// Issue 23: after the refresh token is revoked (200), an AS may answer unsupported_token_type for
// a JWT access token (RFC 7009 §2.2.1; oidc-provider does). The grant is then ended; only the
// access token already issued remains, until its expiry, which sign-out now says with its time.
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';
import { linkCli, rigFixture } from './rig-fixture.js';

const fx = rigFixture();

describe('revoke against an AS that cannot revoke JWT access tokens', () => {
  it('says the grant is ended and when the remaining access token expires, not "may stay valid"', async () => {
    const rig = await fx.rig('separate-as');
    const home = await fx.home();
    const env = cliEnv(home);
    const id = await linkCli(rig.mcpUrl, env);
    const before = await readVault(home);
    const exp = before.servers[id]!.grant!.expiresAt!;
    const tok = before.secrets.tokens[id]!;
    const r = await runCli(['revoke', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { revokedAtAs: string[]; note?: string; asAnswer?: string };
    expect(out.revokedAtAs).toEqual(['refresh_token']);
    expect(out.asAnswer).toMatch(/^HTTP 400 unsupported_token_type/);
    expect(out.note).toBe(
      `The grant is ended at ${rig.as.issuer}: its refresh token was revoked. The authorization server did not revoke the current access token (${out.asAnswer}); it stays valid until ${new Date(exp).toISOString()} and cannot be renewed. The tokens were deleted here.`,
    );
    expect(r.stderr).not.toMatch(/may stay valid/);
    // What it says is what the AS did: the refresh token is dead there.
    expect(await rig.as.isRefreshTokenActive(tok.refreshToken!)).toBe(false);
    expect((await readVault(home)).secrets.tokens[id]).toBeUndefined();
  }, 120_000);
});
