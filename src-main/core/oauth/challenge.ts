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
