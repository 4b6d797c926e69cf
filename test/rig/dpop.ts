// The rig's DPoP resource-server check (RFC 9449 §4.3, §7): a proof is checked with jose against
// its own embedded key, the key's thumbprint against the token's cnf.jkt, and htm, htu, iat, ath,
// jti (never twice) and, when asked for, the server's nonce.
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';

export interface DpopRsOptions {
  /** Every request must carry the server's current nonce (RFC 9449 §9). */
  requireNonce?: boolean;
  /** Seconds a proof's iat may differ from now. */
  iatWindowS?: number;
}

export type DpopCheck = { ok: true; jti: string } | { ok: false; error: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token'; why: string };

export class DpopRs {
  private readonly seen = new Set<string>();
  /** The nonce the server asks for now; `rotateNonce` makes a new one. */
  nonce = randomBytes(12).toString('base64url');
  /** What the checks saw, for tests: accepted proofs, refusals by reason, nonce challenges. */
  readonly stats = { accepted: 0, replays: 0, nonceChallenges: 0, refusals: [] as string[] };

  constructor(readonly o: DpopRsOptions = {}) {}

  rotateNonce(): string {
    this.nonce = randomBytes(12).toString('base64url');
    return this.nonce;
  }

  /** Checks one request's proof; `jkt` is the token's cnf.jkt (undefined: the token is not bound). */
  async check(p: { method: string; url: string; token: string; proof: string | undefined; jkt: string | undefined }): Promise<DpopCheck> {
    const refuse = (error: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token', why: string): DpopCheck => {
      if (error === 'use_dpop_nonce') this.stats.nonceChallenges++;
      else this.stats.refusals.push(why);
      return { ok: false, error, why };
    };
    if (!p.jkt) return refuse('invalid_token', 'the token is not DPoP-bound');
    if (!p.proof || p.proof.includes(',')) return refuse('invalid_dpop_proof', 'no single DPoP proof');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(p.proof);
    } catch {
      return refuse('invalid_dpop_proof', 'not a JWT');
    }
    const jwk = header.jwk as JWK | undefined;
    if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || !jwk || 'd' in jwk) return refuse('invalid_dpop_proof', 'bad header');
    let payload: Record<string, unknown>;
    try {
      payload = (await jwtVerify(p.proof, await importJWK(jwk, 'ES256'), { algorithms: ['ES256'], typ: 'dpop+jwt' })).payload;
    } catch {
      return refuse('invalid_dpop_proof', 'bad signature');
    }
    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== p.jkt) return refuse('invalid_token', 'key is not the token key');
    const u = new URL(p.url);
    if (payload.htm !== p.method) return refuse('invalid_dpop_proof', 'htm mismatch');
    if (payload.htu !== `${u.origin}${u.pathname}`) return refuse('invalid_dpop_proof', 'htu mismatch');
    const window = this.o.iatWindowS ?? 60;
    if (typeof payload.iat !== 'number' || Math.abs(payload.iat - Date.now() / 1000) > window) return refuse('invalid_dpop_proof', 'iat out of window');
    if (payload.ath !== createHash('sha256').update(p.token, 'ascii').digest('base64url')) return refuse('invalid_dpop_proof', 'ath mismatch');
    if (typeof payload.jti !== 'string' || !payload.jti) return refuse('invalid_dpop_proof', 'no jti');
    if (this.seen.has(payload.jti)) {
      this.stats.replays++;
      return refuse('invalid_dpop_proof', 'jti replayed');
    }
    this.seen.add(payload.jti);
    if (this.o.requireNonce && payload.nonce !== this.nonce) return refuse('use_dpop_nonce', 'nonce missing or stale');
    this.stats.accepted++;
    return { ok: true, jti: payload.jti };
  }
}
