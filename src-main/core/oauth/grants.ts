// The token-endpoint calls of the grants no person approves: client credentials (SEP-1046),
// the JWT bearer grant (RFC 7523; workload identity SEP-1933 and the ID-JAG of SEP-990) and
// token exchange at a company IdP (RFC 8693). Each is one function, so proofs (DPoP) can be
// added in one place. Nothing here touches the vault.
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as client from 'openid-client';
import { UserError } from '../platform/errors.js';
import { netFetch } from '../platform/network.js';
import { isInsecureLoopback } from '../platform/urls.js';
import type { AsMetadata } from '../types.js';
import { clientSecretBasic } from './client-auth.js';
import { describeOAuthError, OAUTH_TIMEOUT_S, OAuthWireError, toResult, type TokenResult, wireError } from './oauth.js';

export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const TOKEN_TYPE_ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';

/** How this app proves who it is at a token endpoint. `anonymous`: no client at all (a workload assertion alone). */
export type MachineAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; privateKeyPem: string }
  | { method: 'none'; clientId: string }
  | { method: 'anonymous' };

/** A placeholder openid-client needs; never sent (the anonymous ClientAuth adds nothing). */
const NO_CLIENT = 'mcp-tokens-anonymous';

function listOf(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** grant_types_supported, with RFC 8414's default when the AS does not say. */
export function grantTypesOf(as: AsMetadata): string[] {
  return listOf(as.grant_types_supported) ?? ['authorization_code', 'implicit'];
}

export function authMethodsOf(as: AsMetadata): string[] {
  return listOf(as.token_endpoint_auth_methods_supported) ?? ['client_secret_basic'];
}

/**
 * The client authentication for a machine grant, chosen from what the AS advertises: a key means
 * private_key_jwt (refused when the AS does not offer it); a secret means basic or post; neither
 * means a public client (none) or, without a client id, no client at all.
 */
export function chooseMachineAuth(as: AsMetadata, c: { clientId?: string; secret?: string; privateKeyPem?: string }): MachineAuth {
  const methods = authMethodsOf(as);
  if (c.privateKeyPem !== undefined) {
    if (!c.clientId) throw new UserError('usage', 'A client key needs its client id (--client-id).');
    if (!methods.includes('private_key_jwt')) {
      throw new UserError('authorization', `The authorization server ${as.issuer} does not accept private_key_jwt client authentication (it offers: ${methods.join(', ') || 'nothing'}).`, 'Use --client-secret-file instead of --client-key-file, if the client has a secret.');
    }
    return { method: 'private_key_jwt', clientId: c.clientId, privateKeyPem: c.privateKeyPem };
  }
  if (c.secret !== undefined) {
    if (!c.clientId) throw new UserError('usage', 'A client secret needs its client id (--client-id).');
    const method = (['client_secret_basic', 'client_secret_post'] as const).find((m) => methods.includes(m));
    if (!method) {
      throw new UserError('authorization', `The authorization server ${as.issuer} does not accept a client secret (it offers: ${methods.join(', ') || 'nothing'}).`, methods.includes('private_key_jwt') ? 'Use --client-key-file with the client\'s private key.' : undefined);
    }
    return { method, clientId: c.clientId, secret: c.secret };
  }
  return c.clientId ? { method: 'none', clientId: c.clientId } : { method: 'anonymous' };
}

/** The JWS algorithm and WebCrypto parameters for a private key, from its type (RFC 7518). */
export function keyAlgorithm(pem: string): { alg: string; params: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm } {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UserError('usage', 'The client key file is not a PEM private key.', 'Give the client\'s private key in PEM (PKCS#8 "BEGIN PRIVATE KEY", or "BEGIN EC/RSA PRIVATE KEY").');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { alg: 'RS256', params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const byCurve: Record<string, [string, string]> = { prime256v1: ['ES256', 'P-256'], secp384r1: ['ES384', 'P-384'], secp521r1: ['ES512', 'P-521'] };
    const hit = curve ? byCurve[curve] : undefined;
    if (!hit) throw new UserError('usage', `The client key uses the elliptic curve ${curve ?? '(unknown)'}, which has no JWS algorithm.`, 'Use a P-256, P-384 or P-521 key (or RSA, or Ed25519).');
    return { alg: hit[0], params: { name: 'ECDSA', namedCurve: hit[1] } };
  }
  if (type === 'ed25519') return { alg: 'EdDSA', params: { name: 'Ed25519' } };
  throw new UserError('usage', `The client key is of type ${type ?? '(unknown)'}, which cannot sign a client assertion.`, 'Use an RSA, EC (P-256/384/521) or Ed25519 private key.');
}

async function signingKey(pem: string, as: AsMetadata): Promise<webcrypto.CryptoKey> {
  const { alg, params } = keyAlgorithm(pem);
  const algs = listOf(as.token_endpoint_auth_signing_alg_values_supported);
  if (algs && !algs.includes(alg)) {
    throw new UserError('authorization', `The authorization server ${as.issuer} accepts client assertions signed with ${algs.join(', ')}, not ${alg} (the client key's algorithm).`, 'Use a key of a type the server accepts.');
  }
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, params, false, ['sign']);
}

/** An openid-client Configuration for a machine grant at `as` (http allowed only on loopback). */
export async function machineConfig(as: AsMetadata, auth: MachineAuth): Promise<client.Configuration> {
  let clientAuth: client.ClientAuth;
  let method: string;
  switch (auth.method) {
    case 'client_secret_basic':
      clientAuth = clientSecretBasic(auth.secret);
      method = auth.method;
      break;
    case 'client_secret_post':
      clientAuth = client.ClientSecretPost(auth.secret);
      method = auth.method;
      break;
    case 'private_key_jwt':
      // iss = sub = client id, aud = the AS issuer, a fresh jti and a 60 s exp (oauth4webapi's assertion).
      clientAuth = client.PrivateKeyJwt(await signingKey(auth.privateKeyPem, as));
      method = auth.method;
      break;
    case 'none':
      clientAuth = client.None();
      method = 'none';
      break;
    case 'anonymous':
      clientAuth = () => {};
      method = 'none';
      break;
  }
  const clientId = auth.method === 'anonymous' ? NO_CLIENT : auth.clientId;
  const config = new client.Configuration(as as client.ServerMetadata, clientId, { token_endpoint_auth_method: method }, clientAuth);
  config.timeout = OAUTH_TIMEOUT_S;
  // Through the one place that knows the network (proxy, CAs), as every other token call.
  config[client.customFetch] = netFetch as client.CustomFetch;
  if (isInsecureLoopback(as.issuer) || isInsecureLoopback(String(as.token_endpoint))) client.allowInsecureRequests(config);
  return config;
}

function params(p: { resource?: string; scopes?: string[] }, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, ...(p.resource ? { resource: p.resource } : {}), ...(p.scopes?.length ? { scope: p.scopes.join(' ') } : {}) };
}

/** Client credentials grant (OAuth 2.1 §4.2, SEP-1046). */
export async function clientCredentials(config: client.Configuration, p: { resource: string; scopes?: string[] }): Promise<TokenResult> {
  try {
    return toResult(await client.clientCredentialsGrant(config, params(p)));
  } catch (e) {
    throw wireError(e, 'asking for a token with the client credentials');
  }
}

/** JWT bearer grant (RFC 7523 §2.1): a workload's assertion, or an ID-JAG from the company IdP. */
export async function jwtBearer(config: client.Configuration, assertion: string, p: { resource: string; scopes?: string[] }, doing = 'presenting the assertion'): Promise<TokenResult> {
  try {
    return toResult(await client.genericGrantRequest(config, GRANT_JWT_BEARER, params(p, { assertion })));
  } catch (e) {
    throw wireError(e, doing);
  }
}

/**
 * Token exchange at the company IdP (RFC 8693, SEP-990): the person's ID token for an Identity
 * Assertion JWT Authorization Grant (ID-JAG) for one MCP server's authorization server.
 */
export async function exchangeForIdJag(config: client.Configuration, idToken: string, p: { audience: string; resource: string; scopes?: string[] }): Promise<string> {
  let r: client.TokenEndpointResponse;
  try {
    r = await client.genericGrantRequest(
      config,
      GRANT_TOKEN_EXCHANGE,
      params({ resource: p.resource, ...(p.scopes ? { scopes: p.scopes } : {}) }, {
        requested_token_type: TOKEN_TYPE_ID_JAG,
        audience: p.audience,
        subject_token: idToken,
        subject_token_type: TOKEN_TYPE_ID_TOKEN,
      }),
    );
  } catch (e) {
    throw reword(wireError(e, 'exchanging your company sign-in for a grant at the identity provider'), 'The identity provider refused to grant access to this server', 'Ask your company\'s administrator whether you may use this server.');
  }
  const issued = (r as { issued_token_type?: unknown }).issued_token_type;
  if (issued !== undefined && issued !== TOKEN_TYPE_ID_JAG) {
    throw new UserError('token', `The identity provider issued a ${String(issued).slice(0, 100)} instead of an ID-JAG (${TOKEN_TYPE_ID_JAG}).`, 'The IdP is not set up for enterprise-managed authorization of this server; ask its administrator.');
  }
  return r.access_token;
}

/** A refusal in words that name who refused; the AS's own words stay in brackets. */
export function reword(e: OAuthWireError, who: string, hint: string): OAuthWireError {
  if (e.kind !== 'dead-grant' && e.oauthError === undefined) return e;
  const words = describeOAuthError(e.cause);
  return new OAuthWireError(e.kind, `${who} (${words}).`, hint, { ...(e.oauthError !== undefined ? { oauthError: e.oauthError } : {}), ...(e.status !== undefined ? { status: e.status } : {}), cause: e.cause });
}

/** Renews the person's ID token at the IdP with its refresh token (OpenID Connect §12). */
export async function renewIdToken(config: client.Configuration, refreshToken: string): Promise<TokenResult> {
  try {
    return toResult(await client.refreshTokenGrant(config, refreshToken));
  } catch (e) {
    throw wireError(e, 'renewing your company sign-in at the identity provider');
  }
}
