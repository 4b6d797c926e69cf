// Per-server HTTP headers (API keys beside OAuth, tenant and team headers): parsed from
// `--header "Name: value"`, stored as written (`${VAR}` unexpanded), expanded from the bridge's
// own environment at run time, and shown with literal values masked.
import { UserError } from './errors.js';

export interface HeaderSpec {
  name: string;
  /** As written: `${VAR}` references stay unexpanded until the bridge sends it. */
  value: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Set by the bridge or the transport; a per-server value would break the session or the sign-in.
const RESERVED = new Set(['authorization', 'host', 'content-length', 'content-type', 'accept', 'connection', 'transfer-encoding', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'cookie', 'proxy-authorization', 'te', 'upgrade', 'keep-alive']);
export const MAX_HEADERS = 20;
export const MAX_HEADER_VALUE = 8192;

/** What is wrong with one header, if anything: the rules, for callers that word it themselves (the UI). */
export type HeaderProblem = 'name' | 'sign-in' | 'reserved' | 'value' | 'chars';

export function headerProblem(h: HeaderSpec): HeaderProblem | undefined {
  if (!TOKEN.test(h.name)) return 'name';
  const k = h.name.toLowerCase();
  if (k === 'authorization') return 'sign-in';
  if (RESERVED.has(k)) return 'reserved';
  if (/[\r\n\0]/.test(h.value) || h.value.length > MAX_HEADER_VALUE) return 'value';
  // What fetch can put on the wire (RFC 9110 field-value); anything else fails at every request.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(h.value)) return 'chars';
  return undefined;
}

/** `Name: value` (the form of curl and mcp-remote) to a header; throws a usage error saying why not. */
export function parseHeaderFlag(raw: string): HeaderSpec {
  const at = raw.indexOf(':');
  const name = (at === -1 ? raw : raw.slice(0, at)).trim();
  const value = at === -1 ? '' : raw.slice(at + 1).trim();
  if (at === -1 || !name) throw new UserError('usage', `--header "${raw.slice(0, 60)}" is not "Name: value".`, 'Example: --header "X-Tenant: acme" or --header "X-Api-Key: ${API_KEY}".');
  return checkHeader({ name, value });
}

export function checkHeader(h: HeaderSpec): HeaderSpec {
  switch (headerProblem(h)) {
    case 'name':
      throw new UserError('usage', `"${h.name.slice(0, 60)}" is not a valid HTTP header name.`);
    case 'sign-in':
      throw new UserError('usage', `The header ${h.name} cannot be set per server: the bridge sends the OAuth access token there.`);
    case 'reserved':
      throw new UserError('usage', `The header ${h.name} cannot be set per server: the bridge sets it itself.`);
    case 'value':
      throw new UserError('usage', `The value of ${h.name} must be one line of at most ${MAX_HEADER_VALUE} characters.`);
    case 'chars':
      throw new UserError('usage', `The value of ${h.name} has characters an HTTP header cannot carry; use plain ASCII text.`);
  }
  return h;
}

/** Checks a whole list: valid, each name once (case-insensitive), a bounded number. */
export function checkHeaders(list: readonly HeaderSpec[]): HeaderSpec[] {
  if (list.length > MAX_HEADERS) throw new UserError('usage', `At most ${MAX_HEADERS} headers per server.`);
  const seen = new Set<string>();
  return list.map((h) => {
    checkHeader(h);
    const k = h.name.toLowerCase();
    if (seen.has(k)) throw new UserError('usage', `The header ${h.name} is given twice.`);
    seen.add(k);
    return { name: h.name, value: h.value };
  });
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** For people: `${VAR}` references as written, every literal run masked. */
export function maskHeaderValue(value: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of value.matchAll(REF)) {
    if (m.index > last) parts.push('•••');
    parts.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push('•••');
  return parts.join('');
}

/** The value to send: `${VAR}` from `env`; a variable that is not set becomes empty and is reported. */
export function expandHeaderValue(value: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => void = () => {}): string {
  return value.replace(REF, (_m, n: string) => {
    const v = env[n];
    if (v === undefined) onMissing(n);
    return v ?? '';
  });
}

/** Later lists win, name by name (case-insensitive). */
export function mergeHeaders(...lists: Array<readonly HeaderSpec[] | undefined>): HeaderSpec[] {
  const out = new Map<string, HeaderSpec>();
  for (const l of lists) for (const h of l ?? []) out.set(h.name.toLowerCase(), h);
  return [...out.values()];
}
