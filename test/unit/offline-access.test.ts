// offline_access the OpenID way (OIDC Core §11): when prompt=consent goes with it, and what the
// person is told when a sign-in that asked for it got no refresh token.
import { describe, expect, it } from 'vitest';
import { isOpenIdProvider, noRefreshTokenNote, offlineAccessParams } from '../../src-main/core/oauth/offline-access.js';
import type { AsMetadata } from '../../src-main/core/types.js';

const plain = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/auth', token_endpoint: 'https://as.example/token' } as AsMetadata;
const oidc = (extra: Record<string, unknown>) => ({ ...plain, ...extra }) as AsMetadata;

describe('offline_access with an OpenID provider', () => {
  it('recognises an OpenID provider by its metadata', () => {
    expect(isOpenIdProvider(plain)).toBe(false);
    expect(isOpenIdProvider(oidc({ scopes_supported: ['mcp:tools', 'offline_access'] }))).toBe(false);
    expect(isOpenIdProvider(oidc({ userinfo_endpoint: 'https://as.example/me' }))).toBe(true);
    expect(isOpenIdProvider(oidc({ id_token_signing_alg_values_supported: ['RS256'] }))).toBe(true);
    expect(isOpenIdProvider(oidc({ subject_types_supported: ['public'] }))).toBe(true);
    expect(isOpenIdProvider(oidc({ scopes_supported: ['openid', 'offline_access'] }))).toBe(true);
    expect(isOpenIdProvider(oidc({ prompt_values_supported: ['none', 'login', 'consent'] }))).toBe(true);
  });

  it('sends prompt=consent only with offline_access, only to an OpenID provider that does not rule consent out', () => {
    const op = oidc({ subject_types_supported: ['public'] });
    expect(offlineAccessParams(op, ['mcp:tools', 'offline_access'])).toEqual({ prompt: 'consent' });
    expect(offlineAccessParams(op, ['mcp:tools'])).toEqual({});
    expect(offlineAccessParams(plain, ['mcp:tools', 'offline_access'])).toEqual({});
    expect(offlineAccessParams(oidc({ subject_types_supported: ['public'], prompt_values_supported: ['none', 'login'] }), ['offline_access'])).toEqual({});
  });

  it('says at once when the grant cannot renew itself, with the token lifetime in minutes', () => {
    expect(noRefreshTokenNote(['mcp:tools', 'offline_access'], { expiresIn: 3600 })).toBe('The authorization server gave no refresh token although offline access was asked for: this server will need a new sign-in every 60 minutes.');
    expect(noRefreshTokenNote(['offline_access'], { expiresIn: 60 })).toMatch(/every 1 minute\.$/);
    expect(noRefreshTokenNote(['offline_access'], {})).toMatch(/each time its access token expires\.$/);
    expect(noRefreshTokenNote(['offline_access'], { refreshToken: 'rt', expiresIn: 60 })).toBeUndefined();
    expect(noRefreshTokenNote(['mcp:tools'], { expiresIn: 60 })).toBeUndefined();
  });
});
