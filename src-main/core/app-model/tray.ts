// What the tray shows, as plain data: the Electron glue only turns this model into a Tray
// and a Menu, so every decision about wording, order and attention is made (and tested) here.
import type { ServerSummary } from '../../../src-shared/contract.js';

export type TrayAction =
  | { kind: 'reauthorize'; id: string }
  /** Show the window; with an id, at that server. */
  | { kind: 'open'; id?: string }
  | { kind: 'quit' };

export type TrayItem =
  | { type: 'item'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'separator' };

export type TrayIconVariant = 'normal' | 'attention';

export interface TrayModel {
  tooltip: string;
  /** How many servers need the person; 0 means no badge. */
  badge: number;
  icon: TrayIconVariant;
  items: TrayItem[];
}

export interface TrayState {
  servers: ServerSummary[];
  now: number;
  /** Servers whose re-authorization the tray already started and that have not finished. */
  reauthorizing?: Iterable<string>;
}

export const APP_TITLE = 'MCP Token Manager';
/** Past this many servers the menu gets too tall to use; the window lists them all. */
export const MAX_TRAY_SERVERS = 15;
const MAX_NAME = 48;

/** One line, no control characters, bounded length: names come from the outside world. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  const s = clean === '' ? '(unnamed)' : clean;
  return s.length > MAX_NAME ? `${s.slice(0, MAX_NAME - 1)}…` : s;
}

export function needsAttention(s: ServerSummary): boolean {
  return s.status === 'needs-reauth';
}

/** The status chip words, the same the window uses: Connected, Expires in 4 min, Needs sign-in, Signed out. */
export function statusLabel(s: ServerSummary, now: number): string {
  if (s.status === 'needs-reauth') return s.reason === 'revoked' ? 'Signed out' : 'Needs sign-in';
  if (s.status === 'expiring') {
    const at = s.expiresAt === undefined ? Number.NaN : Date.parse(s.expiresAt);
    if (Number.isNaN(at)) return 'Expiring';
    const ms = at - now;
    if (ms <= 0) return 'Expired';
    if (ms < 60_000) return 'Expires in under a minute';
    const min = Math.ceil(ms / 60_000);
    if (min < 120) return `Expires in ${min} min`;
    return `Expires in ${Math.round(min / 60)} h`;
  }
  return 'Connected';
}

export function trayIcon(state: Pick<TrayState, 'servers'>): TrayIconVariant {
  return state.servers.some(needsAttention) ? 'attention' : 'normal';
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function tooltipFor(servers: ServerSummary[], attention: number): string {
  if (servers.length === 0) return `${APP_TITLE} — no servers yet`;
  if (attention > 0) return `${APP_TITLE} — ${plural(attention, 'server needs', 'servers need')} you to sign in again`;
  return `${APP_TITLE} — ${plural(servers.length, 'server', 'servers')} connected`;
}

/** The company IdP a server waits on (its session ended), if that is why it needs the person. */
export function idpToSignIn(s: ServerSummary): string | undefined {
  return s.grant?.kind === 'idp' && s.grant.idp && s.status === 'needs-reauth' && s.detail?.startsWith(`Needs sign-in to ${s.grant.idp}`) ? s.grant.idp : undefined;
}

export function trayMenu(state: TrayState): TrayModel {
  const busy = new Set(state.reauthorizing ?? []);
  // Those needing attention first, so they are seen even when the list is cut short.
  const ordered = [...state.servers].sort((a, b) => Number(needsAttention(b)) - Number(needsAttention(a)));
  const attention = ordered.filter(needsAttention);
  const items: TrayItem[] = [];

  if (ordered.length === 0) {
    items.push({ type: 'item', label: 'No servers yet', enabled: false });
  }
  for (const s of ordered.slice(0, MAX_TRAY_SERVERS)) {
    items.push({
      type: 'item',
      label: `${displayName(s.name)} — ${busy.has(s.id) ? 'Signing in…' : statusLabel(s, state.now)}`,
      enabled: true,
      action: { kind: 'open', id: s.id },
    });
  }
  if (ordered.length > MAX_TRAY_SERVERS) {
    items.push({ type: 'item', label: `…and ${ordered.length - MAX_TRAY_SERVERS} more`, enabled: true, action: { kind: 'open' } });
  }

  if (attention.length > 0) {
    items.push({ type: 'separator' });
    // One item per company IdP whose session ended, not one per server (its sign-in serves them all).
    const idpsAsked = new Set<string>();
    for (const s of attention) {
      const inFlight = busy.has(s.id);
      const idp = idpToSignIn(s);
      if (idp !== undefined) {
        if (idpsAsked.has(idp)) continue;
        idpsAsked.add(idp);
        items.push({ type: 'item', label: inFlight ? `Signing in to ${displayName(idp)}…` : `Sign in to ${displayName(idp)}`, enabled: !inFlight, action: { kind: 'reauthorize', id: s.id } });
        continue;
      }
      items.push({
        type: 'item',
        label: inFlight ? `Signing in to ${displayName(s.name)}…` : `Sign in again to ${displayName(s.name)}`,
        // A second click while the browser step is open would start a competing flow.
        enabled: !inFlight,
        action: { kind: 'reauthorize', id: s.id },
      });
    }
  }

  items.push({ type: 'separator' });
  items.push({ type: 'item', label: `Open ${APP_TITLE}`, enabled: true, action: { kind: 'open' } });
  items.push({ type: 'item', label: 'Quit', enabled: true, action: { kind: 'quit' } });

  return { tooltip: tooltipFor(ordered, attention.length), badge: attention.length, icon: attention.length > 0 ? 'attention' : 'normal', items };
}

/**
 * Menu labels on Windows and Linux treat `&` as a mnemonic marker; a server named "R&D"
 * must show as written. macOS menus show `&` literally.
 */
export function menuLabel(label: string, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? label : label.replace(/&/g, '&&');
}

/**
 * Whether the app starts with only its tray icon: when the person asked for that and the app
 * was started at login (or by a bridge that needs the broker), never on a manual launch,
 * where an invisible start would look like a failure.
 */
export function startHidden(o: { startInTray: boolean; openedAtLogin: boolean; startedByBridge: boolean }): boolean {
  if (o.startedByBridge) return true;
  return o.startInTray && o.openedAtLogin;
}
