// The token lifecycle: hand out a valid token, refresh ahead of expiry or after the resource
// server rejects one (compare-and-refresh across processes), and mark a grant for re-authorization.
import { randomUUID } from 'node:crypto';
import { dpopHandle } from '../oauth/dpop.js';
import * as wire from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import type { GrantInfo, NeedsReauthReason, ServerRecord, VaultData } from '../types.js';
import { isPidDead } from '../vault/fs.js';
import { VaultWriteError } from '../vault/vault.js';
import type { ManagerContext } from './context.js';
import { dpopKeyOf } from './dpop.js';
import { isMachineGrant } from './grants-view.js';
import { machineReauthError, renewMachine } from './grants-renew.js';
import { appendActivity, findServer, recordRenewal } from './records.js';
import { minValidityMs, needsRefresh, tokenLifetimeMs } from './status.js';
import { type ServerView, status } from './views.js';

/** A token obtained by refreshing after a 401 and rejected again this soon means the grant is not accepted. */
const REJECTED_AGAIN_WINDOW_MS = 30_000;
/** How long to wait for another process's refresh of the same grant, and how often. */
const OTHER_REFRESH_WAIT_MS = 20_000;
const OTHER_REFRESH_ROUNDS = 2;

type TokenSecrets = VaultData['secrets']['tokens'][string];

/** A token handed out: its expiry, and `dpop` when it is DPoP-bound (sent with a proof the broker signs). */
export interface IssuedToken {
  accessToken: string;
  expiresAt?: number;
  dpop?: true;
}

function issued(r: ServerRecord, accessToken: string): IssuedToken {
  const bound = r.dpop?.mode === 'bound' && r.grant?.tokenType.toLowerCase() === 'dpop';
  return { accessToken, ...(r.grant?.expiresAt !== undefined ? { expiresAt: r.grant.expiresAt } : {}), ...(bound ? { dpop: true as const } : {}) };
}
type RefreshCause = NonNullable<GrantInfo['lastRefreshCause']>;
type RefreshOutcome = 'refreshed' | 'not-needed' | 'no-refresh-token';

export function reauthError(r: ServerRecord): UserError {
  if (isMachineGrant(r)) return machineReauthError(r);
  const why = r.state.reason === 'revoked' ? 'was revoked' : r.state.reason === 'more-scope' ? 'needs more permissions' : r.state.reason === 'rejected' ? 'is no longer accepted by the server' : 'has expired';
  return new UserError('needs-reauth', `Sign-in for '${r.name}' ${why}: re-authorize it in MCP Token Manager (tray → Re-authorize) or run \`mcp-tokens link ${r.url}\`.`, r.state.detail);
}

/** Marks a server as needing re-authorization (e.g. the resource server rejected a fresh token). */
export async function markNeedsReauth(ctx: ManagerContext, id: string, reason: NeedsReauthReason, detail: string): Promise<void> {
  await ctx.d.vault.update((d) => {
    const r = d.servers[id];
    if (!r) return;
    if (r.state.status !== 'needs-reauth') r.activity = appendActivity(r.activity, { at: ctx.d.clock.now(), kind: 'rejected', detail });
    r.state = { status: 'needs-reauth', reason, detail };
    r.updatedAt = ctx.d.clock.now();
  });
}

/**
 * A token valid for at least `minValidityS`, refreshing if needed. Compare-and-refresh:
 * if another process already refreshed, its token is used and the AS is not called again.
 * Without a refresh token, a token that is still valid is handed out as it is.
 */
export async function getToken(ctx: ManagerContext, id: string, minValidityS = 60, refreshAheadS = 0): Promise<IssuedToken> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  const sec = data.secrets.tokens[rec.id];
  const now = ctx.d.clock.now();
  const minMs = (r: ServerRecord) => minValidityMs(minValidityS * 1000, refreshAheadS * 1000, tokenLifetimeMs(r.grant));
  if (rec.state.status === 'ok' && sec?.accessToken && !needsRefresh(rec.grant?.expiresAt, now, minMs(rec))) {
    return issued(rec, sec.accessToken);
  }
  const outcome = await refreshIf(ctx, rec.id, (r, s) => !s?.accessToken || needsRefresh(r.grant?.expiresAt, ctx.d.clock.now(), minMs(r)), 'expiry');
  const after = await ctx.d.vault.read();
  const r = after.servers[rec.id]!;
  const tok = after.secrets.tokens[rec.id];
  const expired = r.grant?.expiresAt !== undefined && r.grant.expiresAt <= ctx.d.clock.now();
  if (outcome === 'no-refresh-token' && tok?.accessToken && expired) {
    throw reauthError({ ...r, state: { status: 'needs-reauth', reason: 'expired', detail: 'The access token expired and this server gave no refresh token.' } });
  }
  if (!tok?.accessToken || r.state.status !== 'ok') throw reauthError(r);
  return issued(r, tok.accessToken);
}

/**
 * The stored token when it is still valid, without refreshing: what a caller that must not wait
 * for (or start) a refresh may use. Undefined when there is none.
 */
export async function peekToken(ctx: ManagerContext, id: string): Promise<IssuedToken | undefined> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  const sec = data.secrets.tokens[rec.id];
  const exp = rec.grant?.expiresAt;
  if (rec.state.status !== 'ok' || !sec?.accessToken || (exp !== undefined && exp <= ctx.d.clock.now())) return undefined;
  return issued(rec, sec.accessToken);
}

/**
 * The resource server answered 401 to `token`. Compare-and-refresh: one refresh per rejected
 * current token, whatever its age (servers drop live tokens on restarts and key rotations).
 * Only when the token obtained by that refresh is rejected too, or the AS refuses the refresh
 * token, is the server marked for re-authorization: at most one refresh per incident, no loop.
 */
export async function reportRejected(ctx: ManagerContext, id: string, token: string): Promise<IssuedToken> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  if (rec.state.status === 'needs-reauth') throw reauthError(rec);
  const cur = data.secrets.tokens[rec.id];
  const now = ctx.d.clock.now();
  const g = rec.grant;
  if (cur?.accessToken === token && g?.lastRefreshCause === 'rejected' && g.lastRefreshAt !== undefined && now - g.lastRefreshAt < REJECTED_AGAIN_WINDOW_MS) {
    await markNeedsReauth(ctx, rec.id, 'rejected', 'The server rejected the token obtained by refreshing after its previous rejection: it does not accept this grant.');
    throw reauthError((await ctx.d.vault.read()).servers[rec.id]!);
  }
  const outcome = await refreshIf(ctx, rec.id, (_r, s) => s?.accessToken === token, 'rejected');
  if (outcome === 'no-refresh-token') {
    await markNeedsReauth(ctx, rec.id, 'rejected', 'The server rejected the token, and it gave no refresh token to get another.');
  }
  const after = await ctx.d.vault.read();
  const r = after.servers[rec.id]!;
  const tok = after.secrets.tokens[rec.id];
  if (!tok?.accessToken || r.state.status !== 'ok' || tok.accessToken === token) {
    if (r.state.status === 'ok') await markNeedsReauth(ctx, rec.id, 'rejected', 'The server rejected the token and no newer one could be obtained.');
    throw reauthError((await ctx.d.vault.read()).servers[rec.id]!);
  }
  return issued(r, tok.accessToken);
}

/**
 * Refresh now (`mcp-tokens refresh`). A grant without a refresh token is left as it is, with a
 * note saying until when its token is valid.
 */
export async function refresh(ctx: ManagerContext, id: string): Promise<ServerView & { note?: string }> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, id);
  const before = data.secrets.tokens[rec.id]?.accessToken;
  const outcome = await refreshIf(ctx, rec.id, (_r, s) => s?.accessToken === before, 'manual');
  const view = await status(ctx, rec.id);
  if (outcome !== 'no-refresh-token') return view;
  const exp = rec.grant?.expiresAt;
  if (exp !== undefined && exp <= ctx.d.clock.now()) {
    throw new UserError('needs-reauth', `'${rec.name}' gave no refresh token, and its access token expired at ${new Date(exp).toISOString()}.`, `Re-authorize it: mcp-tokens link ${rec.url}`);
  }
  const until = exp !== undefined ? `is valid until ${new Date(exp).toISOString()}` : 'has no stated expiry';
  return { ...view, note: `This server gave no refresh token; the current token ${until}; re-authorize after that (mcp-tokens link ${rec.url}).` };
}

/**
 * Refreshes when `stillNeeded` holds on the freshest data. No network under the vault lock:
 * the intent is recorded under the lock, the AS is called without it, and the answer is
 * written under the lock only if the refresh token used is still the stored one
 * (compare-and-swap). A rotated refresh token is saved before any token is handed out.
 */
async function refreshIf(ctx: ManagerContext, id: string, stillNeeded: (r: ServerRecord, s: TokenSecrets | undefined) => boolean, cause: RefreshCause): Promise<RefreshOutcome> {
  // One refresh of a grant at a time in this process, whoever asks: two at once would present
  // the same refresh token, which a rotating AS takes as theft and answers by killing the grant.
  // The pending record below only guards against other processes.
  for (let cur = ctx.refreshing.get(id); cur; cur = ctx.refreshing.get(id)) await cur.catch(() => {});
  const run = refreshIfAlone(ctx, id, stillNeeded, cause);
  ctx.refreshing.set(id, run);
  try {
    return await run;
  } finally {
    if (ctx.refreshing.get(id) === run) ctx.refreshing.delete(id);
  }
}

async function refreshIfAlone(ctx: ManagerContext, id: string, stillNeeded: (r: ServerRecord, s: TokenSecrets | undefined) => boolean, cause: RefreshCause): Promise<RefreshOutcome> {
  const opId = randomUUID();
  let plan: { refreshToken: string; config: ReturnType<typeof wire.makeConfig>; resource: string; dpopKey: ReturnType<typeof dpopKeyOf> } | undefined;
  // Phase 1, under the lock: decide, and record the intent (a crash after the AS's answer is reported next start).
  for (let round = 0; ; round++) {
    const step = await ctx.d.vault.update((d): RefreshOutcome | 'wait' | 'go' | 'machine' => {
      const r = d.servers[id];
      if (!r) throw new UserError('not-found', `No linked server "${id}".`);
      if (r.state.status === 'needs-reauth') throw reauthError(r);
      const sec = d.secrets.tokens[id];
      if (!stillNeeded(r, sec)) return 'not-needed';
      // Grants no person approves are renewed from the grant itself (grants-renew.ts).
      if (isMachineGrant(r)) return 'machine';
      if (!sec?.refreshToken) return 'no-refresh-token';
      const now = ctx.d.clock.now();
      // Another live process (a CLI without a broker) is refreshing this grant: wait for its answer.
      if (round < OTHER_REFRESH_ROUNDS && d.pending.some((p) => p.op === 'refresh' && p.serverId === id && p.pid !== process.pid && now - p.startedAt < OTHER_REFRESH_WAIT_MS && !isPidDead(p.pid))) return 'wait';
      const client = d.clients[r.clientKey];
      if (!client) {
        r.state = { status: 'needs-reauth', reason: 'rejected', detail: 'The client registration is missing.' };
        return 'not-needed';
      }
      const secret = d.secrets.clients[client.key]?.clientSecret;
      plan = { refreshToken: sec.refreshToken, config: wire.makeConfig(r.asMetadata, { record: client, ...(secret ? { clientSecret: secret } : {}) }), resource: r.resource, dpopKey: dpopKeyOf(d, id) };
      d.pending.push({ id: opId, op: 'refresh', serverId: id, startedAt: now, pid: process.pid });
      return 'go';
    });
    if (step === 'go') break;
    if (step === 'machine') return renewMachine(ctx, id, stillNeeded, cause);
    if (step !== 'wait') {
      if (step === 'not-needed') {
        const r = (await ctx.d.vault.read()).servers[id];
        if (r?.state.status === 'needs-reauth') throw reauthError(r);
      }
      return step;
    }
    await waitForOtherRefresh(ctx, id);
  }
  const { refreshToken, config, resource, dpopKey } = plan!;
  // Phase 2, without the lock: the token endpoint (bounded by the wire's own timeout).
  let result: wire.TokenResult | undefined;
  let failure: wire.OAuthWireError | undefined;
  try {
    // A bound grant refreshes with a proof of its key: the AS bound the refresh token to it too.
    result = await wire.refresh(config, refreshToken, resource, dpopKey ? await dpopHandle(config, dpopKey) : undefined);
  } catch (err) {
    failure = wire.wireError(err, 'refreshing the token');
  }
  // Phase 3, under the lock: compare-and-swap, then clear the intent.
  await ctx.d.vault.update((d) => {
    d.pending = d.pending.filter((p) => p.id !== opId);
    const r = d.servers[id];
    const sec = d.secrets.tokens[id];
    // Re-linked, revoked or unlinked meanwhile: what is stored now wins.
    if (!r || sec?.refreshToken !== refreshToken) {
      ctx.d.logger.log('warn', `the grant of ${id} changed while refreshing; the answer was not used`);
      return;
    }
    const now = ctx.d.clock.now();
    if (result) {
      // Keep the old refresh token when the AS does not rotate it.
      d.secrets.tokens[id] = { accessToken: result.accessToken, refreshToken: result.refreshToken ?? refreshToken, ...(result.idToken ? { idToken: result.idToken } : {}) };
      recordRenewal(r, result, now, cause, true);
      return;
    }
    const e = failure!;
    if (e.kind === 'dead-grant') {
      r.state = { status: 'needs-reauth', reason: e.oauthError === 'invalid_grant' ? 'expired' : 'rejected', detail: e.message };
    } else {
      r.state = { ...r.state, lastError: { at: now, message: e.message } };
    }
    r.activity = appendActivity(r.activity, { at: now, kind: 'refresh-failed', detail: e.message });
  }).catch((err: unknown) => {
    if (result && err instanceof VaultWriteError) {
      throw new UserError(
        'vault',
        `The authorization server issued new tokens for "${id}", but they could not be saved: ${err.message}`,
        'The previous grant is still in the vault. If the next refresh is refused (the server may have rotated the refresh token), re-authorize this server.',
        { cause: err },
      );
    }
    throw err;
  });
  if (failure) {
    if (failure.kind === 'dead-grant') {
      const d = await ctx.d.vault.read();
      if (d.servers[id]) throw reauthError(d.servers[id]);
    }
    throw failure;
  }
  return 'refreshed';
}

/** Waits (bounded) until another process's recorded refresh of this grant has finished. */
async function waitForOtherRefresh(ctx: ManagerContext, id: string): Promise<void> {
  const deadline = Date.now() + OTHER_REFRESH_WAIT_MS;
  while (Date.now() < deadline) {
    const d = await ctx.d.vault.read();
    if (!d.pending.some((p) => p.op === 'refresh' && p.serverId === id && p.pid !== process.pid && !isPidDead(p.pid))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
