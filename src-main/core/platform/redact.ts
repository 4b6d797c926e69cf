// Removes secrets from text bound for logs, errors and crash output. Two layers: exact
// values we know (tokens loaded from the vault), and shapes of OAuth secrets we may not
// know yet (a token in a response body we are about to log, a code in a redirect URL).
//
// Every pattern is linear: character classes that exclude their own terminator and
// alternatives that cannot both match the same character, so no input can make them
// backtrack catastrophically.

export const REDACTED = '[REDACTED]';

/** Shorter values are too likely to occur by chance in ordinary text. */
const MIN_SECRET_LENGTH = 8;
/** Exact values kept; the oldest are dropped first (old rotated tokens matter least). */
const MAX_SECRETS = 4096;

// Keys whose value is a secret wherever they appear: JSON, form bodies, query strings, prose.
const SECRET_KEYS = [
  'registration_access_token',
  'access_token',
  'refresh_token',
  'id_token',
  'subject_token',
  'actor_token',
  'client_secret',
  'client_assertion',
  'code_verifier',
  'device_code',
  'password',
  'api_key',
  'authorization',
  'proxy-authorization',
].join('|');

// key, optional closing quote, separator, then a quoted or bare value.
const KEY_VALUE = new RegExp(
  `(?<![A-Za-z0-9_-])(["']?)(${SECRET_KEYS})\\1(\\s*[:=]\\s*)("(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|[^\\s&,;"'}\\]#]+)`,
  'gi',
);
// A bare value after "key:" that is one ordinary word ("client_secret: Field required",
// "password: missing") is prose about the key, not a secret: generated secrets carry digits,
// symbols or mixed case. Values after "=" (forms, queries) and quoted values are always removed.
const PROSE_WORD = /^(?:[A-Z]?[a-z]{1,24}|[A-Z]{1,24})$/;
const AUTH_SCHEMES = new Set(['basic', 'bearer', 'dpop', 'digest', 'negotiate', 'ntlm', 'token', 'mac', 'hoba', 'mutual', 'gnap', 'vapid']);
// `code` and `token` are ordinary words (errno codes, "token_type"); only secret as URL or form parameters.
const URL_PARAM = /([?&#]|^)(code|token)=([^&\s"'#]+)/gi;
// "Authorization: Basic xxx" in prose or header dumps: keep the scheme, drop the credentials.
const AUTH_HEADER = /(\bauthorization\s*[:=]\s*)([A-Za-z][\w.-]*\s+)?([^\s,;"'}]+)/gi;
// RFC 6750 b64token. Eight chars at least, so prose like "the bearer token" stays readable;
// not followed by "=value", so challenge params (`Bearer resource_metadata="…"`) and
// `token_type=Bearer expires_in=3600` stay readable too.
const BEARER = /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*(?![A-Za-z0-9\-._~+/="])/gi;
// The lookbehind keeps starts from overlapping ("eyJ-eyJ-…" would otherwise rescan: quadratic).
const JWT = /(?<![\w-])eyJ[\w-]+\.[\w-]+(?:\.[\w-]*){0,3}/g;

export class Redactor {
  // Secrets indexed by their last MIN_SECRET_LENGTH chars, so matching costs one map lookup per
  // text position however many secrets are registered. The tail, not the head: JWTs from one
  // issuer share a long header, but their signatures differ.
  private readonly byTail = new Map<string, string[]>();
  private readonly order: string[] = [];
  private readonly known = new Set<string>();

  /** Registers a secret value; from now on it is replaced wherever it appears. */
  add(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || this.known.has(secret)) return;
    this.known.add(secret);
    this.order.push(secret);
    const tail = secret.slice(-MIN_SECRET_LENGTH);
    const list = this.byTail.get(tail);
    if (list === undefined) this.byTail.set(tail, [secret]);
    else {
      list.push(secret);
      list.sort((a, b) => b.length - a.length); // longest first
    }
    if (this.order.length > MAX_SECRETS) this.forget(this.order.shift()!);
  }

  private forget(secret: string): void {
    this.known.delete(secret);
    const tail = secret.slice(-MIN_SECRET_LENGTH);
    const list = this.byTail.get(tail)?.filter((s) => s !== secret);
    if (list === undefined || list.length === 0) this.byTail.delete(tail);
    else this.byTail.set(tail, list);
  }

  redact(text: string): string {
    return redactPatterns(this.redactKnown(text));
  }

  private redactKnown(text: string): string {
    if (this.byTail.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    let out = '';
    let last = 0; // text before this index is already in `out`
    for (let end = MIN_SECRET_LENGTH; end <= text.length; end++) {
      const candidates = this.byTail.get(text.slice(end - MIN_SECRET_LENGTH, end));
      if (candidates === undefined) continue;
      const hit = candidates.find((s) => s.length <= end && text.startsWith(s, end - s.length));
      if (hit === undefined) continue;
      const start = end - hit.length;
      // Overlapping an earlier match: that part is already replaced; just extend it.
      out += start >= last ? text.slice(last, start) + REDACTED : '';
      last = end;
    }
    return last === 0 ? text : out + text.slice(last);
  }
}

/** Pattern-based redaction only (no registered values). */
export function redactPatterns(text: string): string {
  return text
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1$2${REDACTED}`)
    .replace(AUTH_HEADER, (m: string, head: string, scheme: string | undefined, cred: string) =>
      // "Authorization: Field required" is prose; after a real scheme any value is a credential.
      head.includes(':') && PROSE_WORD.test(cred) && !AUTH_SCHEMES.has((scheme ?? '').trim().toLowerCase()) ? m : `${head}${scheme ?? ''}${REDACTED}`,
    )
    .replace(KEY_VALUE, (match: string, q: string, key: string, sep: string, value: string) => {
      const quote = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      // A bare Authorization value is "scheme credentials", already handled by AUTH_HEADER.
      if (quote === '' && key.toLowerCase().endsWith('authorization')) return match;
      if (quote === '' && !sep.includes('=') && PROSE_WORD.test(value)) return match;
      return `${q}${key}${q}${sep}${quote}${REDACTED}${quote}`;
    })
    .replace(URL_PARAM, `$1$2=${REDACTED}`);
}

/** The process-wide redactor: the vault registers every secret it loads; the logger uses it. */
export const defaultRedactor = new Redactor();

/** Shorthand for `defaultRedactor.redact`. */
export function redact(text: string): string {
  return defaultRedactor.redact(text);
}
