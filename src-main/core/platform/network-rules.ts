// The network's decisions, as pure functions: which proxy (if any) a URL goes through, from the
// environment a company laptop has (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, upper or lower case) or
// from the system's answer (a PAC result such as "PROXY proxy:8080; DIRECT"), and what a failed
// connection means in words. No I/O here: network.ts does the connecting.
import { isLoopbackHost } from './urls.js';

export type Route = { kind: 'direct' } | { kind: 'proxy'; proxy: URL };

/** Where a proxy setting came from, for messages and Settings. */
export type RouteSource = 'environment' | 'system' | 'none';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

const DIRECT: Route = { kind: 'direct' };

/** A proxy variable's value as a URL; a bare "host:port" means http. Throws words when it is not usable. */
export function parseProxyUrl(raw: string, name: string): URL {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new Error(`${name} is not a valid proxy URL (${JSON.stringify(clipValue(value))}); expected http://host:port or http://user:password@host:port.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${name} names a ${url.protocol.replace(':', '')} proxy; only http:// and https:// proxies are supported.`);
  }
  if (!url.hostname) throw new Error(`${name} names no proxy host; expected http://host:port.`);
  return url;
}

/** A proxy URL without its credentials, for messages and logs. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

function clipValue(v: string): string {
  // Never echo a password that may sit in the value.
  return v.replace(/\/\/[^@/]*@/, '//…@').slice(0, 100);
}

function envValue(env: ProxyEnv, name: string): { name: string; value: string } | undefined {
  // The lower-case form wins, as in curl and undici.
  for (const n of [name.toLowerCase(), name.toUpperCase()]) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return { name: n, value: v };
  }
  return undefined;
}

/** True when the environment names any proxy. */
export function envHasProxy(env: ProxyEnv): boolean {
  return envValue(env, 'https_proxy') !== undefined || envValue(env, 'http_proxy') !== undefined;
}

interface NoProxyEntry {
  /** Host (lower case, IPv6 without brackets), or '*' for every host. */
  host: string;
  port?: number;
  /** '.example.com' or '*.example.com': the domain and every name under it. */
  suffix: boolean;
}

/** NO_PROXY entries: comma or space separated; "*", "host", ".suffix", "*.suffix", "host:port", "[::1]", "[::1]:port", "::1". */
export function parseNoProxy(raw: string | undefined): NoProxyEntry[] {
  if (!raw) return [];
  const out: NoProxyEntry[] = [];
  for (let item of raw.split(/[\s,]+/)) {
    item = item.trim().toLowerCase();
    if (!item) continue;
    if (item === '*') {
      out.push({ host: '*', suffix: false });
      continue;
    }
    let host = item;
    let port: number | undefined;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (bracket) {
      host = bracket[1]!;
      if (bracket[2]) port = Number(bracket[2]);
    } else if ((item.match(/:/g) ?? []).length === 1) {
      const [h, p] = item.split(':') as [string, string];
      if (/^\d+$/.test(p)) {
        host = h;
        port = Number(p);
      }
    }
    let suffix = false;
    if (host.startsWith('*.')) {
      host = host.slice(2);
      suffix = true;
    } else if (host.startsWith('.')) {
      host = host.slice(1);
      suffix = true;
    }
    if (!host) continue;
    out.push({ host, suffix, ...(port !== undefined ? { port } : {}) });
  }
  return out;
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** True when NO_PROXY keeps this URL direct. "example.com" covers its subdomains too, as curl does. */
export function noProxyMatches(url: URL, entries: NoProxyEntry[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const port = defaultPort(url);
  for (const e of entries) {
    if (e.host === '*') return true;
    if (e.port !== undefined && e.port !== port) continue;
    if (host === e.host || host.endsWith(`.${e.host}`)) return true;
  }
  return false;
}

/**
 * The route for a URL from proxy variables. Loopback is always direct (the sign-in's redirect
 * listener, the broker, local servers). https URLs use HTTPS_PROXY, falling back to HTTP_PROXY
 * (as undici does); http URLs use HTTP_PROXY. Throws words when a variable is not a usable URL.
 */
export function routeFromEnv(url: URL, env: ProxyEnv): Route {
  if (isLoopbackHost(url.hostname)) return DIRECT;
  const v = url.protocol === 'https:' ? (envValue(env, 'https_proxy') ?? envValue(env, 'http_proxy')) : envValue(env, 'http_proxy');
  if (!v) return DIRECT;
  if (noProxyMatches(url, parseNoProxy(envValue(env, 'no_proxy')?.value))) return DIRECT;
  return { kind: 'proxy', proxy: parseProxyUrl(v.value, v.name) };
}

/**
 * A PAC answer ("PROXY a:8080; HTTPS b:443; DIRECT", as Chromium's resolveProxy gives it) as the
 * first route this app can use. SOCKS entries are skipped (not supported); an empty or unusable
 * answer means direct.
 */
export function routeFromPac(answer: string): Route {
  for (const part of answer.split(';')) {
    const [kind, hostPort] = part.trim().split(/\s+/) as [string | undefined, string | undefined];
    const k = (kind ?? '').toUpperCase();
    if (k === 'DIRECT') return DIRECT;
    if ((k === 'PROXY' || k === 'HTTPS') && hostPort) {
      try {
        return { kind: 'proxy', proxy: parseProxyUrl(`${k === 'HTTPS' ? 'https' : 'http'}://${hostPort}`, 'the system proxy') };
      } catch {
        // an entry we cannot use: try the next one
      }
    }
  }
  return DIRECT;
}

/** The Basic Proxy-Authorization value from credentials in a proxy URL, if any. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** What a failed connection to `target` says, in words naming the host; undefined when the error is not a network one we know. */
export function describeNetworkFailure(p: { code?: string; proxyStatus?: number; target: URL; route: Route; hasExtraCa: boolean }): string | undefined {
  const host = p.target.host;
  const proxy = p.route.kind === 'proxy' ? proxyLabel(p.route.proxy) : undefined;
  if (proxy && p.proxyStatus !== undefined) {
    if (p.proxyStatus === 407) {
      const had = p.route.kind === 'proxy' && (p.route.proxy.username || p.route.proxy.password);
      return had
        ? `The proxy ${proxy} refused the user name and password in the proxy URL (HTTP 407) for ${host}. Check them (http://user:password@proxy:port; special characters percent-encoded).`
        : `The proxy ${proxy} needs a password (HTTP 407) to reach ${host}. Put the credentials in the proxy URL: HTTPS_PROXY=http://user:password@proxy:port.`;
    }
    return `The proxy ${proxy} would not connect to ${host} (HTTP ${p.proxyStatus}). Ask your IT whether ${p.target.hostname} is allowed, or add it to NO_PROXY if it must be reached directly.`;
  }
  const code = p.code;
  if (!code) return undefined;
  if (UNTRUSTED.has(code)) {
    const extra = p.hasExtraCa ? ' The file in NODE_EXTRA_CA_CERTS does not hold the authority that signed it.' : '';
    return `The certificate of ${p.target.hostname} is not trusted (${code}).${extra} A company certificate authority? Set NODE_EXTRA_CA_CERTS to its PEM file, or MCP_TOKENS_CA=system to use the system's trust store.`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `The certificate of ${p.target.hostname} has expired (${code}). The server's operator must renew it.`;
  if (code === 'CERT_NOT_YET_VALID') return `The certificate of ${p.target.hostname} is not valid yet (${code}); check this computer's clock.`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `The certificate presented for ${p.target.hostname} is for another name (${code}).`;
  if (UNREACHABLE.has(code)) {
    if (proxy) return `Could not reach the proxy ${proxy} (${code}) to connect to ${host}. Check HTTPS_PROXY / HTTP_PROXY and that the proxy is up.`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Could not find ${p.target.hostname} (${code}). Check the URL; behind a company proxy, set HTTPS_PROXY.`;
    return `Could not reach ${host} (${code}). Check the URL and that the server is up; behind a company proxy, set HTTPS_PROXY.`;
  }
  return undefined;
}
