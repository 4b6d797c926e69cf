// A legacy stdio client (initialize handshake, server-to-client requests) in front of a modern
// 2026-07-28 server (no handshake, identity in every request, multi round-trip requests).
// The client sees an ordinary legacy session; the server sees an ordinary modern client.
import { VERSION } from '../../core/platform/version.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { idKey, sleep } from '../errors.js';
import { mcpName, encodeHeaderValue, paramHeaders } from './headers.js';
import {
  exchange,
  HEADER_MISMATCH,
  isObject,
  LATEST_LEGACY_VERSION,
  LEGACY_VERSIONS,
  META,
  ModernHttpError,
  pickModernVersion,
  requestMeta,
  UNSUPPORTED_VERSION,
  type Answer,
  type ClientIdentity,
  type DiscoverInfo,
  type Exchange,
  type RpcError,
} from './protocol.js';
import type { ErrorLine } from '../stdio.js';
import { ChangeListener } from './listen.js';
import { ToolTable } from './tools.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** What a forwarded client request carries for the modern side. */
export interface ModernCall {
  msg: JSONRPCRequest;
  done: boolean;
  /** The HTTP exchange under way: aborting it closes the stream, which cancels at the server. */
  controller?: AbortController;
  /** Our requests to the client (elicitation, sampling, roots) made for this call. */
  asking?: Set<RequestId>;
}

export interface ModernHost {
  url: URL;
  fetch: FetchLike;
  timeoutMs: number;
  write(msg: JSONRPCMessage | ErrorLine): void;
  answer(call: ModernCall, reply: JSONRPCMessage | ErrorLine): void;
  /** A notification from the server (progress restarts the call's timer). */
  notify(msg: JSONRPCNotification): void;
  /** The person is answering the client's dialog: the call's timer waits. */
  hold(call: ModernCall, held: boolean): void;
  internalId(): string;
  log(level: Level, msg: string): void;
}

/** The call was cancelled or timed out: nobody waits for its answer any more. */
export class Cancelled extends Error {}

/** The client answered one of our requests with an error. */
class ClientRefused extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
  }
}

const INPUT_METHODS: Record<string, string> = { 'elicitation/create': 'elicitation', 'sampling/createMessage': 'sampling', 'roots/list': 'roots' };
/** Bounds on a server that keeps asking: MRTR rounds per call, re-issues of a broken stream. */
const MAX_ROUNDS = 16;
const MAX_REISSUES = 2;

export class ModernSession {
  version: string;
  identity: ClientIdentity = { clientInfo: { name: 'mcp-tokens-bridge', version: VERSION }, capabilities: {} };
  private logLevel: string | undefined;
  private readonly tools: ToolTable;
  private readonly waiters = new Map<string, (m: Answer) => void>();
  private readonly listener: ChangeListener;
  private closed = false;

  constructor(
    private readonly host: ModernHost,
    version: string,
    readonly info: DiscoverInfo,
  ) {
    this.version = version;
    this.tools = new ToolTable({
      origin: host.url.origin,
      list: (cursor) => this.roundTrip('tools/list', cursor ? { cursor } : {}, { signal: AbortSignal.timeout(host.timeoutMs) }),
      warn: (msg) => host.log('warn', msg),
    });
    this.listener = new ChangeListener({
      origin: host.url.origin,
      capabilities: info.capabilities,
      listen: (filter, signal, onMessage) => {
        const params = this.metaFor({ notifications: filter });
        return exchange({
          fetch: host.fetch,
          url: host.url,
          message: { jsonrpc: '2.0', id: host.internalId(), method: 'subscriptions/listen', params },
          headers: this.headersFor('subscriptions/listen', params, this.version),
          signal,
          onMessage,
        });
      },
      useVersion: (v) => {
        this.version = v;
      },
      notification: (m) => this.fromStream(m, 'subscriptions/listen'),
      log: (level, msg) => host.log(level, msg),
    });
  }

  private get origin(): string {
    return this.host.url.origin;
  }

  // ---- the handshake the legacy client expects ----

  /** The client's initialize, answered from what server/discover said. */
  initialize(params: unknown): Record<string, unknown> {
    const p = isObject(params) ? params : {};
    const info = isObject(p.clientInfo) && typeof p.clientInfo.name === 'string' ? p.clientInfo : undefined;
    this.identity = {
      clientInfo: info ? { version: '', ...info, name: info.name as string } : this.identity.clientInfo,
      capabilities: isObject(p.capabilities) ? p.capabilities : {},
    };
    this.listener.reset();
    const asked = typeof p.protocolVersion === 'string' ? p.protocolVersion : undefined;
    return {
      protocolVersion: asked && LEGACY_VERSIONS.includes(asked) ? asked : LATEST_LEGACY_VERSION,
      capabilities: this.info.capabilities,
      serverInfo: this.info.serverInfo ?? { name: this.host.url.host, version: '' },
      ...(this.info.instructions ? { instructions: this.info.instructions } : {}),
    };
  }

  /** notifications/initialized: change notifications may flow now. */
  initialized(): void {
    this.listener.initialized();
  }

  // ---- the client's requests ----

  async handle(call: ModernCall): Promise<void> {
    const { method } = call.msg;
    const params: Record<string, unknown> = isObject(call.msg.params) ? { ...call.msg.params } : {};
    const local = (result: Record<string, unknown>) => this.host.answer(call, { jsonrpc: '2.0', id: call.msg.id, result });
    const refuse = (code: number, message: string) => this.host.answer(call, { jsonrpc: '2.0', id: call.msg.id, error: { code, message } });
    switch (method) {
      case 'ping':
        return local({}); // removed in 2026-07-28; the bridge itself is what answers
      case 'logging/setLevel':
        // Per request now: carried in every later request's _meta.
        if (typeof params.level === 'string') this.logLevel = params.level;
        return local({});
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        if (typeof params.uri !== 'string') return refuse(-32602, 'Invalid params: uri is required');
        this.listener.subscribe(params.uri, method === 'resources/subscribe');
        return local({});
      }
      case 'tools/call': {
        const name = typeof params.name === 'string' ? params.name : '';
        await this.tools.know(name);
        const t = this.tools.get(name);
        if (t && !t.ok) return refuse(-32602, `Tool '${name}' was refused by the bridge: ${t.reason}`);
        break;
      }
      default:
        break;
    }
    if (call.done) return;

    // Multi round-trip: answer the server's input requests through the client, then retry.
    let current = params;
    let id: RequestId = call.msg.id;
    for (let round = 0; ; round++) {
      const answer = await this.roundTrip(method, current, { call, id });
      if (call.done) return;
      if ('error' in answer) return this.host.answer(call, { jsonrpc: '2.0', id: call.msg.id, error: answer.error });
      const result = answer.result;
      if (result.resultType === 'input_required') {
        if (round + 1 >= MAX_ROUNDS) return refuse(-32603, `${this.origin} asked for more input ${MAX_ROUNDS} times; giving up on ${method}`);
        let responses: Record<string, unknown> | undefined;
        if (isObject(result.inputRequests)) {
          try {
            responses = await this.askClient(call, result.inputRequests);
          } catch (err) {
            if (err instanceof Cancelled || call.done) return;
            if (err instanceof ClientRefused) return this.host.answer(call, { jsonrpc: '2.0', id: call.msg.id, error: err.error });
            throw err;
          }
        }
        if (call.done) return;
        current = { ...params };
        delete current.inputResponses;
        delete current.requestState;
        if (responses) current.inputResponses = responses;
        if (typeof result.requestState === 'string') current.requestState = result.requestState;
        id = this.host.internalId(); // a retry is a new request (MRTR: the ids MUST differ)
        continue;
      }
      if (result.resultType !== undefined && result.resultType !== 'complete') {
        return refuse(-32603, `${this.origin} answered ${method} with an unknown resultType '${String(result.resultType)}'`);
      }
      const out = { ...result };
      delete out.resultType;
      if (method === 'tools/list') out.tools = this.tools.keepValid(out.tools, !('cursor' in params) && out.nextCursor === undefined);
      return this.host.answer(call, { jsonrpc: '2.0', id: call.msg.id, result: out });
    }
  }

  /** A stdio client that speaks 2026-07-28 itself: its requests go out as they are. */
  async passThrough(call: ModernCall): Promise<void> {
    const params = isObject(call.msg.params) ? call.msg.params : {};
    const meta = isObject(params._meta) ? params._meta : {};
    const asked = meta[META.protocolVersion];
    const version = typeof asked === 'string' ? asked : this.version;
    if (call.msg.method === 'tools/call' && typeof params.name === 'string') await this.tools.know(params.name);
    const answer = await this.roundTrip(call.msg.method, params, { call, id: call.msg.id, raw: version });
    if (call.done) return;
    if ('result' in answer && call.msg.method === 'tools/list') {
      answer.result.tools = this.tools.keepValid(answer.result.tools, !('cursor' in params) && answer.result.nextCursor === undefined);
    }
    this.host.answer(call, { ...answer, id: call.msg.id } as JSONRPCMessage);
  }

  /** The client answered one of our requests; false when it was not ours. */
  fromClient(msg: Answer): boolean {
    const w = this.waiters.get(idKey(msg.id));
    if (!w) return false;
    w(msg);
    return true;
  }

  /** The call is over (cancelled or timed out): stop its HTTP stream and its questions to the client. */
  cancel(call: ModernCall, reason: string): void {
    call.controller?.abort();
    for (const id of call.asking ?? []) {
      this.host.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
      this.waiters.get(idKey(id))?.({ jsonrpc: '2.0', id, error: { code: -32800, message: reason } });
    }
  }

  close(): void {
    this.closed = true;
    this.listener.close();
  }

  // ---- one request, with the transport's retries ----

  private metaFor(params: Record<string, unknown>): Record<string, unknown> {
    const meta = requestMeta(this.version, this.identity, params._meta);
    if (this.logLevel) meta[META.logLevel] = this.logLevel;
    return { ...params, _meta: meta };
  }

  private headersFor(method: string, params: Record<string, unknown>, version: string): Record<string, string> {
    const h: Record<string, string> = { 'MCP-Protocol-Version': version, 'Mcp-Method': method };
    const name = mcpName(method, params);
    if (name !== undefined) h['Mcp-Name'] = encodeHeaderValue(name);
    if (method === 'tools/call' && typeof params.name === 'string') {
      const t = this.tools.get(params.name);
      if (t?.ok) Object.assign(h, paramHeaders(t.params, params.arguments));
    }
    return h;
  }

  /**
   * Sends one request and returns its answer: -32022 retried once with a version the server lists,
   * -32020 on tools/call retried once after re-reading the tool list, a stream that broke before
   * its answer re-issued with a new id (2026-07-28 has no resumption), at most twice.
   */
  private async roundTrip(method: string, params: Record<string, unknown>, o: { call?: ModernCall; id?: RequestId; raw?: string; signal?: AbortSignal }): Promise<Answer> {
    let id: RequestId = o.id ?? this.host.internalId();
    let versionRetried = false;
    let headersRetried = false;
    let reissues = 0;
    for (;;) {
      if (o.call?.done || this.closed) throw new Cancelled('cancelled');
      const version = o.raw ?? this.version;
      const body = o.raw ? params : this.metaFor(params);
      const controller = new AbortController();
      if (o.call) o.call.controller = controller;
      const signal = o.signal ? AbortSignal.any([controller.signal, o.signal]) : controller.signal;
      let ex: Exchange;
      try {
        ex = await exchange({
          fetch: this.host.fetch,
          url: this.host.url,
          message: { jsonrpc: '2.0', id, method, params: body },
          headers: this.headersFor(method, body, version),
          signal,
          onMessage: (m) => this.fromStream(m, method),
        });
      } catch (err) {
        if (o.call?.done || controller.signal.aborted) throw new Cancelled('cancelled');
        throw err;
      } finally {
        if (o.call?.controller === controller) o.call.controller = undefined;
      }
      if (ex.broken) {
        if (reissues >= MAX_REISSUES) throw new Error(`the response stream for ${method} from ${this.origin} broke ${reissues + 1} times before its answer`);
        reissues++;
        const wait = Math.min(ex.retryMs ?? 250, 5_000);
        this.host.log('info', `the response stream for ${method} broke before its answer; re-issuing it in ${wait} ms`);
        await sleep(wait, signal);
        id = this.host.internalId();
        continue;
      }
      if (!ex.answer) {
        throw new ModernHttpError(ex.status, ex.text || 'no JSON-RPC answer');
      }
      const err = 'error' in ex.answer ? ex.answer.error : undefined;
      if (err?.code === UNSUPPORTED_VERSION && !o.raw && !versionRetried) {
        const data = isObject(err.data) ? err.data : {};
        const next = pickModernVersion(data.supported);
        if (next) {
          versionRetried = true;
          this.host.log('info', `${this.origin} refused MCP ${this.version} for ${method} (-32022); retrying with ${next}`);
          this.version = next;
          id = this.host.internalId();
          continue;
        }
      }
      if (err?.code === HEADER_MISMATCH && method === 'tools/call' && !headersRetried) {
        // The tool's x-mcp-header annotations may have changed: re-read them, then retry once.
        headersRetried = true;
        this.host.log('info', `${this.origin} refused the headers of tools/call (${err.message}); re-reading the tool list`);
        this.tools.stale();
        await this.tools.load();
        id = this.host.internalId();
        continue;
      }
      return ex.answer;
    }
  }

  private fromStream(m: JSONRPCMessage, during: string): void {
    if ('method' in m && 'id' in m && m.id !== undefined) {
      this.host.log('warn', `${this.origin} sent a ${m.method} request on the response stream of ${during}; 2026-07-28 forbids that (MRTR); ignored`);
      return;
    }
    if ('method' in m) {
      if (m.method === 'notifications/tools/list_changed') this.tools.stale();
      this.host.notify(m as JSONRPCNotification);
    }
  }

  // ---- server-to-client requests, as MRTR input requests ----

  private async askClient(call: ModernCall, requests: Record<string, unknown>): Promise<Record<string, unknown>> {
    const entries = Object.entries(requests);
    for (const [key, req] of entries) {
      const method = isObject(req) && typeof req.method === 'string' ? req.method : undefined;
      const capability = method ? INPUT_METHODS[method] : undefined;
      if (!method || !capability) throw new ClientRefused({ code: -32603, message: `${this.origin} asked for input '${key}' with ${method ?? 'no method'}, which MRTR does not allow` });
      if (!(capability in this.identity.capabilities)) {
        throw new ClientRefused({ code: -32603, message: `${this.origin} asked for ${method}, which this client does not support (no '${capability}' capability)` });
      }
    }
    this.host.hold(call, true);
    try {
      const answers = await Promise.all(
        entries.map(async ([key, req]) => {
          const r = req as { method: string; params?: unknown };
          return [key, await this.requestClient(call, r.method, r.params)] as const;
        }),
      );
      return Object.fromEntries(answers);
    } finally {
      this.host.hold(call, false);
    }
  }

  private requestClient(call: ModernCall, method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.host.internalId();
    const key = idKey(id);
    call.asking ??= new Set();
    call.asking.add(id);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.waiters.set(key, (m) => {
        this.waiters.delete(key);
        call.asking?.delete(id);
        if (call.done) reject(new Cancelled('cancelled'));
        else if ('error' in m) reject(new ClientRefused({ code: m.error.code, message: `The client refused ${method}: ${m.error.message}` }));
        else resolve(m.result);
      });
      this.host.write({ jsonrpc: '2.0', id, method, ...(isObject(params) ? { params } : {}) } as JSONRPCMessage);
    });
  }
}
