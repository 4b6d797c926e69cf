// The stdio <-> remote MCP proxy. It forwards raw JSON-RPC both ways (it is not an SDK Client),
// adds the bearer token through its own fetch, and hides what the client cannot fix by itself:
// a token to refresh, a session the server forgot, a legacy HTTP+SSE server, and a server of the
// 2026-07-28 ("modern") era behind a client that only speaks the initialize-handshake revisions.
import { VERSION } from '../core/platform/version.js';
import { randomUUID } from 'node:crypto';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { authorizingFetch, reauthMessage, StepUpBudget, type BridgeLog, type BridgeLogLevel } from './auth-fetch.js';
import { rememberedEra, rememberEra } from './era.js';
import { META, ModernHttpError, probe, ProtocolMismatch, type Answer as ModernAnswer, type ClientIdentity } from './modern.js';
import { ModernSession, type ModernCall, type ModernHost } from './modern-session.js';
import { errorLine, LineSplitter, MAX_LINE_BYTES, parseLine, type ErrorLine } from './stdio.js';
import { BridgeAuthError, type TokenSource } from './token-source.js';

export { authorizingFetch, StepUpBudget } from './auth-fetch.js';
export type { AuthorizingFetchOptions, BridgeLog, BridgeLogLevel } from './auth-fetch.js';

export interface BridgeOptions {
  serverUrl: string;
  displayName: string;
  tokens: TokenSource;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  log: BridgeLog;
  /** Per forwarded request; progress notifications restart it. Default 120 s. */
  requestTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Longest accepted input line in bytes. Default 64 MiB. */
  maxLineBytes?: number;
  /** Where to remember, across restarts, which era each server speaks (optional: in-process otherwise). */
  dataDir?: string;
}

/** Resolves when the input ends (or the output is gone); the remote session is closed then. */
export async function runBridge(o: BridgeOptions): Promise<void> {
  await new Bridge(o).run();
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** How long answers already on their way may still reach the client after its input ended. */
const MAX_DRAIN_MS = 10_000;
const TERMINATE_MS = 2_000;

type Kind = 'streamable' | 'sse';
type Answer = Extract<JSONRPCMessage, { result: unknown } | { error: unknown }>;

interface Link {
  transport: StreamableHTTPClientTransport | SSEClientTransport;
  kind: Kind;
  started: boolean;
  /** We closed it (or are closing it): its close is not a loss. */
  closing: boolean;
  lost: boolean;
  /** The last auth failure its fetch threw; the SSE stream reports it only as text. */
  authError?: BridgeAuthError;
  /**
   * Settles once the server has answered the standalone GET stream the SDK opens after
   * `notifications/initialized` (or after a short wait). Server-initiated requests go on that
   * stream, and servers drop them while it is not open yet, so requests wait for it.
   */
  streamReady?: Promise<void>;
  onStandaloneAnswer?: () => void;
}

const STANDALONE_STREAM_WAIT_MS = 1500;

interface Pending extends ModernCall {
  msg: JSONRPCRequest;
  key: string;
  link?: Link;
  sending: boolean;
  retried: boolean;
  done: boolean;
  timer?: NodeJS.Timeout;
  progressKey?: string;
}

interface Opened {
  link?: Link;
  answer?: Answer;
  refusal?: string;
}

/** No answer in time; becomes -32000 for the client. */
class NoAnswer extends Error {}

/** How long server/discover may take before the server is taken for a legacy one. */
const PROBE_TIMEOUT_MS = 10_000;

/** JSON-RPC ids 1 and "1" differ. */
function idKey(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}

function isAnswer(m: JSONRPCMessage): m is Answer {
  return 'result' in m || 'error' in m;
}

function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return 'method' in m && 'id' in m && m.id !== undefined;
}

/** A request from a stdio client that speaks 2026-07-28 itself (per-request _meta, no handshake). */
function isModernRequest(m: JSONRPCRequest): boolean {
  if (m.method === 'server/discover') return true;
  const meta = m.params?._meta as Record<string, unknown> | undefined;
  return typeof meta?.[META.protocolVersion] === 'string';
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref(); // stdin keeps the bridge alive; this alone must not
  });
  return Promise.race([p, expiry]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The HTTP status in a transport error, where there is one. */
function httpStatus(err: unknown): number | undefined {
  if (err instanceof ModernHttpError) return err.status;
  if (err instanceof StreamableHTTPError || err instanceof SseError) return typeof err.code === 'number' && err.code > 0 ? err.code : undefined;
  // SSEClientTransport's POST failures are plain errors: "Error POSTing to endpoint (HTTP 404): …"
  const m = err instanceof Error ? /\(HTTP (\d{3})\)/.exec(err.message) : null;
  return m ? Number(m[1]) : undefined;
}

/** The server's own words from an error body (often a JSON-RPC error), else the text, short. */
function detail(err: Error): string {
  const text = err.message.replace(/^(Streamable HTTP error|SSE error): /, '');
  const brace = text.indexOf('{');
  if (brace !== -1) {
    try {
      const body = JSON.parse(text.slice(brace)) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') return body.error.message;
    } catch {
      // not JSON after all
    }
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Why the legacy event stream ended; eventsource gives no message when the server just closed it. */
function sseReason(err: SseError): string {
  if (err.code) return `HTTP ${err.code}`;
  const m = err.message.replace(/^SSE error: ?/, '');
  return m && m !== 'undefined' ? m : 'closed by the server';
}

/** Why a fetch failed, from its cause (ECONNREFUSED, ENOTFOUND…) where there is one. */
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return err.message;
}

class Bridge {
  private readonly origin: string;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly stepUps = new StepUpBudget();
  private readonly seenTokens = new Set<string>();
  private readonly internalPrefix = `mcp-tokens-bridge-${randomUUID().slice(0, 8)}-`;
  private nextInternal = 0;

  private kind: Kind | undefined;
  private link: Link | undefined;
  private connecting: Promise<Opened> | undefined;
  private readonly links = new Set<Link>();
  /** The client's own initialize, replayed (with an internal id) when the session must be rebuilt. */
  private initRequest: JSONRPCRequest | undefined;
  private clientInitialized = false;

  private readonly pending = new Map<string, Pending>();
  private readonly byProgress = new Map<string, Pending>();
  private readonly internal = new Map<string, (m: Answer) => void>();
  /** Which session asked the client something, so the answer goes back there. */
  private readonly serverRequests = new Map<string, Link>();
  private outgoing = 0;
  private stopping = false;
  private outputOpen = true;

  /** The 2026-07-28 side, once server/discover showed a modern server. */
  private modern: ModernSession | undefined;
  private modernFetch: FetchLike | undefined;
  private deciding: Promise<'modern' | 'legacy'> | undefined;
  /** Why the probe took the server for a legacy one: part of the "neither era" message. */
  private probeNote: string | undefined;
  /** The legacy transport came from memory, not from this run: a failure re-probes once. */
  private kindFromMemory = false;

  constructor(private readonly o: BridgeOptions) {
    this.url = new URL(o.serverUrl);
    this.origin = this.url.origin;
    this.timeoutMs = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxLineBytes = o.maxLineBytes ?? MAX_LINE_BYTES;
  }

  // ---- plumbing ----

  private clean(text: string): string {
    let out = text;
    for (const t of this.seenTokens) if (t) out = out.split(t).join('[redacted]');
    return out;
  }

  private log(level: BridgeLogLevel, msg: string): void {
    try {
      this.o.log(level, this.clean(msg));
    } catch {
      // logging must never break the bridge
    }
  }

  private write(msg: JSONRPCMessage | ErrorLine): void {
    if (!this.outputOpen) return;
    try {
      this.o.output.write(`${JSON.stringify(msg)}\n`);
    } catch (err) {
      this.outputFailed(err);
    }
  }

  private onOutputGone: (() => void) | undefined;

  private outputFailed(err: unknown): void {
    if (!this.outputOpen) return;
    this.outputOpen = false;
    const code = (err as { code?: unknown } | null)?.code;
    this.log(code === 'EPIPE' ? 'info' : 'warn', `the client's side is closed (${code === 'EPIPE' ? 'EPIPE' : err instanceof Error ? err.message : String(err)}); stopping`);
    this.onOutputGone?.();
  }

  run(): Promise<void> {
    const { input, output } = this.o;
    return new Promise<void>((resolve) => {
      const splitter = new LineSplitter(
        this.maxLineBytes,
        (line) => this.onLine(line),
        () => {
          this.log('warn', `dropped an input line longer than ${this.maxLineBytes} bytes`);
          this.write(errorLine(null, -32700, `Parse error: line longer than ${this.maxLineBytes} bytes`));
        },
      );
      let ended = false;
      const onData = (chunk: Buffer | string) => splitter.push(chunk);
      const onInputError = (err: Error) => {
        this.log('warn', `reading the client's input failed: ${err.message}`);
        finish(false);
      };
      const onEnd = () => finish(true);
      const finish = (inputEnded: boolean) => {
        if (ended) return;
        ended = true;
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('close', onEnd);
        input.off('error', onInputError);
        input.pause();
        // A last line without a newline still counts, unless nobody is left to answer it.
        if (inputEnded) splitter.end();
        this.stop().then(resolve, resolve);
      };
      this.onOutputGone = () => finish(false);
      output.on('error', (err: Error) => this.outputFailed(err));
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('close', onEnd);
      input.on('error', onInputError);
    });
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + Math.min(this.timeoutMs, MAX_DRAIN_MS);
    while (this.outputOpen && (this.pending.size > 0 || this.outgoing > 0) && Date.now() < deadline) await sleep(20);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.controller?.abort();
    }
    this.modern?.close();
    this.pending.clear();
    this.byProgress.clear();
    const links = [...this.links];
    this.link = undefined;
    await Promise.all(
      links.map(async (link) => {
        link.closing = true;
        if (link.transport instanceof StreamableHTTPClientTransport && link.transport.sessionId && !link.lost) {
          // Tell the server the session is over; it may not support that, or be gone.
          await withTimeout(link.transport.terminateSession(), TERMINATE_MS, () => new NoAnswer('terminate')).catch(() => {});
        }
        await this.closeLink(link);
      }),
    );
    this.log('info', `bridge stopped; closed the connection to ${this.origin}`);
  }

  // ---- the client's side ----

  private onLine(line: string): void {
    for (const item of parseLine(line)) {
      if ('reply' in item) {
        this.log('warn', `answered a bad input line with ${item.reply.error.code} (${Buffer.byteLength(line)} bytes)`);
        this.write(item.reply);
      } else {
        this.fromClient(item.message);
      }
    }
  }

  private fromClient(msg: JSONRPCMessage): void {
    if (isRequest(msg)) {
      const key = idKey(msg.id);
      if (this.pending.has(key)) {
        this.write(errorLine(msg.id, -32600, 'Invalid Request: this id is already in use by a request in progress'));
        return;
      }
      const p: Pending = { msg, key, sending: false, retried: false, done: false };
      const token = msg.params?._meta?.progressToken;
      if (token !== undefined) {
        p.progressKey = idKey(token);
        this.byProgress.set(p.progressKey, p);
      }
      this.pending.set(key, p);
      this.arm(p);
      void this.forward(p);
      return;
    }
    if ('method' in msg) {
      this.fromClientNotification(msg);
      return;
    }
    void this.track(this.answerServer(msg));
  }

  private fromClientNotification(msg: JSONRPCNotification): void {
    if (this.modern) return this.fromClientNotificationModern(this.modern, msg);
    let target: Link | undefined;
    if (msg.method === 'notifications/initialized') this.clientInitialized = true;
    if (msg.method === 'notifications/cancelled') {
      const p = this.pending.get(idKey(msg.params?.requestId));
      if (p) {
        target = p.link;
        this.settle(p);
      }
    }
    void this.track(
      (async () => {
        const link = target ?? this.link ?? (this.connecting ? await this.ensureLink().catch(() => undefined) : undefined);
        if (!link || link.lost) {
          this.log('debug', `dropped ${msg.method}: no session with ${this.origin}`);
          return;
        }
        if (msg.method === 'notifications/initialized' && link.kind === 'streamable') {
          link.streamReady = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STANDALONE_STREAM_WAIT_MS);
            link.onStandaloneAnswer = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        await this.sendQuiet(link, msg);
      })(),
    );
  }

  /** 2026-07-28 has no client notifications over HTTP: each is handled here or dropped. */
  private fromClientNotificationModern(modern: ModernSession, msg: JSONRPCNotification): void {
    if (msg.method === 'notifications/initialized') {
      this.clientInitialized = true;
      modern.initialized();
      return;
    }
    if (msg.method === 'notifications/cancelled') {
      // Closing the request's response stream is the cancellation signal on modern HTTP.
      const p = this.pending.get(idKey(msg.params?.requestId));
      if (p && this.settle(p)) modern.cancel(p, typeof msg.params?.reason === 'string' ? msg.params.reason : 'cancelled by the client');
      return;
    }
    this.log('debug', `dropped ${msg.method}: the 2026-07-28 server has no use for it`);
  }

  private async answerServer(msg: Answer): Promise<void> {
    if (msg.id === undefined) {
      this.log('warn', 'dropped an error from the client that names no request');
      return;
    }
    if (this.modern?.fromClient(msg as ModernAnswer)) return;
    const key = idKey(msg.id);
    const link = this.serverRequests.get(key);
    this.serverRequests.delete(key);
    if (!link || link.lost || link.closing) {
      this.log('debug', `dropped the client's answer to ${String(msg.id)}: that session is gone`);
      return;
    }
    await this.sendQuiet(link, msg);
  }

  private async track(p: Promise<void>): Promise<void> {
    this.outgoing++;
    try {
      await p;
    } finally {
      this.outgoing--;
    }
  }

  private async sendQuiet(link: Link, msg: JSONRPCMessage): Promise<void> {
    try {
      await link.transport.send(msg);
    } catch (err) {
      this.log('warn', `could not forward ${'method' in msg ? msg.method : 'an answer'} to ${this.origin}: ${this.failure(err).message}`);
    }
  }

  // ---- requests in flight ----

  private arm(p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.onTimeout(p), this.timeoutMs);
  }

  private onTimeout(p: Pending): void {
    if (p.done) return;
    // The person is approving more scope in the browser: that is worth waiting for.
    if (this.stepUps.active) return this.arm(p);
    const seconds = Math.round(this.timeoutMs / 100) / 10;
    this.log('warn', `no answer to ${p.msg.method} from ${this.origin} within ${seconds} s`);
    this.finish(p, errorLine(p.msg.id, -32000, `No answer from ${this.origin} within ${seconds} s`));
    if (!p.link && this.modern) this.modern.cancel(p, 'timeout');
    const link = p.link;
    if (link && !link.lost && p.msg.method !== 'initialize') {
      void this.track(this.sendQuiet(link, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: p.msg.id, reason: 'timeout' } }));
    }
  }

  /** Forgets a request without answering it (answered, cancelled, or timed out). */
  private settle(p: Pending): boolean {
    if (p.done) return false;
    p.done = true;
    clearTimeout(p.timer);
    this.pending.delete(p.key);
    if (p.progressKey !== undefined && this.byProgress.get(p.progressKey) === p) this.byProgress.delete(p.progressKey);
    return true;
  }

  private finish(p: Pending, reply: JSONRPCMessage | ErrorLine): void {
    if (this.settle(p)) this.write(reply);
  }

  private async forward(p: Pending): Promise<void> {
    try {
      if (p.msg.method === 'initialize') {
        await this.clientInitialize(p);
        return;
      }
      const modernClient = isModernRequest(p.msg);
      if (modernClient || this.modern) {
        if ((await this.chooseEra()) === 'modern' && this.modern) {
          if (p.done) return;
          await (modernClient ? this.modern.passThrough(p) : this.modern.handle(p));
          return;
        }
        if (p.msg.method === 'server/discover') {
          // What a legacy server would say: a dual-era client falls back to initialize.
          this.finish(p, errorLine(p.msg.id, -32601, `Method not found: ${this.origin} speaks a legacy MCP revision (use initialize)`));
          return;
        }
      }
      let link = await this.ensureLink();
      if (p.done) return;
      try {
        await this.sendRequest(link, p);
      } catch (err) {
        if (p.done || p.retried || !this.sessionGone(link, err)) throw err;
        p.retried = true;
        p.link = undefined;
        this.log('info', `${this.origin} no longer knows the session (HTTP ${httpStatus(err)}); re-initializing`);
        link = await this.replace(link);
        if (p.done) return;
        await this.sendRequest(link, p);
      }
    } catch (err) {
      if (p.done) return;
      const f = this.failure(err);
      this.log(f.code === -32001 ? 'warn' : 'error', `${p.msg.method} failed: ${f.message}`);
      this.finish(p, errorLine(p.msg.id, f.code, f.message));
    }
  }

  private async sendRequest(link: Link, p: Pending): Promise<void> {
    p.link = link;
    p.sending = true;
    try {
      if (link.streamReady) await link.streamReady;
      await link.transport.send(p.msg);
    } finally {
      p.sending = false;
    }
  }

  private sessionGone(link: Link, err: unknown): boolean {
    const status = httpStatus(err);
    if (link.transport instanceof StreamableHTTPClientTransport && !(err instanceof StreamableHTTPError && link.transport.sessionId)) return false;
    // The spec says 404; servers built on the SDK's examples answer 400 "No valid session ID".
    return status === 404 || (status === 400 && err instanceof Error && /session/i.test(err.message));
  }

  /** What the client is told, with code: -32001 when only re-authorizing helps, else -32000. */
  private failure(err: unknown): { code: number; message: string } {
    const out = (code: number, message: string) => ({ code, message: this.clean(message) });
    if (err instanceof BridgeAuthError) return out(-32001, err.message || reauthMessage(this.o.displayName, this.o.serverUrl));
    if (err instanceof NoAnswer || err instanceof ProtocolMismatch) return out(-32000, err.message);
    const status = httpStatus(err);
    if (status === 401) return out(-32001, reauthMessage(this.o.displayName, this.o.serverUrl));
    if (status !== undefined && err instanceof Error) {
      return out(status === 403 ? -32001 : -32000, `${this.origin} answered HTTP ${status}: ${detail(err)}`);
    }
    if (err instanceof StreamableHTTPError) return out(-32000, `Unexpected answer from ${this.origin}: ${detail(err)}`);
    return out(-32000, `Could not reach ${this.origin}: ${networkReason(err)}`);
  }

  // ---- the server's side ----

  private fromServer(link: Link, msg: JSONRPCMessage): void {
    if (isAnswer(msg)) {
      if (msg.id === undefined) {
        this.log('warn', `${this.origin} sent an error that names no request: ${'error' in msg ? msg.error.message : ''}`);
        return;
      }
      const key = idKey(msg.id);
      const waiter = this.internal.get(key);
      if (waiter) return waiter(msg);
      const p = this.pending.get(key);
      if (p) return this.finish(p, msg);
      this.log('debug', `dropped a late answer to ${String(msg.id)}`);
      return;
    }
    if (isRequest(msg)) {
      this.serverRequests.set(idKey(msg.id), link);
      this.write(msg);
      return;
    }
    this.notifyClient(msg);
  }

  /** A server notification for the client; progress keeps its request alive. */
  private notifyClient(msg: JSONRPCNotification): void {
    if (msg.method === 'notifications/progress') {
      const p = this.byProgress.get(idKey(msg.params?.progressToken));
      if (p && !p.done) this.arm(p);
    }
    this.write(msg);
  }

  private onTransportError(link: Link, err: Error): void {
    if (link.closing || link.lost) return;
    if (link.kind === 'sse' && link.started && err instanceof SseError) {
      // The legacy event stream carries every answer: without it the session is useless.
      this.log('warn', `the event stream from ${this.origin} broke (${link.authError?.message ?? sseReason(err)}); will reconnect on the next request`);
      this.dropLink(link, 'the event stream broke');
      void this.closeLink(link);
      return;
    }
    this.log('debug', `transport: ${err.message}`);
  }

  // ---- sessions ----

  private newLink(kind: Kind): Link {
    const fetchFn = this.authFetch((e) => {
      link.authError = e;
    });
    // Notices the answer to the standalone GET stream (any status: 405 means there is none).
    const observed = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      const standalone = (init?.method ?? 'GET').toUpperCase() === 'GET';
      try {
        return await fetchFn(input, init);
      } finally {
        if (standalone) link.onStandaloneAnswer?.();
      }
    };
    const transport = kind === 'streamable' ? new StreamableHTTPClientTransport(this.url, { fetch: observed }) : new SSEClientTransport(this.url, { fetch: fetchFn });
    const link: Link = { transport, kind, started: false, closing: false, lost: false };
    transport.onmessage = (m) => this.fromServer(link, m);
    transport.onerror = (e) => this.onTransportError(link, e);
    transport.onclose = () => {
      if (!link.closing) {
        this.log('warn', `the connection to ${this.origin} closed; will reconnect on the next request`);
        this.dropLink(link, 'the connection closed');
      }
      this.links.delete(link);
    };
    this.links.add(link);
    return link;
  }

  private async closeLink(link: Link): Promise<void> {
    link.closing = true;
    this.links.delete(link);
    await link.transport.close().catch(() => {});
  }

  /** The session is over: requests waiting on it get an error now rather than a timeout later. */
  private dropLink(link: Link, reason: string): void {
    if (link.lost) return;
    link.lost = true;
    if (this.link === link) this.link = undefined;
    for (const p of [...this.pending.values()]) {
      if (p.link === link && !p.sending) this.finish(p, errorLine(p.msg.id, -32000, `Lost the connection to ${this.origin} (${reason}); try again`));
    }
    for (const [key, l] of this.serverRequests) if (l === link) this.serverRequests.delete(key);
  }

  /** The live session, rebuilding it (lazily, once for all waiters) when there is none. */
  private async ensureLink(): Promise<Link> {
    if (this.link && !this.link.lost) return this.link;
    const opened = await (this.connecting ?? this.startEstablish(this.initRequest, true));
    if (opened.link && !opened.link.lost) return opened.link;
    if (this.link && !this.link.lost) return this.link;
    throw new Error(opened.refusal ?? `the connection to ${this.origin} was lost`);
  }

  private async replace(failed: Link): Promise<Link> {
    if (this.link === failed || !this.link) {
      this.dropLink(failed, 'the server forgot the session');
      void this.closeLink(failed);
    }
    return this.ensureLink();
  }

  private startEstablish(init: JSONRPCRequest | undefined, reinit: boolean): Promise<Opened> {
    const p = this.establish(init, reinit);
    this.connecting = p;
    const clear = () => {
      if (this.connecting === p) this.connecting = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private async clientInitialize(p: Pending, again = false): Promise<void> {
    this.initRequest = p.msg;
    this.clientInitialized = false;
    if (this.connecting) await this.connecting.catch(() => undefined);
    if ((await this.chooseEra()) === 'modern' && this.modern) {
      // No handshake on the wire: the answer comes from server/discover.
      this.finish(p, { jsonrpc: '2.0', id: p.msg.id, result: this.modern.initialize(p.msg.params) });
      return;
    }
    const old = this.link;
    if (old) {
      // A new handshake is a new session.
      this.dropLink(old, 'the client started a new session');
      void this.closeLink(old);
    }
    let opened: Opened;
    try {
      opened = await this.startEstablish(p.msg, false);
    } catch (err) {
      if (again || !this.kindFromMemory || err instanceof BridgeAuthError || p.done) throw err;
      // The remembered era is only a hint (versioning: "re-probing if the cached assumption later fails").
      this.log('info', `${this.origin} no longer answers as remembered (${this.kind}); probing it again`);
      this.kind = undefined;
      this.kindFromMemory = false;
      rememberEra(this.o.serverUrl, undefined, this.o.dataDir);
      return this.clientInitialize(p, true);
    }
    if (opened.answer) this.finish(p, { ...opened.answer, id: p.msg.id });
  }

  // ---- which era ----

  /** Modern or legacy: from this bridge's own session, from memory, or by asking server/discover. */
  private chooseEra(): Promise<'modern' | 'legacy'> {
    if (this.modern) return Promise.resolve('modern');
    if (this.kind) return Promise.resolve('legacy');
    if (!this.deciding) {
      const d = this.decideEra();
      this.deciding = d;
      const clear = () => {
        if (this.deciding === d) this.deciding = undefined;
      };
      d.then(clear, clear);
    }
    return this.deciding;
  }

  private async decideEra(): Promise<'modern' | 'legacy'> {
    const remembered = rememberedEra(this.o.serverUrl, this.o.dataDir);
    if (remembered === 'streamable' || remembered === 'sse') {
      this.kind = remembered;
      this.kindFromMemory = true;
      this.log('debug', `${this.origin} is remembered as a legacy server (${remembered === 'sse' ? 'HTTP+SSE' : 'Streamable HTTP'})`);
      return 'legacy';
    }
    const result = await probe({
      fetch: this.modernFetchFn(),
      url: this.url,
      identity: this.clientIdentity(),
      timeoutMs: Math.min(this.timeoutMs, PROBE_TIMEOUT_MS),
      id: () => this.newInternalId(),
      log: (level, msg) => this.log(level, msg),
    });
    if (result.era === 'neither') {
      this.log('warn', result.why);
      throw new ProtocolMismatch(result.why);
    }
    if (result.era === 'legacy') {
      this.probeNote = result.why;
      this.log('info', `${this.origin} is not a 2026-07-28 server (${result.why}); using the legacy transports`);
      return 'legacy';
    }
    this.modern = new ModernSession(this.modernHost(), result.version, result.info);
    rememberEra(this.o.serverUrl, 'modern', this.o.dataDir);
    this.log('info', `connected to ${this.origin} (MCP ${result.version}, no session)`);
    return 'modern';
  }

  /** Who the client said it is, for the probe's _meta (ModernSession keeps its own copy). */
  private clientIdentity(): ClientIdentity {
    const params = this.initRequest?.params as { clientInfo?: unknown; capabilities?: unknown } | undefined;
    const info = params?.clientInfo as { name?: unknown; version?: unknown } | undefined;
    return {
      clientInfo: typeof info?.name === 'string' ? { version: typeof info.version === 'string' ? info.version : '', ...(info as object), name: info.name } : { name: 'mcp-tokens-bridge', version: VERSION },
      capabilities: typeof params?.capabilities === 'object' && params.capabilities !== null ? (params.capabilities as Record<string, unknown>) : {},
    };
  }

  private newInternalId(): string {
    return `${this.internalPrefix}${++this.nextInternal}`;
  }

  /** One authorizing fetch for every modern request: same token rules as the legacy transports. */
  private modernFetchFn(): FetchLike {
    this.modernFetch ??= this.authFetch();
    return this.modernFetch;
  }

  /** The bridge's token rules for one transport: bearer to the resource origin only, seen tokens redacted. */
  private authFetch(onAuthError?: (e: BridgeAuthError) => void): FetchLike {
    return authorizingFetch({
      serverUrl: this.o.serverUrl,
      displayName: this.o.displayName,
      tokens: this.o.tokens,
      ...(this.o.fetchImpl ? { fetchImpl: this.o.fetchImpl } : {}),
      log: (level, msg) => this.log(level, msg),
      onToken: (t) => this.seenTokens.add(t),
      ...(onAuthError ? { onAuthError } : {}),
      stepUps: this.stepUps,
    });
  }

  private modernHost(): ModernHost {
    return {
      url: this.url,
      fetch: this.modernFetchFn(),
      timeoutMs: this.timeoutMs,
      write: (m) => this.write(m),
      answer: (call, reply) => this.finish(call as Pending, reply),
      notify: (m) => this.notifyClient(m),
      hold: (call, held) => {
        const p = call as Pending;
        if (held) clearTimeout(p.timer);
        else if (!p.done) this.arm(p);
      },
      internalId: () => this.newInternalId(),
      log: (level, msg) => this.log(level, msg),
    };
  }

  private async establish(init: JSONRPCRequest | undefined, reinit: boolean): Promise<Opened> {
    const { link, answer } = await this.open(init);
    if (answer && 'error' in answer) {
      await this.closeLink(link);
      this.log('warn', `${this.origin} refused to initialize: ${answer.error.message}`);
      return { answer, refusal: `${this.origin} refused to initialize: ${answer.error.message}` };
    }
    try {
      if (reinit && init) {
        if (this.clientInitialized) await link.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
        this.log('info', `re-initialized the session with ${this.origin}`);
      }
    } catch (err) {
      await this.closeLink(link);
      throw err;
    }
    if (this.stopping) {
      await this.closeLink(link);
      throw new Error('the bridge is stopping');
    }
    this.link = link;
    return answer ? { link, answer } : { link };
  }

  /** Picks the transport: Streamable HTTP, or legacy HTTP+SSE when the first POST gets a 4xx. */
  private async open(init: JSONRPCRequest | undefined): Promise<{ link: Link; answer?: Answer }> {
    if (this.kind) return this.openAs(this.kind, init);
    let opened: { link: Link; answer?: Answer };
    try {
      opened = await this.openAs('streamable', init);
    } catch (err) {
      const status = httpStatus(err);
      // Spec backwards compatibility: a 4xx to the initialize POST means "try the old transport".
      // 401/403 are about the token and 408/429 about load, not about the transport.
      if (!init || !(err instanceof StreamableHTTPError) || status === undefined || status < 400 || status >= 500 || [401, 403, 408, 429].includes(status)) throw err;
      this.log('info', `${this.origin} answered the Streamable HTTP initialize with HTTP ${status}; trying the legacy HTTP+SSE transport`);
      try {
        opened = await this.openAs('sse', init);
      } catch (sseErr) {
        if (sseErr instanceof BridgeAuthError) throw sseErr;
        this.log('warn', `legacy HTTP+SSE failed too: ${this.failure(sseErr).message}`);
        if (this.probeNote) {
          // No era answered: one message that says so, with what each attempt got.
          throw new ProtocolMismatch(
            `${this.origin} speaks neither MCP 2026-07-28 (${this.probeNote}) nor a legacy MCP revision (initialize answered HTTP ${status}: ${detail(err)})`,
          );
        }
        throw err;
      }
      this.kind = 'sse';
      rememberEra(this.o.serverUrl, 'sse', this.o.dataDir);
      return opened;
    }
    if (init) {
      this.kind = 'streamable';
      rememberEra(this.o.serverUrl, 'streamable', this.o.dataDir);
    }
    return opened;
  }

  private async openAs(kind: Kind, init: JSONRPCRequest | undefined): Promise<{ link: Link; answer?: Answer }> {
    const link = this.newLink(kind);
    const noAnswer = () => new NoAnswer(`No answer from ${this.origin} within ${Math.round(this.timeoutMs / 100) / 10} s`);
    try {
      await withTimeout(link.transport.start(), this.timeoutMs, noAnswer);
      link.started = true;
      if (!init) return { link };
      const id = this.newInternalId();
      const answer = await new Promise<Answer>((resolve, reject) => {
        const key = idKey(id);
        const done = () => {
          clearTimeout(timer);
          this.internal.delete(key);
        };
        const timer = setTimeout(() => {
          done();
          reject(noAnswer());
        }, this.timeoutMs);
        timer.unref();
        this.internal.set(key, (m) => {
          done();
          resolve(m);
        });
        link.transport.send({ ...init, id }).catch((err: unknown) => {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
      if ('result' in answer && typeof answer.result.protocolVersion === 'string') link.transport.setProtocolVersion(answer.result.protocolVersion);
      this.log('info', `connected to ${this.origin} (${kind === 'sse' ? 'legacy HTTP+SSE' : 'Streamable HTTP'})`);
      return { link, answer };
    } catch (err) {
      await this.closeLink(link);
      throw link.authError && !(err instanceof BridgeAuthError) ? link.authError : err;
    }
  }
}
