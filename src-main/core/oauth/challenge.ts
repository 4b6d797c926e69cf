// WWW-Authenticate parsing (RFC 9110 §11.6.1). Neither openid-client nor the MCP SDK exports a
// parser that keeps every auth-param (we need resource, authorization_uri, scope, error...).

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses all challenges in a header value; tolerant of odd spacing, bounded by input length. */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const s = header;
  let i = 0;
  const n = s.length;
  const skipWs = () => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] === '"') {
      // a stray quoted string (malformed): skip it whole
      i++;
      while (i < n && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    const save = i;
    const tok = readToken();
    if (!tok) {
      i++; // skip an unexpected character rather than loop forever
      continue;
    }
    skipWs();
    if (s[i] === '=' && current) {
      // auth-param of the current challenge (or token68 padding, which we ignore)
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < n && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < n) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
        value = s.slice(start, i);
      }
      current.params[tok.toLowerCase()] = value;
      continue;
    }
    if (s[i] === '=' && !current) {
      i = save + tok.length + 1;
      continue;
    }
    // A new challenge scheme.
    current = { scheme: tok.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}

/** The Bearer challenge's parameters, or an empty object. */
export function bearerParams(header: string | null | undefined): Record<string, string> {
  return parseWwwAuthenticate(header).find((c) => c.scheme === 'bearer')?.params ?? {};
}

/**
 * The parameters of the challenge a client answers: Bearer's, else DPoP's (RFC 9449 §7.1: a
 * server that takes only DPoP-bound tokens challenges with `DPoP resource_metadata=…`).
 */
export function authParams(header: string | null | undefined): Record<string, string> {
  const all = parseWwwAuthenticate(header);
  return (all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'dpop'))?.params ?? {};
}

/** The DPoP challenge's parameters (e.g. error="use_dpop_nonce"), or undefined when there is none. */
export function dpopParams(header: string | null | undefined): Record<string, string> | undefined {
  return parseWwwAuthenticate(header).find((c) => c.scheme === 'dpop')?.params;
}

/** The schemes a challenge offers, lower-case (e.g. ['bearer'], ['dpop']). */
export function challengeSchemes(header: string | null | undefined): string[] {
  return parseWwwAuthenticate(header).map((c) => c.scheme);
}
