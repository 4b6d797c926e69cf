// The stdio <-> remote MCP proxy. It forwards JSON-RPC both ways (it is not an SDK Client), adds
// the bearer token through its own fetch, and hides what the client cannot fix by itself: a token
// to refresh, a session the server forgot, a legacy HTTP+SSE server, and a server of the
// 2026-07-28 ("modern") era behind a client that only speaks the initialize-handshake revisions.
// Legacy servers get bytes (legacy/); the modern side is loaded only when a server speaks it.
import { randomUUID } from 'node:crypto';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { authorizingFetch, StepUpBudget, type BridgeLog, type BridgeLogLevel } from './auth-fetch.js';
import { leanFetch } from './http-fetch.js';
import { netFetch } from '../core/platform/network.js';
import { EraChoice } from './era-choice.js';
import { failure, sleep } from './errors.js';
import { LegacySession } from './legacy/session.js';
import { META } from './modern/meta.js';
import type { Answer as ModernAnswer } from './modern/protocol.js';
import type { ModernSession } from './modern/session.js';
import { Output } from './output.js';
import { RequestTable, type Pending } from './requests.js';
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

function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return 'method' in m && 'id' in m && m.id !== undefined;
}

/** A request from a stdio client that speaks 2026-07-28 itself (per-request _meta, no handshake). */
function isModernRequest(m: JSONRPCRequest): boolean {
  if (m.method === 'server/discover') return true;
  const meta = m.params?._meta as Record<string, unknown> | undefined;
  return typeof meta?.[META.protocolVersion] === 'string';
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
  private readonly out: Output;
  private readonly requests: RequestTable;
  private readonly legacy: LegacySession;
  private readonly era: EraChoice;
  private outgoing = 0;
  private stopping = false;
  private onOutputGone: (() => void) | undefined;

  constructor(private readonly o: BridgeOptions) {
    this.url = new URL(o.serverUrl);
    this.origin = this.url.origin;
    this.timeoutMs = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxLineBytes = o.maxLineBytes ?? MAX_LINE_BYTES;
    this.out = new Output(o.output, (err) => this.outputFailed(err));
    this.requests = new RequestTable(this.timeoutMs, (p) => this.onTimeout(p));
    this.legacy = new LegacySession({
      url: this.url,
      serverUrl: o.serverUrl,
      dataDir: o.dataDir,
      timeoutMs: this.timeoutMs,
      output: this.out,
      requests: this.requests,
      authFetch: (onAuthError) => this.authFetch(onAuthError, true),
      write: (m) => this.write(m),
      finish: (p, reply) => this.finish(p, reply),
      internalId: () => this.newInternalId(),
      failure: (err) => this.failure(err),
      probeNote: () => this.era.probeNote,
      stopping: () => this.stopping,
      track: (p) => void this.track(p),
      log: (level, msg) => this.log(level, msg),
    });
    this.era = new EraChoice({
      url: this.url,
      serverUrl: o.serverUrl,
      dataDir: o.dataDir,
      timeoutMs: this.timeoutMs,
      legacy: this.legacy,
      fetch: () => this.modernFetchFn(),
      internalId: () => this.newInternalId(),
      log: (level, msg) => this.log(level, msg),
      modernHost: () => ({
        url: this.url,
        fetch: this.modernFetchFn(),
        timeoutMs: this.timeoutMs,
        write: (m) => this.write(m),
        answer: (call, reply) => this.finish(call as Pending, reply),
        notify: (m) => this.notifyClient(m),
        hold: (call, held) => {
          const p = call as Pending;
          if (held) clearTimeout(p.timer);
          else if (!p.done) this.requests.arm(p);
        },
        internalId: () => this.newInternalId(),
        log: (level, msg) => this.log(level, msg),
      }),
    });
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

  private write(msg: object): void {
    this.out.line(JSON.stringify(msg));
  }

  private outputFailed(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    this.log(code === 'EPIPE' ? 'info' : 'warn', `the client's side is closed (${code === 'EPIPE' ? 'EPIPE' : err instanceof Error ? err.message : String(err)}); stopping`);
    this.onOutputGone?.();
  }

  private failure(err: unknown): { code: number; message: string } {
    const f = failure(err, { origin: this.origin, displayName: this.o.displayName, serverUrl: this.o.serverUrl });
    return { code: f.code, message: this.clean(f.message) };
  }

  run(): Promise<void> {
    const { input } = this.o;
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
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('close', onEnd);
      input.on('error', onInputError);
    });
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + Math.min(this.timeoutMs, MAX_DRAIN_MS);
    while (this.out.isOpen && (this.requests.size > 0 || this.outgoing > 0) && Date.now() < deadline) await sleep(20);
    this.requests.clear();
    this.era.modern?.close();
    await this.legacy.stop();
    this.log('info', `bridge stopped; closed the connection to ${this.origin}`);
  }

  private async track(p: Promise<void>): Promise<void> {
    this.outgoing++;
    try {
      await p;
    } finally {
      this.outgoing--;
    }
  }

  // ---- the client's side ----

  private onLine(line: string): void {
    const items = parseLine(line);
    // One message on the line: it goes on the wire exactly as the client wrote it.
    const single = items.length === 1 ? line : undefined;
    for (const item of items) {
      if ('reply' in item) {
        this.log('warn', `answered a bad input line with ${item.reply.error.code} (${Buffer.byteLength(line)} bytes)`);
        this.write(item.reply);
      } else {
        this.fromClient(item.message, single ?? JSON.stringify(item.message));
      }
    }
  }

  private fromClient(msg: JSONRPCMessage, body: string): void {
    if (isRequest(msg)) {
      const p = this.requests.add(msg, body);
      if (!p) {
        this.write(errorLine(msg.id, -32600, 'Invalid Request: this id is already in use by a request in progress'));
        return;
      }
      void this.forward(p);
      return;
    }
    if ('method' in msg) {
      const modern = this.era.modern;
      if (modern) this.fromClientNotificationModern(modern, msg);
      else this.legacy.notify(msg, body);
      return;
    }
    if (msg.id === undefined) {
      this.log('warn', 'dropped an error from the client that names no request');
      return;
    }
    if (this.era.modern?.fromClient(msg as ModernAnswer)) return;
    this.legacy.answer(msg.id, body);
  }

  /** 2026-07-28 has no client notifications over HTTP: each is handled here or dropped. */
  private fromClientNotificationModern(modern: ModernSession, msg: JSONRPCNotification): void {
    if (msg.method === 'notifications/initialized') {
      modern.initialized();
      return;
    }
    if (msg.method === 'notifications/cancelled') {
      // Closing the request's response stream is the cancellation signal on modern HTTP.
      const p = this.requests.byId(msg.params?.requestId);
      if (p && this.requests.settle(p)) modern.cancel(p, typeof msg.params?.reason === 'string' ? msg.params.reason : 'cancelled by the client');
      return;
    }
    this.log('debug', `dropped ${msg.method}: the 2026-07-28 server has no use for it`);
  }

  /** A server notification for the client (modern side); progress keeps its request alive. */
  private notifyClient(msg: JSONRPCNotification): void {
    if (msg.method === 'notifications/progress') this.requests.progress(msg.params?.progressToken);
    this.write(msg);
  }

  // ---- requests in flight ----

  private onTimeout(p: Pending): void {
    // The person is approving more scope in the browser: that is worth waiting for.
    if (this.stepUps.active) return this.requests.arm(p);
    const seconds = Math.round(this.timeoutMs / 100) / 10;
    this.log('warn', `no answer to ${p.msg.method} from ${this.origin} within ${seconds} s`);
    this.finish(p, errorLine(p.msg.id, -32000, `No answer from ${this.origin} within ${seconds} s`));
    if (!p.conn && this.era.modern) this.era.modern.cancel(p, 'timeout');
    this.legacy.cancelled(p);
  }

  private finish(p: Pending, reply: JSONRPCMessage | ErrorLine | object): void {
    if (this.requests.settle(p)) this.write(reply);
  }

  private async forward(p: Pending): Promise<void> {
    try {
      if (p.msg.method === 'initialize') {
        // "Last used by <client>" in the app: the client's own name goes with the token requests.
        const info = (p.msg.params as { clientInfo?: { name?: unknown; version?: unknown } } | undefined)?.clientInfo;
        if (typeof info?.name === 'string') this.o.tokens.setClient?.({ name: info.name, ...(typeof info.version === 'string' ? { version: info.version } : {}) });
        await this.clientInitialize(p);
        return;
      }
      const modernClient = isModernRequest(p.msg);
      if (modernClient || this.era.modern) {
        const modern = (await this.era.choose()) === 'modern' ? this.era.modern : undefined;
        if (modern) {
          if (p.done) return;
          await (modernClient ? modern.passThrough(p) : modern.handle(p));
          return;
        }
        if (p.msg.method === 'server/discover') {
          // What a legacy server would say: a dual-era client falls back to initialize.
          this.finish(p, errorLine(p.msg.id, -32601, `Method not found: ${this.origin} speaks a legacy MCP revision (use initialize)`));
          return;
        }
      }
      await this.legacy.request(p);
    } catch (err) {
      if (p.done) return;
      const f = this.failure(err);
      this.log(f.code === -32001 ? 'warn' : 'error', `${p.msg.method} failed: ${f.message}`);
      this.finish(p, errorLine(p.msg.id, f.code, f.message));
    }
  }

  private async clientInitialize(p: Pending, again = false): Promise<void> {
    await this.legacy.beginInitialize(p.msg);
    const modern = (await this.era.choose()) === 'modern' ? this.era.modern : undefined;
    if (modern) {
      // No handshake on the wire: the answer comes from server/discover.
      this.finish(p, { jsonrpc: '2.0', id: p.msg.id, result: modern.initialize(p.msg.params) });
      return;
    }
    try {
      await this.legacy.initialize(p);
    } catch (err) {
      if (again || !this.legacy.kindFromMemory || err instanceof BridgeAuthError || p.done) throw err;
      // The remembered era is only a hint (versioning: "re-probing if the cached assumption later fails").
      this.log('info', `${this.origin} no longer answers as remembered (${this.legacy.kind}); probing it again`);
      this.era.forget();
      return this.clientInitialize(p, true);
    }
  }

  private newInternalId(): string {
    return `${this.internalPrefix}${++this.nextInternal}`;
  }

  private modernFetch: FetchLike | undefined;

  /** One authorizing fetch for every modern request: same token rules as the legacy transports. */
  private modernFetchFn(): FetchLike {
    this.modernFetch ??= this.authFetch();
    return this.modernFetch;
  }

  /** The bridge's token rules for one transport: bearer to the resource origin only, seen tokens redacted. */
  private authFetch(onAuthError?: (e: BridgeAuthError) => void, legacy = false): FetchLike {
    // The legacy transports need only node:http; the modern side keeps Node's fetch.
    const fetchImpl = this.o.fetchImpl ?? (legacy ? (leanFetch as typeof fetch) : netFetch);
    return authorizingFetch({
      serverUrl: this.o.serverUrl,
      displayName: this.o.displayName,
      tokens: this.o.tokens,
      fetchImpl,
      log: (level, msg) => this.log(level, msg),
      onToken: (t) => this.seenTokens.add(t),
      ...(onAuthError ? { onAuthError } : {}),
      stepUps: this.stepUps,
    });
  }
}
