// Discovery per the MCP authorization spec: probe the server, find its protected resource
// metadata (RFC 9728), then its authorization server metadata (RFC 8414 / OpenID Discovery).
import { VERSION } from '../platform/version.js';
import { checkResourceAllowed } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import { authParams, challengeSchemes } from './challenge.js';
import { UserError } from '../platform/errors.js';
import { errorCode, netFetch, networkErrorIn } from '../platform/network.js';
import { type FetchFn, httpRequest, parseJsonObject } from './http.js';
import type { AsMetadata } from '../types.js';
import { canonicalResource, checkNamedUrl, displayUrl, safeHttpUrl } from '../platform/urls.js';

export const PROBE_PROTOCOL_VERSION = '2025-11-25';
/** The 2026-07-28 revision: no handshake; version, identity and capabilities ride in every request. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * A probe request as a well-behaved client of either era sends it: the version header, the
 * `Mcp-Method` header (2026-07-28 standard headers), and `_meta` with the version, identity and
 * (no) capabilities, which 2026-07-28 requires on every request and older servers ignore.
 */
function probeRequest(method: string, id: number, version: string, params: Record<string, unknown>, sessionId?: string | null): RequestInit {
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-token-manager', version: VERSION },
  };
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': version,
      'mcp-method': method,
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta } }),
  };
}

export interface ProbeResult {
  status: number;
  transport: 'streamable-http' | 'sse';
  challenge: Record<string, string>;
  /** The challenge's schemes ('bearer', 'dpop'): a DPoP one says the server takes DPoP-bound tokens. */
  schemes?: string[];
}

export interface DiscoveryResult {
  serverUrl: string;
  transport: 'streamable-http' | 'sse';
  /** The `resource` parameter to send (RFC 8707): the metadata's string verbatim when there is one. */
  resource: string;
  resourceMetadata?: Record<string, unknown>;
  resourceMetadataUrl?: string;
  challenge: Record<string, string>;
  challengeSchemes?: string[];
  issuer: string;
  asMetadata: AsMetadata;
  /** Where the AS metadata came from; undefined when the 2025-03-26 default endpoints were assumed. */
  asMetadataUrl?: string;
  /** Scopes to request, chosen per the spec. */
  scopes: string[];
}

export interface DiscoverOptions {
  fetchFn?: FetchFn;
  progress?: (line: string) => void;
  timeoutMs?: number;
}

const ENDPOINT_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
  'device_authorization_endpoint',
  'introspection_endpoint',
] as const;

/** Sends an unauthenticated MCP request and reads the challenge. */
export async function probe(serverUrl: URL, opts: DiscoverOptions = {}): Promise<ProbeResult> {
  const fetchFn = opts.fetchFn ?? netFetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const post = await rawProbe(
    serverUrl,
    fetchFn,
    timeoutMs,
    probeRequest('initialize', 0, PROBE_PROTOCOL_VERSION, { protocolVersion: PROBE_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-token-manager', version: VERSION } }),
  );
  if (post.status === 401 || post.status === 403) {
    return { status: post.status, transport: 'streamable-http', challenge: authParams(post.wwwAuthenticate), schemes: challengeSchemes(post.wwwAuthenticate) };
  }
  if ((post.status >= 200 && post.status < 300) || post.status === 400) {
    // Some servers let the handshake through and ask for authorization only from the first real
    // request on (a 2025-11-25 server that guards its tools), and a 2026-07-28 server refuses a
    // handshake it does not have (400). Either way, ask for the tools as a client would next.
    const modern = post.status === 400;
    const next = await rawProbe(serverUrl, fetchFn, timeoutMs, probeRequest('tools/list', 1, modern ? MODERN_PROTOCOL_VERSION : PROBE_PROTOCOL_VERSION, {}, modern ? undefined : post.sessionId));
    if (next.status === 401 || next.status === 403) {
      return { status: next.status, transport: 'streamable-http', challenge: authParams(next.wwwAuthenticate), schemes: challengeSchemes(next.wwwAuthenticate) };
    }
    if (next.status >= 200 && next.status < 300) return noAuth(serverUrl);
  }
  if (post.status === 404 || post.status === 405 || post.status === 400) {
    // Possibly a legacy HTTP+SSE endpoint: it is opened with GET.
    const get = await rawProbe(serverUrl, fetchFn, timeoutMs, { method: 'GET', headers: { accept: 'text/event-stream' } });
    if (get.status === 401 || get.status === 403) {
      return { status: get.status, transport: 'sse', challenge: authParams(get.wwwAuthenticate), schemes: challengeSchemes(get.wwwAuthenticate) };
    }
    if (get.status >= 200 && get.status < 300) return noAuth(serverUrl);
    throw new UserError('discovery', `${displayUrl(serverUrl)} answered HTTP ${post.status} to an MCP request and ${get.status} to an SSE request; it does not look like an MCP server.`, 'Check the URL (it usually ends in /mcp or /sse).');
  }
  if (post.status >= 200 && post.status < 300) return noAuth(serverUrl);
  if (post.status >= 300 && post.status < 400) {
    throw new UserError('discovery', `${displayUrl(serverUrl)} redirects (HTTP ${post.status}) instead of answering.`, 'Use the final URL of the MCP endpoint.');
  }
  throw new UserError('discovery', `${displayUrl(serverUrl)} answered HTTP ${post.status} to an MCP request.`, 'Check the URL and try again later.');
}

function noAuth(url: URL): never {
  throw new UserError('no-auth', `${displayUrl(url)} answered without asking for authorization, so there is nothing to link.`, 'Use it directly from your MCP client; no token is needed.');
}

async function rawProbe(url: URL, fetchFn: FetchFn, timeoutMs: number, init: RequestInit): Promise<{ status: number; wwwAuthenticate: string | null; sessionId: string | null }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error('timeout')), timeoutMs);
  try {
    const res = await fetchFn(url, { ...init, redirect: 'manual', signal: ctl.signal });
    const out = { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), sessionId: res.headers.get('mcp-session-id') };
    // Never read a body here: an SSE stream would not end.
    ctl.abort();
    return out;
  } catch (err) {
    if (ctl.signal.aborted) {
      throw new UserError('timeout', `No answer from ${displayUrl(url)} within ${Math.round(timeoutMs / 1000)} s.`, 'Check the URL and that the server is up.');
    }
    const net = networkErrorIn(err);
    if (net) throw new UserError('network', net.message, 'Nothing was stored.', { cause: err });
    // The system's code (ECONNREFUSED, ENOTFOUND…) may sit deeper than the first cause; the UI words it by code.
    const code = errorCode(err);
    throw new UserError('network', `Could not reach ${displayUrl(url)}${code ? ` (${code})` : ''}.`, 'Check the URL and that the server is up.');
  } finally {
    clearTimeout(timer);
  }
}

/** The RFC 9728 well-known URLs for a resource, in the spec's order: path-inserted, then root. */
export function protectedResourceMetadataUrls(serverUrl: URL): URL[] {
  const path = serverUrl.pathname.replace(/\/$/, '');
  const root = new URL('/.well-known/oauth-protected-resource', serverUrl.origin);
  if (!path) return [root];
  return [new URL(`/.well-known/oauth-protected-resource${path}`, serverUrl.origin), root];
}

async function fetchResourceMetadata(
  serverUrl: URL,
  challenge: Record<string, string>,
  opts: DiscoverOptions,
): Promise<{ doc: Record<string, unknown>; url: URL } | undefined> {
  const fromChallenge = challenge.resource_metadata;
  const candidates = fromChallenge
    ? [checkNamedUrl(safeHttpUrl(fromChallenge, 'resource_metadata URL in the server challenge'), serverUrl, 'resource_metadata URL in the server challenge')]
    : protectedResourceMetadataUrls(serverUrl);
  for (const url of candidates) {
    const res = await httpRequest(url, { headers: { accept: 'application/json', 'mcp-protocol-version': PROBE_PROTOCOL_VERSION }, fetchFn: opts.fetchFn, timeoutMs: opts.timeoutMs });
    if (res.status === 200) return { doc: parseJsonObject(res.text, 'protected resource metadata', url), url };
    if (fromChallenge) {
      throw new UserError('discovery', `The server points to its resource metadata at ${displayUrl(url)}, which answered HTTP ${res.status}.`, 'The server is misconfigured; contact its operator.');
    }
    if (res.status >= 500) {
      throw new UserError('discovery', `Resource metadata at ${displayUrl(url)} answered HTTP ${res.status}.`, 'The server has a problem; try again later.');
    }
  }
  return undefined;
}

/** Validates RFC 9728 metadata against the server URL; returns the resource string and AS list. */
export function validateResourceMetadata(doc: Record<string, unknown>, serverUrl: URL, from: URL): { resource: string; authorizationServers: string[] } {
  const resource = doc.resource;
  if (typeof resource !== 'string' || !resource) {
    throw new UserError('discovery', `The resource metadata at ${displayUrl(from)} has no "resource" field.`, 'The server is misconfigured; contact its operator.');
  }
  if (!safeCheck(serverUrl, resource)) {
    throw new UserError(
      'resource-mismatch',
      `The resource metadata names the resource ${JSON.stringify(resource.slice(0, 200))}, which does not match the server ${displayUrl(serverUrl)}. Refusing: tokens for it could be used elsewhere.`,
      'Check the URL you gave; if it is right, the server is misconfigured.',
    );
  }
  const list = doc.authorization_servers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
    throw new UserError('discovery', `The resource metadata at ${displayUrl(from)} lists no authorization_servers.`, 'The server is misconfigured; contact its operator.');
  }
  return { resource, authorizationServers: list as string[] };
}

function sameIssuer(a: string, b: string): boolean {
  if (a === b) return true;
  // A path-less issuer may be written with or without its trailing slash; both build the same URLs.
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    return ua.pathname === '/' && ub.pathname === '/' && ua.href === ub.href;
  } catch {
    return false;
  }
}

/** Finds and validates AS metadata for an issuer, trying the spec's URLs in order. */
export async function discoverAuthorizationServer(issuer: string, opts: DiscoverOptions = {}): Promise<{ metadata: AsMetadata; url: URL } | undefined> {
  const issuerUrl = safeHttpUrl(issuer, 'authorization server address');
  const tried: string[] = [];
  // Loaded here, not at the top: the SDK's auth module brings zod and its schemas, which the
  // broker daemon (refreshing tokens, never discovering) would otherwise load at every start.
  const { buildDiscoveryUrls } = await import('@modelcontextprotocol/sdk/client/auth.js');
  for (const { url } of buildDiscoveryUrls(issuerUrl)) {
    tried.push(displayUrl(url));
    const res = await httpRequest(url, { headers: { accept: 'application/json' }, fetchFn: opts.fetchFn, timeoutMs: opts.timeoutMs });
    if (res.status !== 200) {
      if (res.status >= 500) {
        throw new UserError('discovery', `Authorization server metadata at ${displayUrl(url)} answered HTTP ${res.status}.`, 'The authorization server has a problem; try again later.');
      }
      continue;
    }
    const doc = parseJsonObject(res.text, 'authorization server metadata', url);
    if (typeof doc.issuer !== 'string' || !sameIssuer(doc.issuer, issuer)) {
      throw new UserError(
        'issuer-mismatch',
        `The authorization server metadata at ${displayUrl(url)} says its issuer is ${JSON.stringify(String(doc.issuer).slice(0, 200))}, not ${issuer}. Refusing: this could be a mix-up attack.`,
        'The authorization server is misconfigured; contact the server operator.',
      );
    }
    return { metadata: validateAsMetadata(doc as AsMetadata, url), url };
  }
  return undefined;
}

/**
 * Every endpoint must be https (or http on loopback): a hostile document cannot send us elsewhere.
 * With `from` (where the document came from), loopback endpoints need a loopback document.
 */
export function validateAsMetadata(doc: AsMetadata, from?: URL): AsMetadata {
  for (const f of ENDPOINT_FIELDS) {
    if (doc[f] === undefined) continue;
    const what = `${f.replace(/_/g, ' ')} of the authorization server`;
    const u = safeHttpUrl(doc[f], what);
    if (from) checkNamedUrl(u, from, what);
  }
  if (doc.token_endpoint === undefined) {
    throw new UserError('discovery', `The authorization server ${doc.issuer} publishes no token_endpoint.`, 'The authorization server is misconfigured.');
  }
  return doc;
}

export function supportsPkceS256(as: AsMetadata): boolean {
  const m = as.code_challenge_methods_supported;
  return Array.isArray(m) && m.includes('S256');
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Scope selection (MCP spec): the challenge's scope, else the resource metadata's
 * scopes_supported, else none; offline_access added only when the AS lists it.
 */
export function selectScopes(challenge: Record<string, string>, prm: Record<string, unknown> | undefined, as: AsMetadata, override?: string[]): string[] {
  let scopes: string[];
  if (override && override.length) scopes = [...override];
  else if (challenge.scope) scopes = challenge.scope.split(/\s+/).filter(Boolean);
  else scopes = strings(prm?.scopes_supported);
  const asScopes = strings(as.scopes_supported);
  if (asScopes.includes('offline_access') && !scopes.includes('offline_access')) scopes.push('offline_access');
  if (!asScopes.includes('offline_access')) scopes = scopes.filter((s) => s !== 'offline_access');
  return [...new Set(scopes)];
}

/** A short description of what the AS supports, for the progress line. */
export function describeAs(as: AsMetadata): string {
  const parts: string[] = [];
  if (supportsPkceS256(as)) parts.push('PKCE S256');
  if (as.registration_endpoint) parts.push('dynamic registration');
  if (as.client_id_metadata_document_supported === true) parts.push('client metadata documents');
  if (as.device_authorization_endpoint) parts.push('device flow');
  if (as.revocation_endpoint) parts.push('revocation');
  return parts.length ? parts.join(', ') : 'no optional features';
}

export async function discover(serverUrlRaw: string, opts: DiscoverOptions & { scopes?: string[] } = {}): Promise<DiscoveryResult> {
  const progress = opts.progress ?? (() => {});
  const serverUrl = safeHttpUrl(serverUrlRaw, 'server URL');
  progress(`Probing ${displayUrl(serverUrl)}…`);
  const probed = await probe(serverUrl, opts);
  const challenge = probed.challenge;
  progress(`Server asks for authorization (HTTP ${probed.status}${probed.transport === 'sse' ? ', legacy HTTP+SSE' : ''}).`);

  const prm = await fetchResourceMetadata(serverUrl, challenge, opts);
  let resource: string;
  let issuer: string;
  let fallback = false;
  if (prm) {
    const v = validateResourceMetadata(prm.doc, serverUrl, prm.url);
    resource = v.resource;
    issuer = v.authorizationServers[0]!;
    checkNamedUrl(safeHttpUrl(issuer, 'authorization server address'), prm.url, 'authorization server named in the resource metadata');
    progress(`Found resource metadata at ${displayUrl(prm.url)} (resource ${resource}).`);
  } else {
    const hinted = challenge.resource;
    resource = hinted && safeCheck(serverUrl, hinted) ? hinted : canonicalResource(serverUrl.href);
    if (challenge.authorization_uri) {
      issuer = challenge.authorization_uri.replace(/\/\.well-known\/.*$/, '');
      checkNamedUrl(safeHttpUrl(issuer, 'authorization server address'), serverUrl, 'authorization server named in the server challenge');
      progress(`No resource metadata; the challenge names the authorization server ${issuer}.`);
    } else {
      issuer = serverUrl.origin;
      fallback = true;
      progress(`No resource metadata; trying the server's own origin ${issuer} as authorization server (2025-03-26 style).`);
    }
  }

  const found = await discoverAuthorizationServer(issuer, opts);
  let asMetadata: AsMetadata;
  if (found) {
    asMetadata = found.metadata;
  } else if (fallback) {
    // 2025-03-26 servers without metadata use default endpoints at their origin.
    asMetadata = validateAsMetadata({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });
    progress(`No authorization server metadata at ${issuer}; using its default endpoints /authorize, /token, /register.`);
  } else {
    throw new UserError('discovery', `No authorization server metadata found for ${issuer} (tried RFC 8414 and OpenID discovery URLs).`, 'The server or its authorization server is misconfigured; contact its operator.');
  }
  progress(`Found authorization server ${asMetadata.issuer} (supports ${describeAs(asMetadata)}).`);

  const scopes = selectScopes(challenge, prm?.doc, asMetadata, opts.scopes);
  return {
    serverUrl: serverUrl.href,
    transport: probed.transport,
    resource,
    ...(prm ? { resourceMetadata: prm.doc, resourceMetadataUrl: prm.url.href } : {}),
    challenge,
    ...(probed.schemes ? { challengeSchemes: probed.schemes } : {}),
    issuer: asMetadata.issuer,
    asMetadata,
    ...(found ? { asMetadataUrl: found.url.href } : {}),
    scopes,
  };
}

function safeCheck(serverUrl: URL, resource: string): boolean {
  try {
    return checkResourceAllowed({ requestedResource: serverUrl, configuredResource: resource });
  } catch {
    return false;
  }
}
