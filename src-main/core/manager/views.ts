// What anyone outside the broker may see of the servers (never a token), their headers, and
// the activity log.
import { checkHeaders, maskHeaderValue, type HeaderSpec } from '../platform/custom-headers.js';
import type { ActivityEntry, ClientRecord, FlowKind, NeedsReauthReason, ServerRecord, VaultData } from '../types.js';
import type { ManagerContext } from './context.js';
import { dpopView } from './dpop.js';
import { ACTIVITY_KEEP_MS, appendActivity, findServer, storeHeaders } from './records.js';
import { type GrantView, grantView, machineStatus } from './grants-view.js';
import { expiringWindowMs, serverStatus, type ServerStatus, tokenLifetimeMs } from './status.js';

/** A client using a server again within this window is not a new activity entry. */
const USE_ACTIVITY_MS = 60 * 60_000;

/** What anyone outside the broker may see of a server: never a token. */
export interface ServerView {
  id: string;
  name: string;
  url: string;
  resource: string;
  issuer: string;
  status: ServerStatus['status'];
  reason?: NeedsReauthReason;
  detail?: string;
  scopes: string[];
  expiresAt?: string;
  hasRefreshToken: boolean;
  lastRefreshAt?: string;
  registration: { method: ClientRecord['method'] | 'unknown'; clientId?: string };
  flow: FlowKind;
  secretsKeptIn: string;
  secretsWeak: boolean;
  lastError?: string;
  activity: ActivityEntry[];
  /** Per-server headers, literal values masked. */
  headers?: HeaderSpec[];
  lastUsed?: { client: string; at: number };
  /** DPoP (RFC 9449): bound to a key (its RFC 7638 thumbprint), or turned off by the person. */
  dpop?: { bound: boolean; thumbprint?: string; off?: true };
  /** How the server is signed in (grants-view.ts): never a secret. */
  grant: GrantView;
}

export function serverView(ctx: ManagerContext, data: VaultData, r: ServerRecord): ServerView {
  const hasToken = Boolean(data.secrets.tokens[r.id]?.accessToken);
  const now = ctx.d.clock.now();
  const st = machineStatus(data, r, hasToken, now, expiringWindowMs(tokenLifetimeMs(r.grant))) ?? serverStatus(r, hasToken, now);
  const client = data.clients[r.clientKey];
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    resource: r.resource,
    issuer: r.issuer,
    status: st.status,
    ...(st.reason ? { reason: st.reason } : {}),
    ...(st.detail ? { detail: st.detail } : {}),
    scopes: r.grant?.scope ?? r.requestedScopes,
    ...(r.grant?.expiresAt !== undefined ? { expiresAt: new Date(r.grant.expiresAt).toISOString() } : {}),
    hasRefreshToken: Boolean(r.grant?.hasRefreshToken && data.secrets.tokens[r.id]?.refreshToken),
    ...(r.grant?.lastRefreshAt !== undefined ? { lastRefreshAt: new Date(r.grant.lastRefreshAt).toISOString() } : {}),
    registration: client ? { method: client.method, clientId: client.clientId } : { method: 'unknown' },
    flow: r.flow,
    secretsKeptIn: ctx.d.cipher.description,
    secretsWeak: ctx.d.cipher.weak,
    ...(r.state.lastError ? { lastError: r.state.lastError.message } : {}),
    activity: r.activity.slice(-10),
    ...(r.headers?.length ? { headers: (data.secrets.headers?.[r.id] ?? []).map((h) => ({ name: h.name, value: maskHeaderValue(h.value) })) } : {}),
    ...(r.lastUsed ? { lastUsed: r.lastUsed } : {}),
    ...withDpop(data, r),
    grant: grantView(r),
  };
}

function withDpop(d: VaultData, r: ServerRecord): Pick<ServerView, 'dpop'> {
  const v = dpopView(d, r);
  return v ? { dpop: v } : {};
}

export async function list(ctx: ManagerContext): Promise<ServerView[]> {
  const data = await ctx.d.vault.read();
  return Object.values(data.servers)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => serverView(ctx, data, r));
}

export async function status(ctx: ManagerContext, id: string): Promise<ServerView> {
  const data = await ctx.d.vault.read();
  return serverView(ctx, data, findServer(data, id));
}

/** Finds a server by id or URL without throwing. */
export async function lookup(ctx: ManagerContext, idOrUrl: string): Promise<ServerView | undefined> {
  const data = await ctx.d.vault.read();
  try {
    return serverView(ctx, data, findServer(data, idOrUrl));
  } catch {
    return undefined;
  }
}

/** The headers as written, for the bridge (through the broker) to expand and send. */
export async function headersFor(ctx: ManagerContext, idOrUrl: string): Promise<HeaderSpec[]> {
  const data = await ctx.d.vault.read();
  const rec = findServer(data, idOrUrl);
  return rec.headers?.length ? (data.secrets.headers?.[rec.id] ?? []) : [];
}

/** Replaces a server's headers (an empty list removes them). */
export async function setHeaders(ctx: ManagerContext, idOrUrl: string, headers: HeaderSpec[]): Promise<ServerView> {
  const list = checkHeaders(headers);
  return ctx.d.vault.update((d) => {
    const rec = findServer(d, idOrUrl);
    storeHeaders(d, rec, list);
    rec.updatedAt = ctx.d.clock.now();
    return serverView(ctx, d, rec);
  });
}

/** Records that an MCP client asked for a token (no secret: the client's name and the time). */
export async function recordUse(ctx: ManagerContext, id: string, client: string): Promise<void> {
  const now = ctx.d.clock.now();
  await ctx.d.vault.update((d) => {
    const r = d.servers[id];
    if (!r) return;
    const prev = r.lastUsed;
    r.lastUsed = { client, at: now };
    if (!prev || prev.client !== client || now - prev.at > USE_ACTIVITY_MS) r.activity = appendActivity(r.activity, { at: now, kind: 'used', client });
  });
}

/** Every server's activity within the kept window, newest first. */
export async function activity(ctx: ManagerContext): Promise<Array<ActivityEntry & { serverId: string; serverName: string }>> {
  const data = await ctx.d.vault.read();
  const since = ctx.d.clock.now() - ACTIVITY_KEEP_MS;
  return Object.values(data.servers)
    .flatMap((r) => r.activity.filter((a) => a.at >= since).map((a) => ({ ...a, serverId: r.id, serverName: r.name })))
    .sort((a, b) => b.at - a.at);
}
