// DPoP pieces that decide or compute without a network: the key and its thumbprint, proofs as a
// verifier (jose) reads them, the binding decision, and the broker's signProof validation.
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../src-main/core/broker/protocol.js';
import { authParams, challengeSchemes, dpopParams } from '../../src-main/core/oauth/challenge.js';
import { athOf, DpopSigner, generateDpopKey, htuOf, isDpopPrivateJwk, jwkThumbprint } from '../../src-main/core/oauth/dpop.js';
import { decideDpop } from '../../src-main/core/oauth/dpop-policy.js';
import type { AsMetadata } from '../../src-main/core/types.js';

describe('DPoP key and proofs', () => {
  it('makes P-256 keys whose RFC 7638 thumbprint matches jose', async () => {
    const { privateJwk, jkt } = generateDpopKey();
    expect(isDpopPrivateJwk(privateJwk)).toBe(true);
    const { d: _d, ...pub } = privateJwk;
    expect(jkt).toBe(await calculateJwkThumbprint(pub, 'sha256'));
    expect(jwkThumbprint(privateJwk)).toBe(jkt);
    // Anything but a P-256 key with a full private part is refused.
    expect(isDpopPrivateJwk({ ...privateJwk, crv: 'P-384' })).toBe(false);
    expect(isDpopPrivateJwk({ ...privateJwk, d: 'x' })).toBe(false);
  });

  it('signs proofs a verifier accepts: typ, public jwk only, htm, htu without query, ath, nonce, unique jti', async () => {
    const { privateJwk, jkt } = generateDpopKey();
    const s = new DpopSigner(privateJwk);
    expect(s.jkt).toBe(jkt);
    const token = 'an-access-token';
    const p1 = s.proof({ htm: 'POST', htu: 'https://mcp.example.com/mcp?x=1#frag', ath: athOf(token), nonce: 'n-1' });
    const header = decodeProtectedHeader(p1);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    const { payload } = await jwtVerify(p1, await importJWK(header.jwk!, 'ES256'), { typ: 'dpop+jwt' });
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://mcp.example.com/mcp', nonce: 'n-1' });
    expect(payload.ath).toBe(Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url'));
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    const jtis = new Set(Array.from({ length: 50 }, () => (JSON.parse(Buffer.from(s.proof({ htm: 'GET', htu: 'https://a.example/' }).split('.')[1]!, 'base64url').toString()) as { jti: string }).jti));
    expect(jtis.size).toBe(50);
    expect(htuOf('https://a.example:8443/p/q?z#y')).toBe('https://a.example:8443/p/q');
  });
});

describe('whether a grant is DPoP-bound', () => {
  const as = (algs?: unknown): AsMetadata => ({ issuer: 'https://as.example', ...(algs !== undefined ? { dpop_signing_alg_values_supported: algs } : {}) });
  it('binds when the server asks for it and the AS offers ES256', () => {
    expect(decideDpop({ as: as(['ES256']), resourceMetadata: { dpop_bound_access_tokens_required: true } }).bind).toBe(true);
    expect(decideDpop({ as: as(['ES256', 'EdDSA']), challengeSchemes: ['dpop'] }).bind).toBe(true);
    expect(decideDpop({ as: as(['ES256']), resourceMetadata: { dpop_signing_alg_values_supported: ['ES256'] } }).bind).toBe(true);
    // Required by the server, silent AS: try it.
    expect(decideDpop({ as: as(), resourceMetadata: { dpop_bound_access_tokens_required: true } }).bind).toBe(true);
  });
  it('does not bind for an AS that merely advertises DPoP in front of a Bearer server', () => {
    expect(decideDpop({ as: as(['ES256']), challengeSchemes: ['bearer'] })).toMatchObject({ bind: false, why: expect.stringMatching(/does not say/) });
    expect(decideDpop({ as: as(), challengeSchemes: ['dpop'] }).bind).toBe(false);
    expect(decideDpop({ as: as(['RS256']), challengeSchemes: ['dpop'] }).bind).toBe(false);
  });
  it('follows --dpop on and off, and refuses what cannot work', () => {
    expect(decideDpop({ as: as(['ES256']), choice: 'on' }).bind).toBe(true);
    expect(decideDpop({ as: as(), choice: 'on' }).bind).toBe(true);
    expect(() => decideDpop({ as: as(['EdDSA']), choice: 'on' })).toThrow(/signs with ES256/);
    expect(decideDpop({ as: as(['ES256']), challengeSchemes: ['dpop'], choice: 'off' }).bind).toBe(false);
    expect(() => decideDpop({ as: as(['ES256']), resourceMetadata: { dpop_bound_access_tokens_required: true }, choice: 'off' })).toThrow(/requires DPoP/);
    expect(() => decideDpop({ as: as(['PS256']), resourceMetadata: { dpop_bound_access_tokens_required: true } })).toThrow(/signs with ES256/);
  });
});

describe('DPoP challenges', () => {
  it('reads a DPoP-only challenge for discovery and the nonce error', () => {
    const h = 'DPoP algs="ES256", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"';
    expect(authParams(h).resource_metadata).toBe('https://mcp.example.com/.well-known/oauth-protected-resource');
    expect(challengeSchemes(`Bearer realm="x", ${h}`)).toEqual(['bearer', 'dpop']);
    expect(authParams(`Bearer realm="x", ${h}`)).toEqual({ realm: 'x' });
    expect(dpopParams('DPoP error="use_dpop_nonce", error_description="nonce"')?.error).toBe('use_dpop_nonce');
    expect(dpopParams('Bearer error="invalid_token"')).toBeUndefined();
  });
});

describe('signProof requests', () => {
  const ath = 'a'.repeat(43);
  const req = (params: Record<string, unknown>) => JSON.stringify({ id: 1, method: 'signProof', params: { server: 's', htm: 'POST', htu: 'https://mcp.example.com/mcp', ath, ...params } });
  it('accepts a well-formed request and refuses malformed fields', () => {
    expect(parseRequest(req({ nonce: 'abc-123' }))).toMatchObject({ method: 'signProof', params: { htm: 'POST', nonce: 'abc-123' } });
    expect(() => parseRequest(req({ htm: 'post' }))).toThrow(/htm/);
    expect(() => parseRequest(req({ htm: 'PO ST' }))).toThrow(/htm/);
    expect(() => parseRequest(req({ ath: 'short' }))).toThrow(/ath/);
    expect(() => parseRequest(req({ htu: 'file:///etc/passwd' }))).toThrow(/htu/);
    expect(() => parseRequest(req({ htu: 'not a url' }))).toThrow(/htu/);
    expect(() => parseRequest(req({ nonce: 'a"b' }))).toThrow(/nonce/);
    expect(() => parseRequest(req({ nonce: 'x'.repeat(2000) }))).toThrow(/nonce/);
  });
  it('reportRejected carries only a true dpopRefused', () => {
    const rr = (extra: Record<string, unknown>) => parseRequest(JSON.stringify({ id: 2, method: 'reportRejected', params: { server: 's', token: 't', ...extra } })).params;
    expect(rr({ dpopRefused: true })).toEqual({ server: 's', token: 't', dpopRefused: true });
    expect(rr({ dpopRefused: 'yes' })).toEqual({ server: 's', token: 't' });
    expect(rr({})).toEqual({ server: 's', token: 't' });
  });
});
