// The 2026-07-28 ("modern") HTTP side: one POST per JSON-RPC request, the answer as JSON or as a
// request-scoped SSE stream, no sessions. The installed SDK (1.32) only speaks the legacy
// revisions, so this is written to the spec (basic/transports/streamable-http, basic/versioning,
// server/discover), small and on its own.
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ModernHttpError, ProtocolMismatch } from '../errors.js';
import { META } from './meta.js';
import { SseParser } from './sse.js';

export { META, ModernHttpError, ProtocolMismatch };

/** Modern revisions this bridge speaks, preferred first. */
export const MODERN_VERSIONS: readonly string[] = ['2026-07-28'];
/** Legacy (initialize-handshake) revisions, as the SDK knows them. */
export const LEGACY_VERSIONS: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
export const LATEST_LEGACY_VERSION = LATEST_PROTOCOL_VERSION;


export const HEADER_MISMATCH = -32020;
export const MISSING_CAPABILITY = -32021;
export const UNSUPPORTED_VERSION = -32022;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export type Answer = { jsonrpc: '2.0'; id?: RequestId | null; result: Record<string, unknown> } | { jsonrpc: '2.0'; id?: RequestId | null; error: RpcError };

export interface Implementation {
  name: string;
  version: string;
  [k: string]: unknown;
}

export interface DiscoverInfo {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  serverInfo?: Implementation;
  instructions?: string;
}

/** The client whose requests the bridge carries: its identity goes into every request's `_meta`. */
export interface ClientIdentity {
  clientInfo: Implementation;
  capabilities: Record<string, unknown>;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isAnswer(m: unknown): m is Answer {
  return isObject(m) && m.jsonrpc === '2.0' && !('method' in m) && (isObject(m.result) || isObject(m.error));
}

export interface Exchange {
  status: number;
  answer?: Answer;
  /** An SSE stream that ended before the answer: the request is lost and must be re-issued. */
  broken?: boolean;
  /** The stream's `retry:` hint, for the re-issue. */
  retryMs?: number;
  /** The start of a body that was not JSON-RPC. */
  text?: string;
}

export interface ExchangeOptions {
  fetch: FetchLike;
  url: URL;
  message: JSONRPCMessage;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Notifications (and anything else that is not the answer) on the response stream. */
  onMessage?: (m: JSONRPCMessage) => void;
  /** Called once the response headers are in (the listen stream is "open" then). */
  onOpen?: (status: number) => void;
}

/** One POST and its answer. Network errors and aborts reject; HTTP errors resolve with their status. */
export async function exchange(o: ExchangeOptions): Promise<Exchange> {
  const headers = new Headers(o.headers);
  headers.set('content-type', 'application/json');
  headers.set('accept', 'application/json, text/event-stream');
  const res = await o.fetch(o.url, { method: 'POST', headers, body: JSON.stringify(o.message), ...(o.signal ? { signal: o.signal } : {}) });
  const status = res.status;
  o.onOpen?.(status);
  const id = 'id' in o.message ? o.message.id : undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream') && res.body) {
    let answer: Answer | undefined;
    const parser = new SseParser((e) => {
      if (answer || e.event !== 'message') return;
      let m: unknown;
      try {
        m = JSON.parse(e.data);
      } catch {
        return; // not JSON-RPC: nothing a client can do with it
      }
      if (isAnswer(m) && (m.id === id || m.id === null || m.id === undefined)) answer = m;
      else if (isObject(m)) o.onMessage?.(m as JSONRPCMessage);
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        if (answer) break;
      }
      parser.push(decoder.decode());
    } catch (err) {
      if (o.signal?.aborted) throw err;
      return { status, broken: true, ...(parser.retryMs !== undefined ? { retryMs: parser.retryMs } : {}) };
    } finally {
      // The answer ends our interest; closing the stream after it is not a cancellation.
      reader.cancel().catch(() => {});
    }
    parser.end();
    if (answer) return { status, answer };
    return { status, broken: true, ...(parser.retryMs !== undefined ? { retryMs: parser.retryMs } : {}) };
  }
  const text = await res.text();
  if (text) {
    try {
      const v: unknown = JSON.parse(text);
      if (isAnswer(v)) return { status, answer: v };
    } catch {
      // not JSON
    }
  }
  return { status, text: text.length > 300 ? `${text.slice(0, 300)}…` : text };
}

/** The first modern version we speak that the server lists. */
export function pickModernVersion(supported: unknown): string | undefined {
  if (!Array.isArray(supported)) return undefined;
  return MODERN_VERSIONS.find((v) => supported.includes(v));
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function requestMeta(version: string, identity: ClientIdentity, extra?: unknown): Record<string, unknown> {
  return {
    ...(isObject(extra) ? extra : {}),
    [META.protocolVersion]: version,
    [META.clientInfo]: identity.clientInfo,
    [META.clientCapabilities]: modernCapabilities(identity.capabilities),
  };
}

/** A legacy client's capabilities as a 2026-07-28 request declares them. */
export function modernCapabilities(caps: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(caps)) {
    if (k === 'tasks') continue; // tasks moved to an extension; the legacy shape means nothing here
    // roots/list_changed is gone: roots are asked for per request.
    out[k] = k === 'roots' && isObject(v) ? {} : v;
  }
  return out;
}

export type EraAnswer = { era: 'modern'; version: string; info: DiscoverInfo } | { era: 'legacy'; why: string } | { era: 'neither'; why: string };

export interface EraQuery {
  fetch: FetchLike;
  url: URL;
  identity: ClientIdentity;
  timeoutMs: number;
  id: () => RequestId;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

const knownList = (versions: string[]) => (versions.length ? versions.join(', ') : 'no version at all');
const weSpeak = `${MODERN_VERSIONS.join(', ')} and the legacy revisions up to ${LATEST_LEGACY_VERSION}`;

/**
 * Is the server modern? `server/discover` first (servers MUST implement it); a 2xx DiscoverResult
 * or a recognized modern error (-32020/-32021/-32022, or 404 with -32601) means modern, anything
 * else legacy (Streamable HTTP "Backward Compatibility"). -32022 is retried once with a version
 * the server lists. Network and authorization failures reject.
 */
export async function askEra(o: EraQuery): Promise<EraAnswer> {
  let version = MODERN_VERSIONS[0] ?? '2026-07-28';
  let retried = false;
  const origin = o.url.origin;
  for (;;) {
    const message = { jsonrpc: '2.0' as const, id: o.id(), method: 'server/discover', params: { _meta: requestMeta(version, o.identity) } };
    let ex: Exchange;
    try {
      ex = await exchange({ fetch: o.fetch, url: o.url, message, headers: { 'MCP-Protocol-Version': version, 'Mcp-Method': 'server/discover' }, signal: AbortSignal.timeout(o.timeoutMs) });
    } catch (err) {
      // A legacy server may never answer a method it does not know.
      if (err instanceof Error && err.name === 'TimeoutError') return { era: 'legacy', why: `no answer to server/discover within ${o.timeoutMs} ms` };
      throw err;
    }
    const a = ex.answer;
    if (a && 'result' in a) {
      const r = a.result;
      if (!Array.isArray(r.supportedVersions)) return { era: 'legacy', why: `server/discover answered HTTP ${ex.status} with something other than a DiscoverResult` };
      const versions = strings(r.supportedVersions);
      const chosen = pickModernVersion(versions);
      if (chosen) return { era: 'modern', version: chosen, info: discoverInfo(r, versions) };
      if (versions.some((v) => LEGACY_VERSIONS.includes(v))) return { era: 'legacy', why: `server/discover lists only ${knownList(versions)}` };
      return { era: 'neither', why: `${origin} supports MCP ${knownList(versions)}; this bridge speaks ${weSpeak}` };
    }
    if (a && 'error' in a) {
      const { code, message: text, data } = a.error;
      if (code === UNSUPPORTED_VERSION) {
        const supported = strings(isObject(data) ? data.supported : undefined);
        const next = pickModernVersion(supported);
        if (next && !retried) {
          retried = true;
          o.log('info', `${origin} does not accept MCP ${version} (-32022, supports ${knownList(supported)}); retrying with ${next}`);
          version = next;
          continue;
        }
        if (!next && supported.some((v) => LEGACY_VERSIONS.includes(v))) return { era: 'legacy', why: `server/discover: only ${knownList(supported)} supported` };
        return { era: 'neither', why: `${origin} does not accept MCP ${version} and supports ${knownList(supported)}; this bridge speaks ${weSpeak}` };
      }
      if (code === HEADER_MISMATCH || code === MISSING_CAPABILITY || (code === -32601 && ex.status === 404)) {
        // A modern server after all, whatever it thought of this discover: use what we know.
        o.log('warn', `${origin} answered server/discover with ${code} (${text}); treating it as a ${version} server`);
        return { era: 'modern', version, info: { supportedVersions: [version], capabilities: { tools: {}, resources: {}, prompts: {} } } };
      }
      return { era: 'legacy', why: `server/discover answered HTTP ${ex.status}: ${code} ${text}` };
    }
    return { era: 'legacy', why: `server/discover answered HTTP ${ex.status}${ex.broken ? ' (a stream without an answer)' : ''}` };
  }
}

function discoverInfo(r: Record<string, unknown>, versions: string[]): DiscoverInfo {
  const meta = isObject(r._meta) ? r._meta : {};
  // The released schema carries serverInfo in _meta; earlier drafts had it at the top level.
  const info = isObject(meta[META.serverInfo]) ? meta[META.serverInfo] : r.serverInfo;
  const serverInfo = isObject(info) && typeof info.name === 'string' ? ({ version: '', ...info } as Implementation) : undefined;
  return {
    supportedVersions: versions,
    capabilities: isObject(r.capabilities) ? r.capabilities : {},
    ...(serverInfo ? { serverInfo } : {}),
    ...(typeof r.instructions === 'string' ? { instructions: r.instructions } : {}),
  };
}
