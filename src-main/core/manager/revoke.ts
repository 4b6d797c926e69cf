// Signing out (revoke at the AS, RFC 7009, then delete here) and unlinking (sign out, then forget).
import * as wire from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import type { ManagerContext } from './context.js';
import { forgetDpopKey } from './dpop.js';
import { appendActivity, findServer, forgetUnusedClient } from './records.js';
import { type ServerView, serverView } from './views.js';

export interface RevokeOutcome {
  view: ServerView;
  revokedAtAs: Array<'refresh_token' | 'access_token'>;
  note?: string;
  /** What the AS answered when it did not confirm a revocation, as it said it. */
  asAnswer?: string;
}

/**
 * Signs out: asks the AS to revoke (RFC 7009), then deletes the tokens here whatever it
 * answered. A refusal or an AS that cannot be reached is reported (`note`, `asAnswer`), not
 * fatal: the tokens then stay valid there until they expire.
 */
export async function revoke(ctx: ManagerContext, id: string): Promise<RevokeOutcome> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  const sec = data.secrets.tokens[rec.id];
  const revoked: RevokeOutcome['revokedAtAs'] = [];
  let note: string | undefined;
  let asAnswer: string | undefined;
  const until = rec.grant?.expiresAt ? ` (the access token until ${new Date(rec.grant.expiresAt).toISOString()})` : '';
  if (sec) {
    const client = data.clients[rec.clientKey];
    if (rec.asMetadata.revocation_endpoint && client) {
      const secret = data.secrets.clients[client.key]?.clientSecret;
      const config = wire.makeConfig(rec.asMetadata, { record: client, ...(secret ? { clientSecret: secret } : {}) });
      // Refresh token first: revoking it usually kills the whole grant (RFC 7009 §2.1).
      const todo: Array<[string, 'refresh_token' | 'access_token']> = sec.refreshToken ? [[sec.refreshToken, 'refresh_token'], [sec.accessToken, 'access_token']] : [[sec.accessToken, 'access_token']];
      for (const [token, hint] of todo) {
        try {
          await wire.revoke(config, token, hint);
          revoked.push(hint);
        } catch (err) {
          asAnswer ??= wire.revocationAnswer(err);
          // An AS that cannot be reached is not asked a second time.
          if (err instanceof wire.OAuthWireError && err.kind === 'transient') break;
        }
      }
      if (revoked.length) ctx.say(`Revoked the ${revoked.map((r) => r.replace('_', ' ')).join(' and ')} at ${rec.issuer}.`);
      if (asAnswer !== undefined && revoked.includes('refresh_token')) {
        // RFC 7009 §2.1: revoking the refresh token ends the grant. What may survive is only the
        // access token already issued (a JWT an AS cannot revoke, RFC 7009 §2.2.1), until it expires.
        const expiry = rec.grant?.expiresAt;
        const left = expiry !== undefined ? (expiry > ctx.d.clock.now() ? `it stays valid until ${new Date(expiry).toISOString()} and cannot be renewed` : `it expired at ${new Date(expiry).toISOString()}`) : 'it stays valid until it expires (the server gave no lifetime) and cannot be renewed';
        note = `The grant is ended at ${rec.issuer}: its refresh token was revoked. The authorization server did not revoke the current access token (${asAnswer}); ${left}. The tokens were deleted here.`;
        ctx.say(note);
      } else if (asAnswer !== undefined) {
        note = `The authorization server ${rec.issuer} did not confirm the revocation: ${asAnswer}. The tokens were deleted here, but the grant may stay valid there${until}. Revoke the app in the provider's account settings to end it.`;
        ctx.say(note);
      }
    } else {
      const why = client ? 'has no revocation endpoint' : 'cannot be asked (the client registration is missing)';
      note = `The authorization server ${rec.issuer} ${why}: the tokens were deleted here, but the grant stays valid there${until}. Revoke the app in the provider's account settings to end it.`;
      ctx.say(note);
    }
  } else {
    note = 'No tokens were stored for this server; nothing to revoke.';
    ctx.say(note);
  }
  const now = ctx.d.clock.now();
  const view = await ctx.d.vault.update((d) => {
    const r = d.servers[rec.id];
    if (!r) throw new UserError('not-found', `No linked server "${rec.id}".`);
    delete d.secrets.tokens[rec.id];
    // The key dies with the grant: a sign-in makes a new one.
    forgetDpopKey(d, rec.id);
    r.state = { status: 'needs-reauth', reason: 'revoked', detail: 'Revoked by you.' };
    if (r.grant) r.grant = { ...r.grant, hasRefreshToken: false };
    r.updatedAt = now;
    const detail = asAnswer !== undefined ? 'deleted here; the authorization server did not confirm' : note && sec ? 'no revocation endpoint' : undefined;
    r.activity = appendActivity(r.activity, { at: now, kind: 'revoked', ...(detail ? { detail } : {}) });
    return serverView(ctx, d, r);
  });
  return { view, revokedAtAs: revoked, ...(note ? { note } : {}), ...(asAnswer !== undefined ? { asAnswer } : {}) };
}

/** Revokes (see `revoke`: never fails on the AS's account), then forgets the server. */
export async function unlink(ctx: ManagerContext, id: string): Promise<{ id: string; revokedAtAs: RevokeOutcome['revokedAtAs']; note?: string; asAnswer?: string }> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  const out: Omit<RevokeOutcome, 'view'> = data.secrets.tokens[rec.id] ? await revoke(ctx, rec.id) : { revokedAtAs: [] };
  await ctx.d.vault.update((d) => {
    const r = d.servers[rec.id];
    if (!r) return;
    delete d.servers[rec.id];
    delete d.secrets.tokens[rec.id];
    if (d.secrets.headers) delete d.secrets.headers[rec.id];
    if (d.secrets.dpop) delete d.secrets.dpop[rec.id];
    // Forget the registration when no other linked server uses it.
    forgetUnusedClient(d, r.clientKey);
  });
  ctx.say(`Unlinked "${rec.id}".`);
  return { id: rec.id, revokedAtAs: out.revokedAtAs, ...(out.note ? { note: out.note } : {}), ...(out.asAnswer !== undefined ? { asAnswer: out.asAnswer } : {}) };
}
