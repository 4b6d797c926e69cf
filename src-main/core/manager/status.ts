// Pure decisions about a server's state; shared by the CLI, the broker and the app.
import type { NeedsReauthReason, ServerRecord } from '../types.js';

export type StatusName = 'ok' | 'expiring' | 'needs-reauth';

export interface ServerStatus {
  status: StatusName;
  reason?: NeedsReauthReason;
  detail?: string;
}

/** The longest "expiring" window: 5 minutes before expiry. */
export const EXPIRING_WINDOW_MS = 5 * 60_000;

/**
 * How long before expiry a token counts as "expiring": 5 minutes, but never more than half its
 * lifetime, so a 5-minute token (Keycloak's default) is not "expiring" the moment it is issued.
 */
export function expiringWindowMs(lifetimeMs: number | undefined, maxMs = EXPIRING_WINDOW_MS): number {
  return lifetimeMs !== undefined && lifetimeMs > 0 ? Math.min(maxMs, lifetimeMs / 2) : maxMs;
}

/** The lifetime of the current access token, as issued (from its last refresh, else the grant). */
export function tokenLifetimeMs(g: ServerRecord['grant']): number | undefined {
  return g?.expiresAt !== undefined ? g.expiresAt - (g.lastRefreshAt ?? g.obtainedAt) : undefined;
}

export function serverStatus(rec: ServerRecord, hasAccessToken: boolean, now: number, windowMs = expiringWindowMs(tokenLifetimeMs(rec.grant))): ServerStatus {
  if (rec.state.status === 'needs-reauth') {
    return { status: 'needs-reauth', ...(rec.state.reason ? { reason: rec.state.reason } : {}), ...(rec.state.detail ? { detail: rec.state.detail } : {}) };
  }
  if (!hasAccessToken || !rec.grant) return { status: 'needs-reauth', reason: 'never-linked' };
  const exp = rec.grant.expiresAt;
  if (exp !== undefined && exp <= now && !rec.grant.hasRefreshToken) {
    return { status: 'needs-reauth', reason: 'expired', detail: 'The access token expired and there is no refresh token.' };
  }
  if (exp !== undefined && exp - now <= windowMs) return { status: 'expiring' };
  return { status: 'ok' };
}

/** Whether a token must be refreshed before use, given how long the caller needs it to live. */
export function needsRefresh(expiresAt: number | undefined, now: number, minValidityMs: number): boolean {
  if (expiresAt === undefined) return false;
  return expiresAt - now <= minValidityMs;
}

/**
 * How much validity a token must have left before it is handed out without a refresh: what the
 * caller asks, or the "refresh ahead" setting, whichever is more, but never more than half the
 * token's lifetime (tokens shorter-lived than that would otherwise be refreshed on every request).
 */
export function minValidityMs(requestedMs: number, aheadMs: number, lifetimeMs: number | undefined): number {
  const wanted = Math.max(requestedMs, aheadMs);
  return lifetimeMs !== undefined && lifetimeMs > 0 ? Math.min(wanted, lifetimeMs / 2) : wanted;
}

/** A stable, readable id from a name or URL: "linear" for https://mcp.linear.app/mcp. */
export function suggestId(url: string, name?: string): string {
  const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  if (name && slug(name)) return slug(name);
  const u = new URL(url);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === 'localhost' || u.hostname.startsWith('[')) {
    return slug(`local-${u.port || (u.protocol === 'https:' ? '443' : '80')}`);
  }
  const labels = u.hostname.split('.').filter((l) => !['mcp', 'api', 'www', 'app', 'server'].includes(l));
  const core = labels.length > 1 ? labels.slice(0, -1) : labels;
  return slug(core.join('-')) || 'server';
}

export function uniqueId(base: string, taken: (id: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 2; i < 1000; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
  return `${base}-${Date.now()}`;
}
