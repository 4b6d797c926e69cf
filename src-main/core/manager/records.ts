// Small pure helpers over vault records, shared by the manager's parts.
import type * as wire from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import type { HeaderSpec } from '../platform/custom-headers.js';
import type { ActivityEntry, ServerRecord, VaultData } from '../types.js';

const MAX_ACTIVITY = 200;
/** Activity is kept this long (and at most MAX_ACTIVITY entries per server). */
export const ACTIVITY_KEEP_MS = 30 * 24 * 60 * 60_000;

export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UserError('usage', `"${raw.slice(0, 200)}" is not a URL.`, 'Give the full server URL, e.g. https://mcp.example.com/mcp');
  }
  u.hash = '';
  return u.href;
}

export function findServer(data: VaultData, idOrUrl: string): ServerRecord {
  // An unknown id is "not linked", not "not a URL": only a string that parses as one is compared as a URL.
  const asUrl = URL.canParse(idOrUrl.trim()) ? normalizeUrl(idOrUrl) : undefined;
  const rec = data.servers[idOrUrl] ?? Object.values(data.servers).find((s) => s.url === idOrUrl || (asUrl !== undefined && s.url === asUrl));
  if (!rec) {
    const known = Object.keys(data.servers);
    throw new UserError('not-found', `No linked server "${idOrUrl}".`, known.length ? `Linked: ${known.join(', ')}.` : 'Link one with `mcp-tokens link <url>`.');
  }
  return rec;
}

export function storeHeaders(d: VaultData, rec: ServerRecord, list: HeaderSpec[]): void {
  d.secrets.headers ??= {};
  if (list.length) {
    rec.headers = list.map((h) => h.name);
    d.secrets.headers[rec.id] = list.map((h) => ({ name: h.name, value: h.value }));
  } else {
    delete rec.headers;
    delete d.secrets.headers[rec.id];
  }
}

/** Drops a client registration no linked server (other than `except`) uses any more. */
export function forgetUnusedClient(d: VaultData, key: string, except?: string): void {
  if (Object.values(d.servers).some((s) => s.clientKey === key && s.id !== except)) return;
  delete d.clients[key];
  delete d.secrets.clients[key];
}

export function grantFrom(t: wire.TokenResult, requested: string[], now: number, refreshCount: number) {
  return {
    scope: t.scope !== undefined ? t.scope.split(/\s+/).filter(Boolean) : requested,
    tokenType: t.tokenType,
    ...(t.expiresIn !== undefined ? { expiresAt: now + t.expiresIn * 1000 } : {}),
    hasRefreshToken: Boolean(t.refreshToken),
    obtainedAt: now,
    refreshCount,
  } as NonNullable<ServerRecord['grant']>;
}

/**
 * Records a renewed token on the server: the new grant (counted, keeping when it was first
 * obtained), state ok, and a 'refreshed' activity line. Used by every kind of renewal.
 */
export function recordRenewal(r: ServerRecord, result: wire.TokenResult, now: number, cause: NonNullable<ServerRecord['grant']>['lastRefreshCause'], hasRefreshToken: boolean): void {
  const g = grantFrom(result, r.grant?.scope ?? r.requestedScopes, now, (r.grant?.refreshCount ?? 0) + 1);
  g.hasRefreshToken = hasRefreshToken;
  g.lastRefreshAt = now;
  g.lastRefreshCause = cause;
  g.obtainedAt = r.grant?.obtainedAt ?? now;
  r.grant = g;
  r.state = { status: 'ok' };
  r.updatedAt = now;
  r.activity = appendActivity(r.activity, { at: now, kind: 'refreshed', ...(cause === 'rejected' ? { detail: 'the server rejected the previous token' } : {}) });
}

export function secretTokens(t: wire.TokenResult) {
  return { accessToken: t.accessToken, ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}), ...(t.idToken ? { idToken: t.idToken } : {}) };
}

export function appendActivity(list: ActivityEntry[], e: ActivityEntry): ActivityEntry[] {
  return [...list, e].filter((x) => e.at - x.at <= ACTIVITY_KEEP_MS).slice(-MAX_ACTIVITY);
}
