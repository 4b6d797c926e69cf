// URL rules shared by every place that follows or opens a URL from the outside world.
import { UserError } from './errors.js';

/** True for hosts that can only be this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * True when the URL points at this machine. Tests may list origins in
 * MCP_TOKENS_TEST_REMOTE_ORIGINS (comma-separated) to have a loopback test server stand in
 * for a remote one; nothing else reads that variable.
 */
export function isLoopbackUrl(url: URL, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!isLoopbackHost(url.hostname)) return false;
  const remote = (env.MCP_TOKENS_TEST_REMOTE_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return !remote.includes(url.origin);
}

/**
 * SSRF rule: a document from the outside world may not send us to this machine. A URL on
 * loopback is followed only when the document that named it came from loopback too.
 */
export function checkNamedUrl(named: URL, from: URL, what: string): URL {
  if (isLoopbackUrl(named) && !isLoopbackUrl(from)) {
    throw new UserError(
      'unsafe-url',
      `The ${what} (${displayUrl(named)}) points at this machine, but it was named by ${from.host}, which is not on this machine. Refusing: a remote server may not make this app call local services.`,
      'The server or its authorization server is misconfigured or hostile; nothing was sent there.',
    );
  }
  return named;
}

/**
 * Parses an external URL and allows only https, or http to a loopback host.
 * `what` names the URL in the error ("authorization endpoint").
 */
export function safeHttpUrl(raw: unknown, what: string): URL {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new UserError('unsafe-url', `The ${what} is missing or not a string.`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError('unsafe-url', `The ${what} is not a valid URL: ${JSON.stringify(raw.slice(0, 200))}.`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new UserError(
      'unsafe-url',
      `The ${what} uses plain http to a remote host (${url.host}); only https is allowed there.`,
      'Ask the server operator for an https URL.',
    );
  }
  throw new UserError(
    'unsafe-url',
    `The ${what} has the scheme "${url.protocol}"; only https (or http to this machine) is allowed.`,
    'This server or authorization server is misconfigured or hostile; nothing was opened or stored.',
  );
}

/** True when the URL is plain http (allowed only on loopback). openid-client needs to be told. */
export function isInsecureLoopback(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

/**
 * The canonical resource identifier for a server URL (RFC 8707 / MCP): no fragment,
 * lower-case scheme and host (URL does that), and no trailing slash on a bare origin.
 */
export function canonicalResource(serverUrl: string): string {
  const u = new URL(serverUrl);
  u.hash = '';
  const s = u.href;
  return u.pathname === '/' && !u.search && s.endsWith('/') ? s.slice(0, -1) : s;
}

/** A URL with its query and fragment dropped, for messages and logs (queries may carry codes). */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(url.toString());
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
