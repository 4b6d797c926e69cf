// Whether a new grant is DPoP-bound (RFC 9449): a pure decision over what discovery found.
import { UserError } from '../platform/errors.js';
import type { AsMetadata } from '../types.js';
import { DPOP_ALG } from './dpop.js';

export type DpopChoice = 'auto' | 'on' | 'off';

export interface DpopDecision {
  bind: boolean;
  /** Why, in words (the link's progress line). */
  why: string;
}

function algsOf(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : undefined;
}

/**
 * Binds when the resource server asks for it (resource metadata `dpop_bound_access_tokens_required`,
 * or a DPoP challenge / `dpop_signing_alg_values_supported` beside an AS that offers ES256), or
 * when the person says `--dpop on`. An AS that merely advertises DPoP is not enough: many do by
 * default (oidc-provider, Keycloak) in front of resource servers that only take Bearer, and a bound
 * token would be refused there. `--dpop off` always wins, except over a server that requires it.
 */
export function decideDpop(p: { as: AsMetadata; resourceMetadata?: Record<string, unknown>; challengeSchemes?: string[]; choice?: DpopChoice }): DpopDecision {
  const asAlgs = algsOf(p.as.dpop_signing_alg_values_supported);
  const asOffers = asAlgs?.includes(DPOP_ALG) ?? false;
  const prm = p.resourceMetadata ?? {};
  const required = prm.dpop_bound_access_tokens_required === true;
  const rsAlgs = algsOf(prm.dpop_signing_alg_values_supported);
  const rsSignals = (rsAlgs?.includes(DPOP_ALG) ?? false) || (p.challengeSchemes ?? []).includes('dpop');
  const cannotSign = (who: string, algs: string[]) =>
    new UserError('authorization', `${who} accepts DPoP proofs signed with ${algs.join(', ') || 'no algorithm'} only; this app signs with ${DPOP_ALG}.`, 'Ask the server operator to accept ES256 DPoP proofs.');

  if (required) {
    if (p.choice === 'off') throw new UserError('usage', 'This server requires DPoP-bound tokens (its resource metadata says dpop_bound_access_tokens_required); --dpop off cannot be used with it.', 'Link it without --dpop off.');
    if (asAlgs && !asOffers) throw cannotSign('The authorization server', asAlgs);
    if (rsAlgs && !rsAlgs.includes(DPOP_ALG)) throw cannotSign('The server', rsAlgs);
    return { bind: true, why: 'the server requires DPoP-bound tokens' };
  }
  if (p.choice === 'off') return { bind: false, why: 'DPoP turned off (--dpop off)' };
  if (p.choice === 'on') {
    if (asAlgs && !asOffers) throw cannotSign('The authorization server', asAlgs);
    return { bind: true, why: 'DPoP turned on (--dpop on)' };
  }
  if (asOffers && rsSignals) return { bind: true, why: 'the server and its authorization server support DPoP' };
  return { bind: false, why: asOffers ? 'the authorization server supports DPoP, but the server does not say it takes DPoP-bound tokens' : 'no DPoP support advertised' };
}
