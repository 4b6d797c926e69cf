// The one place that knows the network. Every outgoing request (discovery, registration, sign-in
// and token calls, revocation, the bridge on both its paths) asks here how to connect: direct or
// through a proxy (from the environment, or from the system where the app answers), with which
// certificate authorities. Proxy and CA code is loaded only when one is in play, so a plain bridge
// starts as fast as without it. Failures come back in words naming the host.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Dispatcher } from 'undici';
import { describeNetworkFailure, envHasProxy, proxyAuthorization, proxyLabel, routeFromEnv, routeFromPac, type Route, type RouteSource } from './network-rules.js';
import { isLoopbackHost } from './urls.js';

export { proxyLabel, type Route, type RouteSource } from './network-rules.js';

/** A failed connection, explained: `message` is fit for a person; `cause` is the original error (with its code). */
export class NetworkError extends TypeError {
  constructor(
    message: string,
    readonly host: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'NetworkError';
  }
}

/** The NetworkError somewhere in an error's cause chain (libraries wrap what fetch threw). */
export function networkErrorIn(err: unknown): NetworkError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    if (e instanceof NetworkError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Answers "which proxy for this URL" from the system (PAC/WPAD): a PAC-style result, or undefined when it cannot say. */
export type SystemProxyResolver = (url: string) => Promise<string | undefined>;

let systemResolver: SystemProxyResolver | undefined;
const RESOLVE_TIMEOUT_MS = 3_000;

/** Where the app runs, the system's proxy answer is used for URLs the environment says nothing about. */
export function setSystemProxyResolver(r: SystemProxyResolver | undefined): void {
  systemResolver = r;
  answers.clear();
}

/** Where proxy settings come from in this process: the environment wins over the system's answer. */
export function networkSource(env: NodeJS.ProcessEnv = process.env): RouteSource {
  if (envHasProxy(env)) return 'environment';
  return systemResolver ? 'system' : 'none';
}

/** The route for one URL. Loopback is always direct; a broken proxy variable throws words. */
export async function routeFor(url: URL, env: NodeJS.ProcessEnv = process.env): Promise<Route> {
  if (isLoopbackHost(url.hostname)) return { kind: 'direct' };
  if (envHasProxy(env) || !systemResolver) {
    try {
      return routeFromEnv(url, env);
    } catch (err) {
      throw new NetworkError((err as Error).message, url.host, err);
    }
  }
  const answer = await systemProxyAnswer(url);
  return answer ? routeFromPac(answer) : { kind: 'direct' };
}

// The system's answer per origin, kept a while: a PAC script answers per URL, but a bridge asks
// the broker over a socket and must not do so for every request.
const ANSWER_TTL_MS = 5 * 60_000;
/** No answer (a broker still starting, a resolver that failed) is asked again sooner. */
const NO_ANSWER_TTL_MS = 10_000;
const answers = new Map<string, { at: number; ttl: number; answer: Promise<string | null> }>();

/**
 * The system's proxy answer for a URL as it gave it ("PROXY host:port; DIRECT"), or null when no
 * system resolver is set or it could not say (then, as a browser does, direct).
 */
export function systemProxyAnswer(url: URL): Promise<string | null> {
  const resolver = systemResolver;
  if (!resolver || isLoopbackHost(url.hostname)) return Promise.resolve(null);
  const key = url.origin;
  const now = Date.now();
  const hit = answers.get(key);
  if (hit && now - hit.at < hit.ttl) return hit.answer;
  let timer: NodeJS.Timeout | undefined;
  const entry = { at: now, ttl: ANSWER_TTL_MS, answer: Promise.resolve<string | null>(null) };
  const failed = () => {
    entry.ttl = NO_ANSWER_TTL_MS;
    return null;
  };
  const TIMED_OUT = Symbol('timed out');
  entry.answer = Promise.race([resolver(url.href), new Promise<typeof TIMED_OUT>((r) => (timer = setTimeout(() => r(TIMED_OUT), RESOLVE_TIMEOUT_MS)))])
    .then((a) => (a === TIMED_OUT ? failed() : typeof a === 'string' && a.trim() ? a.trim().slice(0, 2000) : null))
    .catch(failed)
    .finally(() => clearTimeout(timer));
  answers.set(key, entry);
  return entry.answer;
}

// ---- certificate authorities ----

const LINUX_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/ssl/cert.pem'];

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The OS trust store's certificates: the runtime's own reader where it has one (Node 22.15+), else the system's PEM bundle. */
function systemCertificates(env: NodeJS.ProcessEnv): string[] {
  const get = (tls as unknown as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  if (typeof get === 'function') return get('system');
  const candidates = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : process.platform === 'win32' || process.platform === 'darwin' ? [] : LINUX_BUNDLES;
  for (const f of candidates) {
    try {
      const certs = pemBlocks(readFileSync(f, 'utf8'));
      if (certs.length) return certs;
    } catch {
      // not there: try the next
    }
  }
  throw new Error(
    `MCP_TOKENS_CA=system: this runtime (Node ${process.versions.node} on ${process.platform}) cannot read the system's trust store${env.SSL_CERT_FILE ? ` (SSL_CERT_FILE=${env.SSL_CERT_FILE} holds no certificates)` : ''}. Set NODE_EXTRA_CA_CERTS to your company CA's PEM file instead.`,
  );
}

let caCache: { key: string; ca: string[] | undefined } | undefined;
let systemCaPreferred = false;

/**
 * The app's default: the OS trust store as well, where the runtime can read it (MCP_TOKENS_CA
 * still decides when set). Where it cannot, Node's roots and NODE_EXTRA_CA_CERTS, as without it.
 */
export function preferSystemCa(): void {
  systemCaPreferred = true;
  caCache = undefined;
}

/**
 * The CA list to pass explicitly, or undefined for Node's default (its bundled roots plus
 * NODE_EXTRA_CA_CERTS, which Node adds by itself). With MCP_TOKENS_CA=system: the bundled roots,
 * the system's store and NODE_EXTRA_CA_CERTS (an explicit list replaces the default, so all three).
 */
export function caList(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const set = (env.MCP_TOKENS_CA ?? '').trim().toLowerCase();
  const mode = set || (systemCaPreferred ? 'system-if-readable' : '');
  const key = `${mode}|${env.SSL_CERT_FILE ?? ''}|${env.NODE_EXTRA_CA_CERTS ?? ''}`;
  if (caCache?.key === key) return caCache.ca;
  let ca: string[] | undefined;
  let system: string[] | undefined;
  if (mode === 'system-if-readable') {
    try {
      system = systemCertificates(env);
    } catch {
      system = undefined;
    }
  } else if (mode === 'system') system = systemCertificates(env);
  if (system) {
    ca = [...tls.rootCertificates, ...system];
    if (env.NODE_EXTRA_CA_CERTS) {
      try {
        ca.push(...pemBlocks(readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8')));
      } catch {
        // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start
      }
    }
  } else if (mode !== '' && mode !== 'node' && mode !== 'system-if-readable') {
    throw new Error(`MCP_TOKENS_CA=${JSON.stringify(mode.slice(0, 40))} is not understood; use "system" (the OS trust store) or leave it unset.`);
  }
  caCache = { key, ca };
  return ca;
}

function caListOrWords(url: URL): string[] | undefined {
  try {
    return caList();
  } catch (err) {
    throw new NetworkError((err as Error).message, url.host, err);
  }
}

// ---- fetch (undici's dispatchers, loaded only when needed) ----

const dispatchers = new Map<string, Dispatcher>();

/** A CommonJS package's exports from import(): bundled, they sit under `default`. */
function cjsExports<T extends object>(ns: T): T {
  const d = (ns as { default?: unknown }).default;
  return d && typeof d === 'object' ? (d as T) : ns;
}

async function dispatcherFor(route: Route, ca: string[] | undefined): Promise<Dispatcher | undefined> {
  if (route.kind === 'direct' && !ca) return undefined;
  const key = `${route.kind === 'proxy' ? `proxy ${route.proxy.href}` : 'direct'} ${caCache?.key ?? ''}`;
  let d = dispatchers.get(key);
  if (d) return d;
  const undici = cjsExports(await import('undici'));
  const tlsOpts = ca ? { ca } : {};
  d = route.kind === 'proxy' ? new undici.ProxyAgent({ uri: route.proxy.href, requestTls: tlsOpts, proxyTls: tlsOpts }) : new undici.Agent({ connect: tlsOpts });
  dispatchers.set(key, d);
  return d;
}

function urlOf(input: string | URL | Request): URL {
  return new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
}

/** fetch, routed: direct, or through the proxy for this URL; failures explained in words. */
export async function netFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = urlOf(input);
  const route = await routeFor(url);
  const dispatcher = await dispatcherFor(route, caListOrWords(url));
  let res: Response;
  try {
    res = await fetch(input, dispatcher ? ({ ...init, dispatcher } as RequestInit) : init);
  } catch (err) {
    throw await explain(err, url, route, init?.signal ?? undefined);
  }
  if (route.kind === 'proxy' && res.status === 407) {
    await res.body?.cancel().catch(() => {});
    throw proxyRefused(url, route, 407);
  }
  return res;
}

/** The system error code (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE…) in an error's cause chain. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const DIRECT_AS_IS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

/**
 * Turns a failed request into a NetworkError naming the host, where we can say what happened.
 * A tunnel the proxy refused reaches us without its status (undici reports only a cancelled
 * request), so the proxy is asked once more, with a bare CONNECT, to learn why.
 */
export async function explain(err: unknown, url: URL, route: Route, signal?: AbortSignal): Promise<unknown> {
  if (signal?.aborted || err instanceof NetworkError) return err;
  const name = (err as { name?: string }).name;
  if (name === 'AbortError' || name === 'TimeoutError') return err;
  const code = errorCode(err);
  // A server that is down on a direct route: the callers' own words ("Could not reach …") say it.
  if (route.kind === 'direct' && code && DIRECT_AS_IS.has(code)) return err;
  let proxyStatus: number | undefined;
  if (route.kind === 'proxy' && (!code || code === 'UND_ERR_ABORTED' || code === 'ECONNRESET')) {
    const probe = await probeProxy(route.proxy, url);
    if (typeof probe === 'number') {
      if (probe !== 200) proxyStatus = probe;
    } else if (probe) {
      const words = describeNetworkFailure({ code: probe, target: url, route, hasExtraCa: !!process.env.NODE_EXTRA_CA_CERTS });
      if (words) return new NetworkError(words, url.host, err);
    }
  }
  const words = describeNetworkFailure({ ...(code ? { code } : {}), ...(proxyStatus !== undefined ? { proxyStatus } : {}), target: url, route, hasExtraCa: !!process.env.NODE_EXTRA_CA_CERTS });
  const cause = (err as { cause?: unknown }).cause ?? err;
  return words ? new NetworkError(words, url.host, cause) : err;
}

/** A bare CONNECT to the proxy for the target: its status, or the error code of reaching it. */
function probeProxy(proxy: URL, target: URL): Promise<number | string | undefined> {
  return new Promise((resolve) => {
    const lib = proxy.protocol === 'https:' ? https : http;
    const auth = proxyAuthorization(proxy);
    const port = target.port || (target.protocol === 'https:' ? '443' : '80');
    const ca = (() => {
      try {
        return caList();
      } catch {
        return undefined;
      }
    })();
    const req = lib.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${target.hostname}:${port}`,
      headers: { host: `${target.hostname}:${port}`, ...(auth ? { 'proxy-authorization': auth } : {}) },
      agent: false,
      timeout: 5_000,
      ...(ca ? { ca } : {}),
    });
    req.once('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', (e) => resolve(errorCode(e)));
    req.end();
  });
}

// ---- node:http agents (the bridge's legacy path) ----

const directAgents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
const proxyAgents = new Map<string, http.Agent>();

/** What a node:http request to this URL needs: its agent, the CA list, and the route (for words on failure). */
export async function httpTarget(url: URL): Promise<{ agent: http.Agent; ca: string[] | undefined; route: Route }> {
  const route = await routeFor(url);
  const ca = caListOrWords(url);
  const secure = url.protocol === 'https:';
  if (route.kind === 'direct') return { agent: secure ? directAgents['https:'] : directAgents['http:'], ca, route };
  const key = `${url.protocol} ${route.proxy.href} ${caCache?.key ?? ''}`;
  let agent = proxyAgents.get(key);
  if (!agent) {
    const proxyTls = ca ? { ca } : {};
    if (secure) {
      const { HttpsProxyAgent } = cjsExports(await import('https-proxy-agent'));
      agent = new HttpsProxyAgent(route.proxy, { keepAlive: true, ...proxyTls });
    } else {
      const { HttpProxyAgent } = cjsExports(await import('http-proxy-agent'));
      agent = new HttpProxyAgent(route.proxy, { keepAlive: true, ...proxyTls });
    }
    proxyAgents.set(key, agent);
  }
  return { agent, ca, route };
}

/** The proxy answered `status` instead of connecting to `url` (407: it wants a password). */
export function proxyRefused(url: URL, route: Route, status: number): NetworkError {
  return new NetworkError(describeNetworkFailure({ proxyStatus: status, target: url, route, hasExtraCa: !!process.env.NODE_EXTRA_CA_CERTS })!, url.host, undefined);
}

/** One line for Settings and `status`: where proxies come from here. */
export function describeNetworkSource(env: NodeJS.ProcessEnv = process.env): string {
  const src = networkSource(env);
  if (src === 'environment') {
    const v = env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY || '';
    try {
      return `proxy from environment (${proxyLabel(new URL(/:\/\//.test(v) ? v : `http://${v}`))})`;
    } catch {
      return 'proxy from environment (not a valid URL)';
    }
  }
  return src === 'system' ? 'system proxy' : 'direct';
}
