// DPoP (RFC 9449): the per-grant P-256 key, its RFC 7638 thumbprint, the proofs the broker signs
// for requests to the MCP server, and the openid-client handle for the token endpoint (which
// also keeps the AS's nonces). Only the broker's process loads this: the private key never
// leaves it (the bridge may not import core/oauth, eslint enforces).
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import * as client from 'openid-client';
import type { DpopPrivateJwk } from '../types.js';

/** The only algorithm this app signs with: every DPoP-capable AS we know takes it. */
export const DPOP_ALG = 'ES256';

export type { DpopPrivateJwk };

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** RFC 7638 thumbprint of the public part (SHA-256, base64url): the token's cnf.jkt. */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  // Required members only, in lexicographic order, no whitespace.
  return b64u(createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest());
}

/** A new key pair for one grant. */
export function generateDpopKey(): { privateJwk: DpopPrivateJwk; jkt: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' }) as DpopPrivateJwk;
  const privateJwk: DpopPrivateJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d };
  return { privateJwk, jkt: jwkThumbprint(privateJwk) };
}

/** Validates what the vault holds before it is used as a key. */
export function isDpopPrivateJwk(v: unknown): v is DpopPrivateJwk {
  const j = v as Record<string, unknown> | null;
  return typeof j === 'object' && j !== null && j.kty === 'EC' && j.crv === 'P-256' && [j.x, j.y, j.d].every((s) => typeof s === 'string' && /^[A-Za-z0-9_-]{40,50}$/.test(s));
}

/** The `htu` of a request: scheme, host and path, without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2). */
export function athOf(accessToken: string): string {
  return b64u(createHash('sha256').update(accessToken, 'ascii').digest());
}

/**
 * Signs proofs with one grant's key: the key is imported once, the header encoded once, and a
 * proof is one ES256 signature (node:crypto, synchronous, well under a millisecond).
 */
export class DpopSigner {
  readonly jkt: string;
  private readonly key: KeyObject;
  private readonly header: string;

  constructor(jwk: DpopPrivateJwk) {
    this.key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
    this.jkt = jwkThumbprint(jwk);
    this.header = b64u(JSON.stringify({ typ: 'dpop+jwt', alg: DPOP_ALG, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } }));
  }

  /** A fresh proof: new jti, current iat; `htu` is cut to scheme, host and path whatever is passed. */
  proof(p: { htm: string; htu: string; ath?: string; nonce?: string; now?: number }): string {
    const claims: Record<string, unknown> = {
      jti: b64u(randomBytes(16)),
      htm: p.htm,
      htu: htuOf(p.htu),
      iat: Math.floor((p.now ?? Date.now()) / 1000),
      ...(p.ath ? { ath: p.ath } : {}),
      ...(p.nonce ? { nonce: p.nonce } : {}),
    };
    const input = `${this.header}.${b64u(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64u(sig)}`;
  }
}

/**
 * openid-client's DPoP handle for a grant's key, one per key in this process: it signs the token
 * endpoint's proofs and remembers the nonce each AS origin gave last, so a refresh an hour later
 * starts with it. Bounded: the oldest handles are dropped past 100 keys.
 */
const handles = new Map<string, Promise<client.DPoPHandle>>();

export function dpopHandle(config: client.Configuration, jwk: DpopPrivateJwk): Promise<client.DPoPHandle> {
  const jkt = jwkThumbprint(jwk);
  let h = handles.get(jkt);
  if (!h) {
    h = importKeyPair(jwk).then((kp) => client.getDPoPHandle(config, kp));
    h.catch(() => handles.delete(jkt));
    handles.set(jkt, h);
    if (handles.size > 100) handles.delete(handles.keys().next().value!);
  }
  return h;
}

/** The WebCrypto pair openid-client signs with; the private half is not extractable. */
async function importKeyPair(jwk: DpopPrivateJwk): Promise<CryptoKeyPair> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('jwk', { ...jwk, ext: false }, alg, false, ['sign']);
  const { d: _d, ...pub } = jwk;
  const publicKey = await webcrypto.subtle.importKey('jwk', pub, alg, true, ['verify']);
  return { privateKey, publicKey } as CryptoKeyPair;
}
