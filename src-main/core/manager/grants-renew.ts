// Renewing a grant no person approves (client credentials, workload assertion, company sign-in):
// a new token from the grant itself, on expiry or after a 401. No network under the vault lock;
// the answer is written only if the token it replaces is still the stored one. A refusal by
// the AS is recorded once, in its words, and never retried or replaced by another grant.
import { OAuthWireError, type TokenResult } from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import type { GrantInfo, ServerRecord, VaultData } from '../types.js';
import type { ManagerContext } from './context.js';
import { authFromVault, type MachinePlan, obtain } from './grants-obtain.js';
import { grantLabel, grantKindOf } from './grants-view.js';
import { appendActivity, recordRenewal } from './records.js';

type TokenSecrets = VaultData['secrets']['tokens'][string];

/** OAuth errors that mean the grant itself is refused: reported, never retried. */
const REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'unsupported_grant_type', 'access_denied']);

/** The error for a machine grant that can no longer get tokens, in words that say what to fix. */
export function machineReauthError(r: ServerRecord): UserError {
  const kind = grantKindOf(r);
  const label = grantLabel(kind, r.idp);
  const relink =
    kind === 'client_credentials'
      ? `mcp-tokens link ${r.url} --grant client-credentials --client-id ID (--client-secret-file F | --client-key-file KEY.pem)`
      : kind === 'jwt_bearer'
        ? `mcp-tokens link ${r.url} --assertion-file ${r.assertionFile ?? 'F'} --grant jwt-bearer`
        : `mcp-tokens link ${r.url} --idp ${r.idp ?? '<name>'} --client-id ID`;
  const what = `'${r.name}' (${label.toLowerCase()})`;
  const message = r.state.reason === 'revoked' ? `${what} was signed out.` : `${what} can no longer get tokens${r.state.detail ? `: ${r.state.detail}` : '.'}`;
  return new UserError('needs-reauth', message, `Fix the credentials, then link it again: ${relink}`);
}

export function isRefusal(e: OAuthWireError): boolean {
  return e.kind === 'dead-grant' || (e.oauthError !== undefined && REFUSALS.has(e.oauthError));
}

/** Gets a new token for a machine grant when `stillNeeded` holds; 'not-needed' when another caller already did. */
export async function renewMachine(
  ctx: ManagerContext,
  id: string,
  stillNeeded: (r: ServerRecord, s: TokenSecrets | undefined) => boolean,
  cause: NonNullable<GrantInfo['lastRefreshCause']>,
): Promise<'refreshed' | 'not-needed'> {
  const data = await ctx.d.vault.read();
  const r = data.servers[id];
  if (!r) throw new UserError('not-found', `No linked server "${id}".`);
  if (r.state.status === 'needs-reauth') throw machineReauthError(r);
  const sec = data.secrets.tokens[id];
  if (!stillNeeded(r, sec)) return 'not-needed';
  const before = sec?.accessToken;
  const plan: MachinePlan = {
    kind: grantKindOf(r) as MachinePlan['kind'],
    as: r.asMetadata,
    auth: authFromVault(data, data.clients[r.clientKey]),
    resource: r.resource,
    scopes: r.grant?.scope ?? r.requestedScopes,
    ...(r.assertionFile ? { assertionFile: r.assertionFile } : {}),
    ...(r.idp ? { idp: r.idp } : {}),
  };
  let result: TokenResult | undefined;
  let failure: unknown;
  try {
    result = await obtain(ctx, plan);
  } catch (err) {
    failure = err;
  }
  const refused = failure instanceof OAuthWireError && isRefusal(failure);
  await ctx.d.vault.update((d) => {
    const cur = d.servers[id];
    // Re-linked, signed out or unlinked meanwhile, or another caller renewed: what is stored now wins.
    if (!cur || d.secrets.tokens[id]?.accessToken !== before) return;
    const now = ctx.d.clock.now();
    if (result) {
      d.secrets.tokens[id] = { accessToken: result.accessToken };
      recordRenewal(cur, result, now, cause, false);
      return;
    }
    const message = failure instanceof Error ? failure.message : String(failure);
    if (refused) cur.state = { status: 'needs-reauth', reason: 'rejected', detail: message };
    // An IdP whose session ended is recorded on the IdP profile (one prompt for all its servers), not here.
    else if (!(failure instanceof UserError && failure.code === 'needs-reauth')) cur.state = { ...cur.state, lastError: { at: now, message } };
    cur.activity = appendActivity(cur.activity, { at: now, kind: 'refresh-failed', detail: message });
  });
  if (failure) {
    if (refused) {
      const d = await ctx.d.vault.read();
      if (d.servers[id]) throw machineReauthError(d.servers[id]);
    }
    throw failure;
  }
  return 'refreshed';
}
