// Pure decisions about grant kinds: what a server's grant is called, its status when no person
// renews it, and which grants fit an authorization server that does not offer authorization codes.
import { GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, grantTypesOf } from '../oauth/grants.js';
import { UserError } from '../platform/errors.js';
import type { AsMetadata, GrantKind, IdpRecord, ServerRecord, VaultData } from '../types.js';
import type { ServerStatus } from './status.js';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/** What a server's page and `status --json` say about how it is signed in. */
export interface GrantView {
  kind: GrantKind;
  label: string;
  /** idp: the profile's name. */
  idp?: string;
  /** jwt_bearer: the assertion file (a path, not a secret). */
  assertionFile?: string;
}

export function grantKindOf(r: ServerRecord): GrantKind {
  return r.grantKind ?? 'authorization_code';
}

/** A grant the broker renews without a person (no refresh token needed). */
export function isMachineGrant(r: ServerRecord): boolean {
  return grantKindOf(r) !== 'authorization_code';
}

export function grantLabel(kind: GrantKind, idp?: string): string {
  if (kind === 'idp') return `Company sign-in through ${idp ?? '(unknown)'}`;
  if (kind === 'client_credentials') return 'Machine credentials';
  if (kind === 'jwt_bearer') return 'Workload identity';
  return 'Signed in by a person';
}

export function grantView(r: ServerRecord): GrantView {
  const kind = grantKindOf(r);
  return { kind, label: grantLabel(kind, r.idp), ...(r.idp ? { idp: r.idp } : {}), ...(r.assertionFile ? { assertionFile: r.assertionFile } : {}) };
}

/** The words asking the person to sign in to an IdP again, for every server of that IdP. */
export function idpSignInWords(idp: Pick<IdpRecord, 'name'>): { message: string; hint: string } {
  return {
    message: `Your sign-in to ${idp.name} has ended.`,
    hint: `Sign in to ${idp.name} again: run \`mcp-tokens idp sign-in ${idp.name}\` (or in MCP Token Manager: Settings → Company sign-in). Every server of ${idp.name} carries on after that.`,
  };
}

/**
 * The status of a server whose grant no person renews, or undefined to use the ordinary rules.
 * An expired token is not "needs-reauth" (the broker gets a new one); an IdP whose session
 * ended makes each of its servers ask for one thing: signing in to that IdP.
 */
export function machineStatus(data: VaultData, r: ServerRecord, hasToken: boolean, now: number, windowMs: number): ServerStatus | undefined {
  if (!isMachineGrant(r) || r.state.status === 'needs-reauth') return undefined;
  if (r.grantKind === 'idp') {
    const idp = r.idp ? data.idps?.[r.idp] : undefined;
    if (!idp) return { status: 'needs-reauth', reason: 'rejected', detail: `The company identity provider "${r.idp ?? ''}" was removed. Add it again (mcp-tokens idp add) or link this server another way.` };
    if (idp.state.status === 'needs-sign-in') return { status: 'needs-reauth', reason: 'expired', detail: `Needs sign-in to ${idp.name}: ${idp.state.detail ?? idpSignInWords(idp).message}` };
  }
  if (!hasToken || !r.grant) return { status: 'ok' };
  const exp = r.grant.expiresAt;
  if (exp !== undefined && exp > now && exp - now <= windowMs) return { status: 'expiring' };
  return { status: 'ok' };
}

/** The grants no person approves that an AS lists (only when it lists them). */
export function grantsOffered(as: AsMetadata): { jwtBearer: boolean; clientCredentials: boolean } {
  const listed = Array.isArray(as.grant_types_supported);
  const types = grantTypesOf(as);
  return { jwtBearer: listed && types.includes(GRANT_JWT_BEARER), clientCredentials: listed && types.includes(GRANT_CLIENT_CREDENTIALS) };
}

/** The `link` options that fit an AS, from the grants it advertises. */
export function fittingGrantOptions(as: AsMetadata): string[] {
  const types = grantTypesOf(as);
  const out: string[] = [];
  if (types.includes(GRANT_JWT_BEARER)) out.push('--idp <name> --client-id ID (company sign-in)', '--assertion-file F --grant jwt-bearer (workload identity)');
  if (types.includes(GRANT_CLIENT_CREDENTIALS)) out.push('--grant client-credentials --client-id ID (--client-secret-file F | --client-key-file KEY.pem)');
  return out;
}

/**
 * Refuses sign-in by a person at an AS that says it issues no codes to people, before any browser
 * opens, naming the --grant/--idp options that fit. `wanted`: the flow asked for, if any.
 */
export function refuseWithoutCodeGrant(as: AsMetadata, wanted?: 'browser' | 'device'): void {
  const listed = Array.isArray(as.grant_types_supported);
  const types = grantTypesOf(as);
  const code = types.includes('authorization_code') && Boolean(as.authorization_endpoint);
  const device = (listed ? types.includes(DEVICE_CODE) : true) && Boolean(as.device_authorization_endpoint);
  const ok = wanted === 'browser' ? !listed || types.includes('authorization_code') : wanted === 'device' ? !listed || types.includes(DEVICE_CODE) : code || device || !listed;
  if (ok) return;
  const fits = fittingGrantOptions(as);
  throw new UserError(
    'authorization',
    `The authorization server ${as.issuer} does not offer sign-in by a person (${wanted === 'device' ? 'device code' : 'authorization code'}); it offers: ${types.join(', ') || 'nothing'}.`,
    fits.length ? `Link it with one of: ${fits.map((f) => `mcp-tokens link <url> ${f}`).join('; ')}.` : 'Ask the server operator how clients are meant to sign in.',
  );
}

/** Refuses a machine grant the AS says it does not offer (only when it gives the list). */
export function refuseUnofferedGrant(as: AsMetadata, grantType: string, what: string): void {
  if (!Array.isArray(as.grant_types_supported)) return;
  const types = grantTypesOf(as);
  if (types.includes(grantType)) return;
  const fits = fittingGrantOptions(as);
  const code = types.includes('authorization_code');
  throw new UserError(
    'authorization',
    `The authorization server ${as.issuer} does not offer ${what} (${grantType}); it offers: ${types.join(', ') || 'nothing'}.`,
    code ? 'Link it without --grant/--idp to sign in in the browser.' : fits.length ? `Use one of: ${fits.join('; ')}.` : undefined,
  );
}
