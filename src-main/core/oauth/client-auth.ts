// How this app authenticates to an authorization server's token and revocation endpoints:
// which method to register, which to fall back to, and the openid-client ClientAuth for it.
import * as client from 'openid-client';
import type { AsMetadata } from '../types.js';

/** Secret-based methods, most widely accepted first: many token endpoints read only the form body. */
const SECRET_METHODS = ['client_secret_post', 'client_secret_basic'] as const;

function supportedMethods(as: AsMetadata): string[] | undefined {
  const v = as.token_endpoint_auth_methods_supported;
  return Array.isArray(v) ? v.filter((m): m is string => typeof m === 'string') : undefined;
}

/** Token endpoint auth method for a confidential client, from what the AS supports (RFC 8414 default: basic). */
export function pickSecretAuthMethod(as: AsMetadata): string {
  const supported = supportedMethods(as) ?? ['client_secret_basic'];
  return SECRET_METHODS.find((m) => supported.includes(m)) ?? supported[0] ?? 'client_secret_basic';
}

/** What to ask for at dynamic registration: a public client where the AS allows (or does not say), else a secret. */
export function registrationAuthMethod(as: AsMetadata): string {
  const supported = supportedMethods(as);
  return !supported || supported.includes('none') ? 'none' : pickSecretAuthMethod(as);
}

/**
 * The method to try after the AS refused `failed` (invalid_client), or undefined when it offers no
 * other this app can use. Used once per sign-in, so a refusal never becomes a loop.
 */
export function alternateAuthMethod(as: AsMetadata, failed: string): string | undefined {
  const supported = supportedMethods(as) ?? ['client_secret_basic'];
  return [...SECRET_METHODS, 'none'].find((m) => m !== failed && supported.includes(m));
}

/**
 * application/x-www-form-urlencoded for a client_secret_basic credential (RFC 6749 §2.3.1). Only
 * what the form encoding must escape is escaped: `-`, `.`, `_` and `*` stay as they are.
 */
export function formEncodeCredential(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * client_secret_basic, with `client_id` in the body too (RFC 6749 §3.2.1 allows it; the MCP Python
 * SDK's token and revocation endpoints require it whatever the method). openid-client's own also
 * percent-encodes `-`, `.`, `_` and `*`, so an authorization server that does not decode the
 * credentials (many do not) would see another client id ("pre%2Dregistered-client").
 */
export function clientSecretBasic(secret: string): client.ClientAuth {
  return (_as, c, body, headers) => {
    const pair = `${formEncodeCredential(c.client_id)}:${formEncodeCredential(secret)}`;
    headers.set('authorization', `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`);
    body.set('client_id', c.client_id);
  };
}

/** The ClientAuth for a registered method; the same one serves the token and the revocation endpoint. */
export function clientAuthFor(method: string, secret: string | undefined): client.ClientAuth {
  if (method === 'none' || !secret) return client.None();
  if (method === 'client_secret_post') return client.ClientSecretPost(secret);
  return clientSecretBasic(secret);
}
