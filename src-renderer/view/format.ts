// Pure view helpers: everything the screens say about a server is decided here, from data and a
// clock, so it can be tested without a DOM.
import type { ClientAddResult, ClientKind, ClientRemoveResult, LinkPreview, MigrationNoteSummary, MigrationPlanSummary, MigrationResultSummary, ServerSummary } from '../../src-shared/contract.js';
import type { ActivityEntry, FlowKind } from '../../src-shared/contract.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'off';

export interface StatusChip {
  tone: Tone;
  label: string;
  /** A sentence saying why, when the label alone does not. */
  reason?: string;
  needsAttention: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "4 min", "2 h 5 min", "3 d"; with seconds: "4 min 12 s". Never negative. */
export function formatDuration(ms: number, opts: { seconds?: boolean } = {}): string {
  const t = Math.max(0, ms);
  if (t < MINUTE) return opts.seconds ? `${Math.floor(t / 1000)} s` : 'less than a minute';
  if (t < HOUR) {
    const m = Math.floor(t / MINUTE);
    const s = Math.floor((t % MINUTE) / 1000);
    return opts.seconds && s > 0 ? `${m} min ${s} s` : `${m} min`;
  }
  if (t < DAY) {
    const h = Math.floor(t / HOUR);
    const m = Math.floor((t % HOUR) / MINUTE);
    return m > 0 ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(t / DAY);
  const h = Math.floor((t % DAY) / HOUR);
  return h > 0 && d < 7 ? `${d} d ${h} h` : `${d} d`;
}

/** Time left on the access token, as a phrase: "expires in 4 min", "expired 2 min ago", "no expiry given". */
export function expiryText(expiresAt: string | undefined, now: number, opts: { seconds?: boolean } = {}): string {
  if (!expiresAt) return 'no expiry given';
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return 'unknown';
  const left = at - now;
  if (left <= 0) return `expired ${formatDuration(-left, opts)} ago`;
  return `expires in ${formatDuration(left, opts)}`;
}

/** What happens when the access token runs out, so a countdown does not read as a warning. */
export function renewText(s: Pick<ServerSummary, 'hasRefreshToken' | 'status' | 'reason'>): string {
  if (s.status === 'needs-reauth') return s.reason === 'revoked' ? 'No sign-in: choose “Sign in again” to use it.' : 'It can no longer renew: choose “Sign in again”.';
  return s.hasRefreshToken ? 'Renews by itself when a client needs it; nothing to do.' : 'No refresh token: you sign in again when it expires.';
}

/** The Servers row's line about the token: the countdown with what happens after it. */
export function rowExpiryText(s: ServerSummary, now: number): string {
  if (s.reason === 'revoked') return 'No sign-in';
  const e = expiryText(s.expiresAt, now);
  const cap = e.charAt(0).toUpperCase() + e.slice(1);
  if (s.status === 'needs-reauth') return cap;
  return s.hasRefreshToken ? `${cap} · renews by itself` : cap;
}

const REASONS: Record<NonNullable<ServerSummary['reason']>, string> = {
  revoked: 'Signed out: sign in again to use it.',
  expired: 'The sign-in expired.',
  rejected: 'The server no longer accepts the sign-in.',
  'more-scope': 'The server asks for more permissions.',
  'never-linked': 'Not signed in yet.',
};

export function reasonText(s: Pick<ServerSummary, 'reason' | 'detail'>): string | undefined {
  const base = s.reason ? REASONS[s.reason] : undefined;
  const detail = s.detail ? scrubTokens(s.detail) : undefined;
  if (base && detail && detail !== base) return `${base} ${detail}`;
  return base ?? detail;
}

/** The status chip of a server at `now`: what the list and the detail show first. */
export function statusChip(s: ServerSummary, now: number): StatusChip {
  if (s.status === 'needs-reauth') {
    const reason = reasonText(s) ?? 'Sign in again to keep using this server.';
    // Signed out by the person: nothing is wrong, so no alarm; signed out elsewhere needs them.
    if (s.reason === 'revoked') {
      const byYou = !s.detail || /by you/i.test(s.detail);
      return byYou
        ? { tone: 'off', label: 'Signed out', reason: 'You signed out. Choose “Sign in again” to use it.', needsAttention: false }
        : { tone: 'bad', label: 'Signed out', reason: scrubTokens(s.detail ?? REASONS.revoked), needsAttention: true };
    }
    return { tone: 'bad', label: 'Needs sign-in', reason, needsAttention: true };
  }
  if (s.status === 'expiring') {
    const at = s.expiresAt ? Date.parse(s.expiresAt) : NaN;
    if (Number.isNaN(at)) return { tone: 'warn', label: 'Expiring soon', needsAttention: false };
    const left = at - now;
    if (left <= 0) {
      // The broker refreshes on demand; without a refresh token it would already say needs-reauth.
      return s.hasRefreshToken
        ? { tone: 'warn', label: 'Expired — refreshes on next use', needsAttention: false }
        : { tone: 'bad', label: 'Needs sign-in', reason: REASONS.expired, needsAttention: true };
    }
    return { tone: 'warn', label: `Expires in ${formatDuration(left)}`, needsAttention: false };
  }
  return { tone: 'ok', label: 'Connected', needsAttention: false };
}

/**
 * The one button a Servers row shows: the next useful action for its state. A healthy server
 * needs nothing (its name opens the details); one that needs the person says "Sign in again".
 */
export function rowAction(s: ServerSummary, now: number): { label: string; primary: boolean } | undefined {
  const chip = statusChip(s, now);
  if (chip.needsAttention) return { label: 'Sign in again', primary: true };
  if (s.status === 'needs-reauth') return { label: 'Sign in again', primary: false };
  return undefined;
}

/**
 * MCP clients that actually used the server (their own names), newest first, from the same
 * record as "Last used": the activity's "used" entries and the last use.
 */
export function clientsThatUsed(s: Pick<ServerSummary, 'activity' | 'lastUsed'>): Array<{ client: string; at: number }> {
  const seen = new Map<string, number>();
  const uses = s.activity.filter((e) => e.kind === 'used' && e.client).map((e) => ({ client: e.client!, at: e.at }));
  if (s.lastUsed) uses.push(s.lastUsed);
  for (const u of uses) seen.set(u.client, Math.max(seen.get(u.client) ?? 0, u.at));
  return [...seen].map(([client, at]) => ({ client, at })).sort((a, b) => b.at - a.at);
}

/** Every account (linked grant) on one server URL, in list order. */
export function accountsOf(servers: ServerSummary[], url: string): ServerSummary[] {
  return servers.filter((s) => sameUrl(s.url, url));
}

/** The name offered for another account of a server: "GitHub (2)", "GitHub (3)"… */
export function nextAccountName(base: string, taken: string[]): string {
  const root = base.replace(/\s*\(\d+\)$/, '');
  for (let i = 2; i < 1000; i++) {
    const n = `${root} (${i})`;
    if (!taken.includes(n)) return n;
  }
  return `${root} (another account)`;
}

/** Servers the attention banner lists. */
export function needingAttention(servers: ServerSummary[], now: number): ServerSummary[] {
  return servers.filter((s) => statusChip(s, now).needsAttention);
}

/** "just now", "5 min ago", "3 h ago", "2 d ago"; future times (clock skew) read as "just now". */
export function formatAgo(at: number | string | undefined, now: number): string {
  if (at === undefined) return 'never';
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(t)) return 'unknown';
  const ago = now - t;
  if (ago < MINUTE) return 'just now';
  return `${formatDuration(ago)} ago`;
}

/** Absolute local time, for titles and the activity list. */
export function formatTime(at: number | string, locale?: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export interface RegistrationLabel {
  label: string;
  explain: string;
  /** False when the app has no way to get a client at this authorization server. */
  possible: boolean;
}

export function registrationLabel(method: LinkPreview['registration'] | string): RegistrationLabel {
  switch (method) {
    case 'pre-registered':
      return { label: 'Pre-registered client', explain: 'Uses the client ID you provided.', possible: true };
    case 'metadata-document':
      return {
        label: 'Client metadata document',
        explain: 'The app identifies itself by the URL of its published client metadata; nothing is registered at the server.',
        possible: true,
      };
    case 'dynamic':
      return { label: 'Dynamic registration', explain: 'The app registers itself with the authorization server (RFC 7591).', possible: true };
    case 'reuse':
      return { label: 'Existing registration', explain: 'Reuses the registration this app already has with this authorization server.', possible: true };
    case 'impossible':
      return {
        label: 'Cannot register',
        explain:
          'This authorization server offers no way for the app to register itself (no registration endpoint, no metadata documents). Ask its operator for a client ID and enter it under “Advanced”.',
        possible: false,
      };
    default:
      return { label: method, explain: '', possible: true };
  }
}

const CLIENTS: Record<ClientKind, string> = {
  claude: 'Claude Desktop',
  cursor: 'Cursor',
  vscode: 'VS Code',
  'claude-code': 'Claude Code',
  'gemini-cli': 'Gemini CLI',
  codex: 'Codex',
  'copilot-cli': 'Copilot CLI',
  opencode: 'opencode',
  'qwen-code': 'Qwen Code',
  cline: 'Cline',
  continue: 'Continue',
  kilo: 'Kilo',
  windsurf: 'Windsurf',
  zed: 'Zed',
  goose: 'Goose',
  'lm-studio': 'LM Studio',
  'roo-code': 'Roo Code',
  'vscode-insiders': 'VS Code Insiders',
};

export function clientLabel(kind: string): string {
  return Object.hasOwn(CLIENTS, kind) ? CLIENTS[kind as ClientKind] : kind;
}

export function flowLabel(flow: FlowKind): string {
  return flow === 'device' ? 'Device code' : 'Browser';
}

const ACTIVITY: Record<ActivityEntry['kind'], string> = {
  linked: 'Signed in',
  refreshed: 'Token refreshed',
  'refresh-failed': 'Refresh failed',
  revoked: 'Signed out',
  reauthorized: 'Signed in again',
  recovered: 'Recovered',
  rejected: 'Sign-in no longer accepted',
  used: 'Used',
};

export function activityLabel(kind: string): string {
  return Object.hasOwn(ACTIVITY, kind) ? ACTIVITY[kind as ActivityEntry['kind']] : kind;
}

export function activityTone(kind: string): Tone {
  if (kind === 'refresh-failed' || kind === 'rejected') return 'bad';
  if (kind === 'revoked' || kind === 'used') return 'off';
  return 'ok';
}

/** Scopes in plain words where the meaning is known; the raw name is always shown beside. */
const SCOPES: Record<string, string> = {
  offline_access: 'Stay signed in',
  openid: 'Confirm who you are',
  profile: 'Your name and profile',
  email: 'Your email address',
  'mcp:tools': 'Use the server’s tools',
  'mcp:resources': 'Read the server’s resources',
  'mcp:prompts': 'Use the server’s prompts',
  read: 'Read your data',
  write: 'Change your data',
};

export function scopeLabel(scope: string): string | undefined {
  if (Object.hasOwn(SCOPES, scope)) return SCOPES[scope];
  const m = /^([a-z][\w-]*)[:.](read|write)$/i.exec(scope);
  if (m) return `${m[2]!.toLowerCase() === 'read' ? 'Read' : 'Change'} your ${m[1]!.replace(/[_-]+/g, ' ')}`;
  return undefined;
}

/** "Last used by Claude Desktop 5 min ago", or "Not used yet". */
export function lastUsedText(s: Pick<ServerSummary, 'lastUsed'>, now: number): string {
  if (!s.lastUsed) return 'Not used yet';
  return `Last used by ${s.lastUsed.client} ${formatAgo(s.lastUsed.at, now)}`;
}

export type StatusFilter = 'all' | 'ok' | 'expiring' | 'attention' | 'signed-out';

export const STATUS_FILTERS: Array<{ value: StatusFilter; label: string }> = [
  { value: 'all', label: 'All' },
  { value: 'ok', label: 'Connected' },
  { value: 'expiring', label: 'Expiring' },
  { value: 'attention', label: 'Needs attention' },
  { value: 'signed-out', label: 'Signed out' },
];

/** The Servers list after the search box and the status filter. */
export function filterServers(servers: ServerSummary[], query: string, status: StatusFilter, now: number): ServerSummary[] {
  const q = query.trim().toLowerCase();
  return servers.filter((s) => {
    if (q && ![s.name, s.id, s.url, hostOf(s.issuer), ...s.usedBy, s.lastUsed?.client ?? ''].some((t) => t.toLowerCase().includes(q))) return false;
    const chip = statusChip(s, now);
    switch (status) {
      case 'all':
        return true;
      case 'ok':
        return chip.tone === 'ok';
      case 'expiring':
        return chip.tone === 'warn';
      case 'attention':
        return chip.needsAttention;
      case 'signed-out':
        return s.reason === 'revoked';
    }
  });
}

/**
 * The badge's letters: the first letters of the first two words ("GitHub (work)" → "GW",
 * "Rig MCP server" → "RM"), else the first two of one word ("Linear" → "Li").
 */
export function initialsOf(name: string): string {
  const words = name.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (!words.length) return '?';
  if (words.length === 1) {
    const w = [...words[0]!];
    return (w[0]!.toUpperCase() + (w[1] ?? '').toLowerCase()).trim();
  }
  return ([...words[0]!][0]! + [...words[1]!][0]!).toUpperCase();
}

/** One of the badge's eight colours, stable for a server (from its id), so neighbours differ. */
export function iconColour(id: string): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return h % 8;
}

/** A URL with break opportunities after each slash, so a narrow window never splits the host. */
export function urlBreaks(url: string): string[] {
  return url.split(/(?<=\/)/);
}

export function transportLabel(t: LinkPreview['transport']): string {
  return t === 'sse' ? 'HTTP + SSE (legacy)' : 'Streamable HTTP';
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Same server URL, ignoring case of scheme/host, default ports and a trailing slash. */
export function sameUrl(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const norm = (s: string) => {
    try {
      const u = new URL(s.trim());
      return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`;
    } catch {
      return s.trim().replace(/\/+$/, '');
    }
  };
  return norm(a) === norm(b);
}

/**
 * Hides anything shaped like a bearer token in free text (progress lines, errors). The API never
 * sends one; this keeps a stray one in a server's error message off the screen.
 */
export function scrubTokens(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 [hidden]')
    .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[hidden token]')
    .replace(/\b((?:access|refresh|id)_token|client_secret|code_verifier|code)=[^&\s"']+/gi, '$1=[hidden]');
}

/** The message (and hint) of anything thrown by an Api call, fit to show. */
export function errorText(err: unknown): { message: string; hint?: string; detail?: string; code?: string } {
  let message: string;
  let hint: string | undefined;
  const extra: { detail?: string; code?: string } = {};
  if (typeof err === 'object' && err !== null) {
    const { detail, code } = err as { detail?: unknown; code?: unknown };
    if (typeof detail === 'string' && detail) extra.detail = scrubTokens(detail);
    if (typeof code === 'string' && code) extra.code = code;
  }
  // The Electron preload rejects with a plain {message, code, hint} (contextBridge drops Error fields).
  if (err instanceof Error || (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string')) {
    message = (err as { message: string }).message;
    const h = (err as { hint?: unknown }).hint;
    if (typeof h === 'string' && h) hint = h;
  } else if (typeof err === 'string') {
    message = err;
  } else {
    message = 'Something went wrong.';
  }
  // Electron's ipcRenderer.invoke wraps handler errors as "Error invoking remote method 'x': Error: msg".
  message = message.replace(/^Error invoking remote method '[^']*':\s*(?:[A-Za-z]*Error:\s*)?/, '');
  return { message: scrubTokens(message || 'Something went wrong.'), ...(hint ? { hint: scrubTokens(hint) } : {}), ...extra };
}

/** What is wrong with a server address typed in the Add field, in words for it; undefined when it will do. */
export function urlProblem(text: string): string | undefined {
  const u = text.trim();
  if (!/^https?:\/\/\S+$/i.test(u)) return 'Enter the full URL of the server, starting with https://';
  const m = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^/:?#]*)(?::([^/?#]*))?/i.exec(u);
  if (m && !m[1]) return 'The address has no server name after https://.';
  const port = m?.[2];
  if (port !== undefined && port !== '') {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `The port must be a number from 1 to 65535; this address has “${port.slice(0, 20)}”.`;
  }
  if (!URL.canParse(u)) return 'This is not a valid address: check it for typing mistakes.';
  return undefined;
}

/** The scope field of the advanced options: space or comma separated. */
export function parseScopes(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** A message with a tone, as the screens show it. */
export interface ToneText {
  tone: Tone;
  text: string;
  hint?: string;
}

/** What to tell the person after the bridge entry was written into a client's config. */
export function clientAddNotice(r: ClientAddResult): ToneText {
  const label = clientLabel(r.client);
  const next = r.note ?? `Restart ${label} to use it.`;
  const hints = [
    r.backup ? `Backup of the previous file: ${r.backup}` : undefined,
    r.nameTakenBy ? `Another entry was already called “${r.nameTakenBy}”; it was left as it was and this one is “${r.name}”.` : undefined,
  ].filter((x): x is string => Boolean(x));
  const hint = hints.length ? { hint: hints.join(' ') } : {};
  if (r.action === 'unchanged') return { tone: 'ok', text: `${label} already has this server (${r.file}); nothing changed.`, ...hint };
  const did = r.action === 'added' ? `Added to ${label}` : `Updated the entry in ${label}`;
  // "restart Claude Desktop to use it" reads as one sentence after the file.
  const tail = r.note ? `. ${next}` : `; ${next.charAt(0).toLowerCase()}${next.slice(1)}`;
  return { tone: 'ok', text: `${did} (${r.file}${r.created ? ', a new file' : ''})${tail}`, ...hint };
}

/** What to tell the person after the bridge entry was taken out of a client's config. */
export function clientRemoveNotice(r: ClientRemoveResult): ToneText {
  const label = clientLabel(r.client);
  if (!r.removed.length) return { tone: 'ok', text: `${label} did not have this server; nothing changed.` };
  return { tone: 'ok', text: `Taken out of ${label}; restart ${label} to apply.`, ...(r.backup ? { hint: `Backup of the previous file: ${r.backup}` } : {}) };
}

/** The Servers screen's banner, when some client still runs mcp-remote that the bridge can replace. */
export function migrationBanner(plan: MigrationPlanSummary | undefined): { count: number; text: string } | undefined {
  if (!plan || !plan.entries.some((e) => e.action === 'replace')) return undefined;
  const n = plan.entries.length;
  return { count: n, text: n === 1 ? '1 MCP client entry still uses mcp-remote' : `${n} MCP client entries still use mcp-remote` };
}

const NOTE_KINDS: Record<MigrationNoteSummary['kind'], string> = {
  automatic: 'Handled automatically',
  dropped: 'Not needed',
  action: 'Your step',
  blocking: 'Keeps it on mcp-remote',
};

export function noteKindLabel(kind: MigrationNoteSummary['kind']): string {
  return NOTE_KINDS[kind];
}

/** A migration's outcome, one message per file and per imported sign-in. */
export function migrationResultNotices(r: MigrationResultSummary): ToneText[] {
  const out: ToneText[] = [];
  for (const i of r.imports) {
    if (i.ok) out.push({ tone: 'ok', text: `Imported the sign-in for ${i.server}${i.id ? ` as “${i.id}”` : ''}${i.deletedFiles ? `; deleted ${i.deletedFiles} plaintext file${i.deletedFiles === 1 ? '' : 's'}` : ''}.` });
    else out.push({ tone: 'warn', text: `Could not import the sign-in for ${i.server}: ${scrubTokens(i.error ?? 'unknown error')}`, hint: 'The bridge will ask you to sign in on first use.' });
  }
  for (const f of r.files) {
    const skipped = f.skipped.length ? { hint: f.skipped.map((s) => `Skipped ${s.name}: ${s.reason}.`).join(' ') } : {};
    if (f.error) out.push({ tone: 'bad', text: `Not changed: ${f.file}: ${scrubTokens(f.error)}`, ...skipped });
    else if (f.replaced.length) out.push({ tone: 'ok', text: `Updated ${f.client} (${f.file}): ${f.replaced.join(', ')}.${f.backup ? ` Backup: ${f.backup}` : ''}`, ...skipped });
    else if (f.skipped.length) out.push({ tone: 'warn', text: `Nothing changed in ${f.file}.`, ...skipped });
  }
  const clients = [...new Set(r.files.filter((f) => f.replaced.length && !f.error).map((f) => f.client))];
  if (clients.length) {
    // What comes next: an entry without an imported sign-in is not in Servers until its first use.
    const replaced = r.files.reduce((n, f) => n + (f.error ? 0 : f.replaced.length), 0);
    const imported = r.imports.filter((i) => i.ok).length;
    const later = replaced > imported;
    out.push({
      tone: 'ok',
      text: `Next: restart ${clients.join(', ')}.`,
      hint: later
        ? `${imported ? 'The imported sign-ins are in Servers now. ' : ''}A server whose sign-in was not imported asks you to sign in the first time the client uses it: approve it in this window, and it then shows in Servers.`
        : 'The imported sign-ins are in Servers now; the clients use them through the bridge.',
    });
  }
  if (!out.length) out.push({ tone: 'ok', text: 'Nothing needed changing.' });
  return out;
}
