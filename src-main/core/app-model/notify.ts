// Which system notifications to show when the servers change. One notification per incident:
// an incident starts when a server enters needs-reauth and ends when it leaves (re-authorized,
// unlinked); a server that stays broken is not announced again, however often the list updates.
import type { ServerSummary } from '../../../src-shared/contract.js';
import type { TrayAction } from './tray.js';
import { displayName, idpToSignIn } from './tray.js';

export interface AppNotification {
  /** Stable per incident, so a host can replace rather than stack a notification. */
  tag: string;
  title: string;
  body: string;
  /** What a click does. */
  action: TrayAction;
}

export interface NotifyResult {
  notifications: AppNotification[];
  /** The incidents announced so far, to pass back in next time. */
  notified: Set<string>;
}

/** Past this many at once, one summary instead of a burst. */
export const MAX_SEPARATE_NOTIFICATIONS = 3;

const REASON: Record<NonNullable<ServerSummary['reason']>, string> = {
  revoked: 'Access was revoked at the authorization server.',
  expired: 'The sign-in expired.',
  rejected: 'The server no longer accepts the token.',
  'more-scope': 'The server asks for more permissions.',
  'never-linked': 'It was never signed in.',
};

function one(s: ServerSummary): AppNotification {
  const why = s.reason ? REASON[s.reason] : 'The sign-in no longer works.';
  return {
    tag: `reauth:${s.id}`,
    title: `${displayName(s.name)} needs you to sign in again`,
    body: `${why} Click to sign in again; waiting MCP clients resume when you are done.`,
    action: { kind: 'reauthorize', id: s.id },
  };
}

function summary(servers: ServerSummary[]): AppNotification {
  const names = servers.slice(0, 3).map((s) => displayName(s.name));
  const more = servers.length > names.length ? ` and ${servers.length - names.length} more` : '';
  return {
    tag: 'reauth:several',
    title: `${servers.length} servers need you to sign in again`,
    body: `${names.join(', ')}${more}. Open MCP Token Manager to sign in again.`,
    action: { kind: 'open' },
  };
}

/**
 * `prev` undefined means the first look after start: servers already broken then are announced
 * together in one notification (the person was away), never one by one.
 */
export function notificationsFor(prev: ServerSummary[] | undefined, next: ServerSummary[], alreadyNotified: ReadonlySet<string>): NotifyResult {
  const broken = next.filter((s) => s.status === 'needs-reauth');
  const brokenIds = new Set(broken.map((s) => s.id));
  // An incident that ended (fixed or unlinked) is forgotten, so the next failure is news again.
  const notified = new Set([...alreadyNotified].filter((id) => brokenIds.has(id)));
  const before = new Set(notified);
  const all = broken.filter((s) => !notified.has(s.id));
  for (const s of all) notified.add(s.id);
  // Servers waiting on a company IdP whose session ended: one notification per IdP, and none
  // when that IdP was already announced (one sign-in there serves them all).
  const idps = new Map<string, ServerSummary[]>();
  for (const s of all) {
    const idp = idpToSignIn(s);
    if (idp !== undefined) idps.set(idp, [...(idps.get(idp) ?? []), s]);
  }
  const idpNotes = [...idps]
    .filter(([idp]) => !broken.some((b) => before.has(b.id) && idpToSignIn(b) === idp))
    .map(([idp, list]) => idpNotification(idp, list));
  const fresh = all.filter((s) => idpToSignIn(s) === undefined);

  if (fresh.length <= 1) return { notifications: [...idpNotes, ...fresh.map(one)], notified };
  if (prev === undefined || fresh.length > MAX_SEPARATE_NOTIFICATIONS) return { notifications: [...idpNotes, summary(fresh)], notified };
  return { notifications: [...idpNotes, ...fresh.map(one)], notified };
}

function idpNotification(idp: string, servers: ServerSummary[]): AppNotification {
  const names = servers.slice(0, 3).map((s) => displayName(s.name));
  const more = servers.length > names.length ? ` and ${servers.length - names.length} more` : '';
  return {
    tag: `idp:${idp}`,
    title: `Sign in to ${displayName(idp)}`,
    body: `Your company sign-in has ended. ${names.join(', ')}${more} wait${servers.length === 1 ? 's' : ''} for it; one sign-in brings them all back.`,
    action: { kind: 'reauthorize', id: servers[0]!.id },
  };
}
