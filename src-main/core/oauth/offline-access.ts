// offline_access the OpenID way. OpenID Connect Core §11: an OpenID provider MUST ignore
// `offline_access` unless the authorization request carries prompt=consent, so without it the
// grant gets no refresh token and dies at the first expiry (oidc-provider, Keycloak, Okta and
// Auth0 all apply the rule). Pure decisions, unit-tested.
import type { AsMetadata } from '../types.js';

function list(as: AsMetadata, key: string): unknown[] {
  const v = (as as Record<string, unknown>)[key];
  return Array.isArray(v) ? v : [];
}

/** Whether the AS is an OpenID provider: OpenID metadata fields, or prompt=consent on offer. */
export function isOpenIdProvider(as: AsMetadata): boolean {
  const a = as as Record<string, unknown>;
  return (
    list(as, 'prompt_values_supported').includes('consent') ||
    typeof a.userinfo_endpoint === 'string' ||
    list(as, 'id_token_signing_alg_values_supported').length > 0 ||
    list(as, 'subject_types_supported').length > 0 ||
    list(as, 'scopes_supported').includes('openid')
  );
}

/**
 * Extra authorization-request parameters: prompt=consent when `offline_access` is asked of an
 * OpenID provider (unless it lists its prompt values and consent is not one of them).
 */
export function offlineAccessParams(as: AsMetadata, scopes: readonly string[]): Record<string, string> {
  if (!scopes.includes('offline_access') || !isOpenIdProvider(as)) return {};
  const prompts = list(as, 'prompt_values_supported');
  if (prompts.length > 0 && !prompts.includes('consent')) return {};
  return { prompt: 'consent' };
}

/**
 * What the person is told right after a sign-in that asked for `offline_access` and got no
 * refresh token: the grant cannot renew itself, so when. Undefined when there is nothing to say.
 */
export function noRefreshTokenNote(scopes: readonly string[], tokens: { refreshToken?: string; expiresIn?: number }): string | undefined {
  if (!scopes.includes('offline_access') || tokens.refreshToken) return undefined;
  const every =
    tokens.expiresIn !== undefined && tokens.expiresIn > 0
      ? `every ${Math.max(1, Math.round(tokens.expiresIn / 60))} minute${Math.round(tokens.expiresIn / 60) === 1 ? '' : 's'}`
      : 'each time its access token expires';
  return `The authorization server gave no refresh token although offline access was asked for: this server will need a new sign-in ${every}.`;
}
