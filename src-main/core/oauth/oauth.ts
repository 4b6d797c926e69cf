// OAuth wire work through openid-client (and its oauth4webapi for DCR, which openid-client
// only offers bundled with its own discovery). Nothing here touches the vault.
import { VERSION } from '../platform/version.js';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { UserError } from '../platform/errors.js';
import { netFetch, networkErrorIn } from '../platform/network.js';
import type { AsMetadata, ClientRecord } from '../types.js';
import { displayUrl, isInsecureLoopback, safeHttpUrl } from '../platform/urls.js';
import { clientAuthFor, registrationAuthMethod } from './client-auth.js';
import { offlineAccessParams } from './offline-access.js';

export { alternateAuthMethod, clientSecretBasic, formEncodeCredential, pickSecretAuthMethod, registrationAuthMethod } from './client-auth.js';

export const OAUTH_TIMEOUT_S = 15;

export interface ClientCredentials {
  record: ClientRecord;
  clientSecret?: string;
}

/** An openid-client Configuration for one AS and one client; http allowed only on loopback. */
export function makeConfig(as: AsMetadata, creds: ClientCredentials): client.Configuration {
  const method = creds.record.tokenEndpointAuthMethod;
  const config = new client.Configuration(as as client.ServerMetadata, creds.record.clientId, { token_endpoint_auth_method: method }, clientAuthFor(method, creds.clientSecret));
  config.timeout = OAUTH_TIMEOUT_S;
  // Token, device and revocation calls go out the way the network wants (proxy, CAs).
  config[client.customFetch] = netFetch as client.CustomFetch;
  if (isInsecureLoopback(as.issuer) || isInsecureLoopback(String(as.token_endpoint))) client.allowInsecureRequests(config);
  return config;
}

export interface DcrRequest {
  redirectUris: string[];
  grantTypes: string[];
  scope?: string;
  /** token_endpoint_auth_method to ask for; by default what registrationAuthMethod picks. */
  authMethod?: string;
}

/** RFC 7591 registration as a native public client (a secret is used if the AS insists). */
export async function registerDynamicClient(as: AsMetadata, req: DcrRequest): Promise<{ clientId: string; clientSecret?: string; registrationAccessToken?: string; tokenEndpointAuthMethod: string; redirectUris: string[]; grantTypes: string[] }> {
  const endpoint = safeHttpUrl(as.registration_endpoint, 'registration endpoint');
  const authMethod = req.authMethod ?? registrationAuthMethod(as);
  const metadata: Record<string, unknown> = {
    client_name: 'MCP Token Manager',
    application_type: 'native',
    redirect_uris: req.redirectUris,
    grant_types: req.grantTypes,
    response_types: req.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
    software_id: 'mcp-token-manager',
    software_version: VERSION,
  };
  if (req.scope) metadata.scope = req.scope;
  const asObj = { ...(as as oauth.AuthorizationServer), registration_endpoint: endpoint.href };
  let res: Response;
  try {
    res = await oauth.dynamicClientRegistrationRequest(asObj, metadata as Partial<oauth.OmitSymbolProperties<oauth.Client>>, {
      [oauth.allowInsecureRequests]: isInsecureLoopback(endpoint),
      [oauth.customFetch]: netFetch as typeof fetch,
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_S * 1000),
    });
  } catch (err) {
    throw wireError(err, `registering a client at ${displayUrl(endpoint)}`);
  }
  let out: oauth.OmitSymbolProperties<oauth.Client>;
  try {
    out = await oauth.processDynamicClientRegistrationResponse(res);
  } catch (err) {
    const lenient = registrationWithoutSecretExpiry(err);
    if (!lenient) {
      throw new UserError('registration', `The authorization server refused to register this app: ${describeOAuthError(err)}.`, 'If the server requires a pre-registered client, pass --client-id (and --client-secret-file).', { cause: err });
    }
    out = lenient;
  }
  return {
    clientId: out.client_id,
    ...(typeof out.client_secret === 'string' ? { clientSecret: out.client_secret } : {}),
    ...(typeof out.registration_access_token === 'string' ? { registrationAccessToken: out.registration_access_token } : {}),
    tokenEndpointAuthMethod: typeof out.token_endpoint_auth_method === 'string' ? out.token_endpoint_auth_method : authMethod,
    redirectUris: Array.isArray(out.redirect_uris) ? (out.redirect_uris as string[]) : req.redirectUris,
    grantTypes: Array.isArray(out.grant_types) ? (out.grant_types as string[]) : req.grantTypes,
  };
}

/**
 * RFC 7591 requires `client_secret_expires_at` beside an issued secret, and oauth4webapi refuses
 * a registration without it. Many authorization servers omit it; the registration is otherwise
 * complete, so it is accepted with the secret treated as not expiring (the RFC's 0). Any other
 * fault in the response is still refused.
 */
export function registrationWithoutSecretExpiry(err: unknown): oauth.OmitSymbolProperties<oauth.Client> | undefined {
  if (!(err instanceof oauth.OperationProcessingError) || err.code !== oauth.INVALID_RESPONSE) return undefined;
  const body = (err.cause as { body?: unknown } | undefined)?.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.client_id !== 'string' || !b.client_id || typeof b.client_secret !== 'string' || b.client_secret_expires_at !== undefined) return undefined;
  return { ...b, client_id: b.client_id, client_secret_expires_at: 0 } as oauth.OmitSymbolProperties<oauth.Client>;
}

export interface TokenResult {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  tokenType: string;
  expiresIn?: number;
  scope?: string;
}

/** A token endpoint's answer as we keep it (oauth4webapi's and openid-client's have this shape). */
export function toResult(r: oauth.TokenEndpointResponse): TokenResult {
  return {
    accessToken: r.access_token,
    tokenType: r.token_type,
    ...(r.refresh_token ? { refreshToken: r.refresh_token } : {}),
    ...(r.id_token ? { idToken: r.id_token } : {}),
    ...(typeof r.expires_in === 'number' ? { expiresIn: r.expires_in } : {}),
    ...(typeof r.scope === 'string' ? { scope: r.scope } : {}),
  };
}

export interface PkceRequest {
  url: URL;
  state: string;
  verifier: string;
}

/** Builds the authorization URL (PKCE S256, state, resource) and checks its scheme before anyone opens it. */
export async function buildAuthorizationRequest(
  config: client.Configuration,
  p: { redirectUri: string; scopes: string[]; resource: string; prompt?: string; loginHint?: string },
): Promise<PkceRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params: Record<string, string> = {
    redirect_uri: p.redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    resource: p.resource,
  };
  if (p.scopes.length) params.scope = p.scopes.join(' ');
  // Which account: asked for when a second account of the same server is added (OpenID Connect Core §3.1.2.1).
  // prompt is a space-separated list: select_account and consent (for offline_access) go together.
  const prompts = [...(p.prompt ? [p.prompt] : []), ...(offlineAccessParams(config.serverMetadata() as AsMetadata, p.scopes).prompt ? ['consent'] : [])];
  if (prompts.length) params.prompt = prompts.join(' ');
  if (p.loginHint) params.login_hint = p.loginHint;
  const endpoint = config.serverMetadata().authorization_endpoint;
  safeHttpUrl(endpoint, 'authorization endpoint');
  let url: URL;
  try {
    url = client.buildAuthorizationUrl(config, params);
  } catch (err) {
    throw new UserError('unsafe-url', `Could not build the authorization URL: ${describeOAuthError(err)}.`);
  }
  safeHttpUrl(url.href, 'authorization URL');
  return { url, state, verifier };
}

/** RFC 9207 as the MCP spec applies it: a present iss must equal the issuer; absent is refused when the AS promised it. */
export function checkIss(callback: URL, as: AsMetadata): void {
  const iss = callback.searchParams.get('iss');
  if (iss !== null && iss !== as.issuer) {
    throw new UserError('iss-mismatch', `The sign-in response came from issuer ${JSON.stringify(iss.slice(0, 200))}, not ${as.issuer}. Refused: this looks like a mix-up attack.`, 'Nothing was stored. Try again; if it repeats, do not use this server.');
  }
  if (iss === null && as.authorization_response_iss_parameter_supported === true) {
    throw new UserError('iss-mismatch', `The sign-in response carries no issuer, although ${as.issuer} says it always sends one. Refused.`, 'Nothing was stored. Try again; if it repeats, contact the server operator.');
  }
}

/** A DPoP handle for the token request (RFC 9449 §5); openid-client retries once on use_dpop_nonce. */
export type DpopOption = { DPoP?: client.DPoPHandle };
const dpopOpt = (dpop: client.DPoPHandle | undefined): DpopOption => (dpop ? { DPoP: dpop } : {});

export async function exchangeCode(config: client.Configuration, callback: URL, req: PkceRequest, resource: string, dpop?: client.DPoPHandle): Promise<TokenResult> {
  const err = callback.searchParams.get('error');
  if (err) {
    const desc = callback.searchParams.get('error_description');
    const denied = err === 'access_denied';
    throw new UserError('authorization', denied ? 'You declined the authorization in the browser.' : `The authorization server returned an error: ${clip(err)}${desc ? ` (${clip(desc)})` : ''}.`, denied ? 'Run the command again to approve.' : undefined);
  }
  try {
    const r = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, idTokenExpected: false }, { resource }, dpopOpt(dpop));
    return toResult(r);
  } catch (e) {
    throw wireError(e, 'exchanging the authorization code');
  }
}

export async function startDeviceAuthorization(config: client.Configuration, p: { scopes: string[]; resource: string }): Promise<oauth.DeviceAuthorizationResponse> {
  const params: Record<string, string> = { resource: p.resource };
  if (p.scopes.length) params.scope = p.scopes.join(' ');
  try {
    const r = await client.initiateDeviceAuthorization(config, params);
    safeHttpUrl(r.verification_uri, 'device verification URL');
    if (r.verification_uri_complete) safeHttpUrl(r.verification_uri_complete, 'device verification URL');
    return r;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw wireError(e, 'starting the device authorization');
  }
}

/** Polls the token endpoint; openid-client honours `interval` and `slow_down`. */
export async function pollDevice(config: client.Configuration, r: oauth.DeviceAuthorizationResponse, resource: string, signal: AbortSignal, dpop?: client.DPoPHandle): Promise<TokenResult> {
  try {
    return toResult(await client.pollDeviceAuthorizationGrant(config, r, { resource }, { signal, ...dpopOpt(dpop) }));
  } catch (e) {
    if (signal.aborted) throw new UserError('timeout', 'The device code was not approved in time; sign-in cancelled.', 'Run the command again when you are ready to approve.');
    throw wireError(e, 'waiting for the device approval');
  }
}

export async function refresh(config: client.Configuration, refreshToken: string, resource: string, dpop?: client.DPoPHandle): Promise<TokenResult> {
  try {
    return toResult(await client.refreshTokenGrant(config, refreshToken, { resource }, dpopOpt(dpop)));
  } catch (e) {
    throw wireError(e, 'refreshing the token');
  }
}

export async function revoke(config: client.Configuration, token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
  try {
    await client.tokenRevocation(config, token, { token_type_hint: hint });
  } catch (e) {
    throw wireError(e, 'revoking the token');
  }
}

/**
 * What the AS answered to a revocation it did not confirm, in its own words (status, error code,
 * description), or why there was no answer. Bounded in length, never rephrased.
 */
export function revocationAnswer(err: unknown): string {
  const w = err instanceof OAuthWireError ? err : wireError(err, 'revoking the token');
  const e = (w.cause ?? {}) as { error?: unknown; error_description?: unknown; status?: unknown; cause?: { status?: unknown } };
  const status = typeof e.status === 'number' ? e.status : typeof e.cause?.status === 'number' ? e.cause.status : undefined;
  if (typeof e.error === 'string') {
    const desc = typeof e.error_description === 'string' && e.error_description ? `: ${flat(e.error_description, 500)}` : '';
    return `${status !== undefined ? `HTTP ${status} ` : ''}${flat(e.error, 100)}${desc}`;
  }
  if (status !== undefined) return `HTTP ${status}`;
  if (w.kind === 'transient') {
    const net = networkErrorIn(err);
    if (net) return `no answer (${flat(net.message, 500)})`;
    const c = (w.cause ?? {}) as { name?: unknown; code?: unknown; cause?: { code?: unknown; name?: unknown } };
    const code = typeof c.cause?.code === 'string' ? c.cause.code : typeof c.code === 'string' && /^E[A-Z]+$/.test(c.code) ? c.code : undefined;
    const timedOut = c.name === 'TimeoutError' || c.name === 'AbortError' || c.cause?.name === 'TimeoutError';
    return `no answer (${code ?? (timedOut ? 'timed out' : 'the connection failed')})`;
  }
  return w.message;
}

function flat(s: string, max: number): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, max);
}

/** What kind of failure a token-endpoint error is, which decides retry vs. re-auth. */
export type FailureKind = 'dead-grant' | 'transient' | 'other';

export class OAuthWireError extends UserError {
  readonly kind: FailureKind;
  readonly oauthError?: string;
  readonly status?: number;
  constructor(kind: FailureKind, message: string, hint: string | undefined, extra: { oauthError?: string; status?: number; cause?: unknown }) {
    super(kind === 'dead-grant' ? 'needs-reauth' : kind === 'transient' ? 'network' : 'token', message, hint, { cause: extra.cause });
    this.kind = kind;
    if (extra.oauthError !== undefined) this.oauthError = extra.oauthError;
    if (extra.status !== undefined) this.status = extra.status;
  }
}

function clip(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

export function describeOAuthError(err: unknown): string {
  const e = err as { error?: string; error_description?: string; status?: number; message?: string; code?: string };
  if (typeof e.error === 'string') return `${clip(e.error)}${e.error_description ? `: ${clip(e.error_description)}` : ''}`;
  if (typeof e.status === 'number') return `HTTP ${e.status}`;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Response) return `HTTP ${cause.status}`;
  return clip(e.message ?? String(err));
}

/** Maps openid-client / fetch failures to a classified error with a plain message. */
export function wireError(err: unknown, doing: string): OAuthWireError {
  if (err instanceof OAuthWireError) return err;
  const e = err as { error?: string; status?: number; name?: string; code?: string; cause?: { code?: unknown; name?: string } };
  // openid-client leaves a status it did not expect (a 5xx) on the Response in `cause`.
  const status = typeof e.status === 'number' ? e.status : e.cause instanceof Response ? e.cause.status : undefined;
  const oauthError = typeof e.error === 'string' ? e.error : undefined;
  if (oauthError === 'invalid_grant' || oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    return new OAuthWireError('dead-grant', `The authorization server rejected the grant while ${doing} (${describeOAuthError(err)}).`, 'Re-authorize this server.', { oauthError, ...(status !== undefined ? { status } : {}), cause: err });
  }
  if (status === 429) {
    return new OAuthWireError('transient', `The authorization server is busy (HTTP 429: too many requests) while ${doing}.`, 'Nothing was changed; try again later.', { ...(oauthError ? { oauthError } : {}), status, cause: err });
  }
  if (oauthError === 'temporarily_unavailable' || (status !== undefined && status >= 500)) {
    return new OAuthWireError('transient', `The authorization server is unavailable (${describeOAuthError(err)}) while ${doing}.`, 'Nothing was changed; try again later.', { ...(oauthError ? { oauthError } : {}), ...(status !== undefined ? { status } : {}), cause: err });
  }
  const net = networkErrorIn(err);
  if (net) return new OAuthWireError('transient', `${net.message.replace(/\.$/, '')} (while ${doing}).`, 'Nothing was changed.', { cause: err });
  const timeout = e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'TimeoutError' || e.code === 'OAUTH_TIMEOUT';
  // Only a system error name (ECONNREFUSED, UND_ERR_…): a timeout's DOMException carries the number 23.
  const sysCode = (c: unknown) => (typeof c === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(c) ? c : undefined);
  const netCode = timeout ? undefined : (sysCode(e.cause?.code) ?? sysCode(e.code));
  if (timeout || netCode || (err instanceof TypeError && /fetch failed/i.test(err.message))) {
    return new OAuthWireError('transient', `Could not reach the authorization server${netCode ? ` (${netCode})` : timeout ? ' (timed out)' : ''} while ${doing}.`, 'Nothing was changed; check your connection and try again.', { cause: err });
  }
  return new OAuthWireError('other', `Failed while ${doing} (${describeOAuthError(err)}).`, undefined, { ...(oauthError ? { oauthError } : {}), ...(status !== undefined ? { status } : {}), cause: err });
}
