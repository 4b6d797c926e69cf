// DPoP-bound grants (RFC 9449) in the vault: the key made at link time, the record's state,
// what views show, and the signer the broker uses for proofs.
import type { DiscoveryResult } from '../oauth/discovery.js';
import { type DpopPrivateJwk, DpopSigner, generateDpopKey, isDpopPrivateJwk } from '../oauth/dpop.js';
import { type DpopChoice, decideDpop } from '../oauth/dpop-policy.js';
import type { DpopState, ServerRecord, VaultData } from '../types.js';
import type { ManagerContext } from './context.js';
import { findServer } from './records.js';

export interface NewDpopKey {
  privateJwk: DpopPrivateJwk;
  jkt: string;
}

/**
 * What a link does about DPoP: a new key when the grant is to be bound, and the state to record.
 * A person's earlier `--dpop off` sticks for re-links that do not say otherwise.
 */
export function planDpop(disc: DiscoveryResult, choice: DpopChoice | undefined, prev: ServerRecord | undefined): { key?: NewDpopKey; state?: DpopState; why: string } {
  const effective = choice ?? (prev?.dpop?.mode === 'off' ? 'off' : 'auto');
  const d = decideDpop({ as: disc.asMetadata, ...(disc.resourceMetadata ? { resourceMetadata: disc.resourceMetadata } : {}), ...(disc.challengeSchemes ? { challengeSchemes: disc.challengeSchemes } : {}), choice: effective });
  if (!d.bind) return { ...(effective === 'off' ? { state: { mode: 'off' } } : {}), why: d.why };
  const key = generateDpopKey();
  return { key, state: { mode: 'bound', jkt: key.jkt, alg: 'ES256' }, why: d.why };
}

/** Seals the new grant's key (or drops the old one when the new grant is not bound). */
export function storeDpop(d: VaultData, rec: ServerRecord, plan: { key?: NewDpopKey; state?: DpopState }): void {
  if (plan.state) rec.dpop = plan.state;
  else delete rec.dpop;
  if (plan.key) (d.secrets.dpop ??= {})[rec.id] = { privateJwk: plan.key.privateJwk };
  else if (d.secrets.dpop) delete d.secrets.dpop[rec.id];
}

/** Deletes a grant's key (sign-out, unlink): a bound record keeps no thumbprint without its key. */
export function forgetDpopKey(d: VaultData, id: string): void {
  if (d.secrets.dpop) delete d.secrets.dpop[id];
  const r = d.servers[id];
  if (r?.dpop?.mode === 'bound') delete r.dpop;
}

/** The grant's private key when it is bound and the key is intact. */
export function dpopKeyOf(d: VaultData, id: string): DpopPrivateJwk | undefined {
  const r = d.servers[id];
  const jwk = d.secrets.dpop?.[id]?.privateJwk;
  if (r?.dpop?.mode !== 'bound' || !isDpopPrivateJwk(jwk)) return undefined;
  return jwk;
}

/** What views show: bound (with the thumbprint) or turned off; nothing for a plain grant. */
export function dpopView(d: VaultData, r: ServerRecord): { bound: boolean; thumbprint?: string; off?: true } | undefined {
  if (r.dpop?.mode === 'off') return { bound: false, off: true };
  // Bound when the AS bound the token too (token_type DPoP); one that answered Bearer did not.
  if (r.dpop?.mode === 'bound' && dpopKeyOf(d, r.id)) return { bound: r.grant?.tokenType.toLowerCase() === 'dpop', thumbprint: r.dpop.jkt };
  return undefined;
}

/** For the broker: the signer of a bound grant and the origin its proofs may name. */
export function dpopSignerOf(d: VaultData, id: string): { signer: DpopSigner; origin: string } | undefined {
  const jwk = dpopKeyOf(d, id);
  const r = d.servers[id];
  if (!jwk || !r) return undefined;
  return { signer: new DpopSigner(jwk), origin: new URL(r.url).origin };
}

/** The broker's look-up: the server's name, and its signer when the grant is DPoP-bound. */
export async function signerFor(ctx: ManagerContext, idOrUrl: string): Promise<{ id: string; name: string; bound?: { signer: DpopSigner; origin: string } }> {
  const d = await ctx.d.vault.read();
  const r = findServer(d, idOrUrl);
  const bound = dpopSignerOf(d, r.id);
  return { id: r.id, name: r.name, ...(bound ? { bound } : {}) };
}
