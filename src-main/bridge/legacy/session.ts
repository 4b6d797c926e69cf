// A session with a legacy server (Streamable HTTP, or HTTP+SSE behind it): opens it with the
// client's own initialize, rebuilds it when the server forgets it, and routes what comes back.
// Messages pass as bytes; only small ones are parsed, to route them.
import type { JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { rememberEra } from '../era.js';
import { detail, HttpError, httpStatus, idKey, NoAnswer, ProtocolMismatch, StreamError, streamReason, withTimeout } from '../errors.js';
import type { Head } from '../json-head.js';
import type { Pending } from '../requests.js';
import { errorLine } from '../stdio.js';
import { BridgeAuthError } from '../token-source.js';
import { Inbound } from './inbound.js';
import type { Answer, LegacyHost, LegacyConnection } from './connection.js';
import { SseTransport } from './sse-transport.js';
import { StreamableTransport } from './streamable.js';
import type { Kind, Outgoing } from './transport.js';

export type { LegacyHost, LegacyConnection } from './connection.js';

interface Opened {
  conn?: LegacyConnection;
  answer?: Answer;
  refusal?: string;
}

const STANDALONE_STREAM_WAIT_MS = 1500;
const TERMINATE_MS = 2_000;

export class LegacySession {
  kind: Kind | undefined;
  /** The transport came from memory, not from this run: a failure re-probes once. */
  kindFromMemory = false;
  private conn: LegacyConnection | undefined;
  private connecting: Promise<Opened> | undefined;
  private readonly conns = new Set<LegacyConnection>();
  /** The client's own initialize, replayed (with an internal id) when the session must be rebuilt. */
  initRequest: JSONRPCRequest | undefined;
  private clientInitialized = false;
  private readonly origin: string;
  private readonly inbound: Inbound;

  constructor(private readonly h: LegacyHost) {
    this.origin = h.url.origin;
    this.inbound = new Inbound(h, this.origin);
  }

  // ---- the client's side ----

  notify(msg: JSONRPCNotification, body: string): void {
    let target: LegacyConnection | undefined;
    if (msg.method === 'notifications/initialized') this.clientInitialized = true;
    if (msg.method === 'notifications/cancelled') {
      const p = this.h.requests.byId(msg.params?.requestId);
      if (p) {
        target = p.conn;
        this.h.requests.settle(p);
      }
    }
    this.h.track(
      (async () => {
        const conn = target ?? this.conn ?? (this.connecting ? await this.ensureConnection().catch(() => undefined) : undefined);
        if (!conn || conn.lost) {
          this.h.log('debug', `dropped ${msg.method}: no session with ${this.origin}`);
          return;
        }
        const initialized = msg.method === 'notifications/initialized';
        if (initialized && conn.kind === 'streamable') {
          conn.streamReady = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STANDALONE_STREAM_WAIT_MS);
            conn.onStandaloneAnswer = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        await this.sendQuiet(conn, { body, initialized }, msg.method);
      })(),
    );
  }

  /** The client's answer to a request from the server: back to the session that asked. */
  answer(id: unknown, body: string): void {
    const conn = this.inbound.askedBy(id);
    if (!conn || conn.lost || conn.closing) {
      this.h.log('debug', `dropped the client's answer to ${String(id)}: that session is gone`);
      return;
    }
    this.h.track(this.sendQuiet(conn, { body }, 'an answer'));
  }

  /** Forwards a request, rebuilding the session once when the server forgot it. */
  async request(p: Pending): Promise<void> {
    let conn = await this.ensureConnection();
    if (p.done) return;
    try {
      await this.sendRequest(conn, p);
    } catch (err) {
      if (p.done || p.retried || !this.sessionGone(conn, err)) throw err;
      p.retried = true;
      p.conn = undefined;
      this.h.log('info', `${this.origin} no longer knows the session (HTTP ${httpStatus(err)}); re-initializing`);
      conn = await this.replace(conn);
      if (p.done) return;
      await this.sendRequest(conn, p);
    }
  }

  /** The client's initialize: a new session, answered with the server's own answer. */
  async initialize(p: Pending): Promise<void> {
    const old = this.conn;
    if (old) {
      // A new handshake is a new session.
      this.dropConnection(old, 'the client started a new session');
      void this.closeConnection(old);
    }
    const opened = await this.startEstablish(p.msg, false);
    if (opened.answer) this.h.finish(p, { ...opened.answer, id: p.msg.id });
  }

  beginInitialize(init: JSONRPCRequest): Promise<void> {
    this.initRequest = init;
    this.clientInitialized = false;
    return this.connecting ? this.connecting.then(
      () => {},
      () => {},
    ) : Promise.resolve();
  }

  /** A request timed out: tell the server, so it can stop working on it. */
  cancelled(p: Pending): void {
    const conn = p.conn;
    if (conn && !conn.lost && p.msg.method !== 'initialize') {
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: p.msg.id, reason: 'timeout' } });
      this.h.track(this.sendQuiet(conn, { body }, 'notifications/cancelled'));
    }
  }

  async stop(): Promise<void> {
    const conns = [...this.conns];
    this.conn = undefined;
    await Promise.all(
      conns.map(async (conn) => {
        conn.closing = true;
        if (conn.transport.sessionId && !conn.lost) {
          // Tell the server the session is over; it may not support that, or be gone.
          await withTimeout(conn.transport.terminate(), TERMINATE_MS, () => new NoAnswer('terminate')).catch(() => {});
        }
        await this.closeConnection(conn);
      }),
    );
  }

  // ---- the server's side ----

  private onTransportError(conn: LegacyConnection, err: Error): void {
    if (conn.closing || conn.lost) return;
    if (conn.kind === 'sse' && conn.started && err instanceof StreamError) {
      // The legacy event stream carries every answer: without it the session is useless.
      this.h.log('warn', `the event stream from ${this.origin} broke (${conn.authError?.message ?? streamReason(err)}); will reconnect on the next request`);
      this.dropConnection(conn, 'the event stream broke');
      void this.closeConnection(conn);
      return;
    }
    this.h.log('debug', `transport: ${err.message}`);
  }

  // ---- sessions ----

  private newConnection(kind: Kind): LegacyConnection {
    const host = {
      url: this.h.url,
      fetch: this.h.authFetch((e) => {
        conn.authError = e;
      }),
      whole: (bytes: Buffer) => this.inbound.whole(conn, bytes),
      long: () => this.h.output.long(),
      wrote: (head: Head) => this.inbound.wrote(conn, head),
      streamEnded: (key: string, why: string) => this.inbound.streamEnded(conn, key, why),
      waiting: (key: string) => this.inbound.waiting(key),
    };
    const transport = kind === 'streamable' ? new StreamableTransport(host) : new SseTransport(host);
    const conn: LegacyConnection = { transport, kind, started: false, closing: false, lost: false };
    transport.onStandaloneAnswer = () => conn.onStandaloneAnswer?.();
    transport.onerror = (e) => this.onTransportError(conn, e);
    transport.onclose = () => {
      if (!conn.closing) {
        this.h.log('warn', `the connection to ${this.origin} closed; will reconnect on the next request`);
        this.dropConnection(conn, 'the connection closed');
      }
      this.conns.delete(conn);
    };
    this.conns.add(conn);
    return conn;
  }

  private async closeConnection(conn: LegacyConnection): Promise<void> {
    conn.closing = true;
    this.conns.delete(conn);
    await conn.transport.close().catch(() => {});
  }

  /** The session is over: requests waiting on it get an error now rather than a timeout later. */
  private dropConnection(conn: LegacyConnection, reason: string): void {
    if (conn.lost) return;
    conn.lost = true;
    if (this.conn === conn) this.conn = undefined;
    for (const p of this.h.requests.values()) {
      if (p.conn === conn && !p.sending) this.h.finish(p, errorLine(p.msg.id, -32000, `Lost the connection to ${this.origin} (${reason}); try again`));
    }
    this.inbound.forget(conn);
  }

  /** The live session, rebuilding it (lazily, once for all waiters) when there is none. */
  private async ensureConnection(): Promise<LegacyConnection> {
    if (this.conn && !this.conn.lost) return this.conn;
    const opened = await (this.connecting ?? this.startEstablish(this.initRequest, true));
    if (opened.conn && !opened.conn.lost) return opened.conn;
    if (this.conn && !this.conn.lost) return this.conn;
    throw new Error(opened.refusal ?? `the connection to ${this.origin} was lost`);
  }

  private async replace(failed: LegacyConnection): Promise<LegacyConnection> {
    if (this.conn === failed || !this.conn) {
      this.dropConnection(failed, 'the server forgot the session');
      void this.closeConnection(failed);
    }
    return this.ensureConnection();
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

  private async establish(init: JSONRPCRequest | undefined, reinit: boolean): Promise<Opened> {
    const { conn, answer } = await this.open(init);
    if (answer && 'error' in answer && answer.error) {
      await this.closeConnection(conn);
      this.h.log('warn', `${this.origin} refused to initialize: ${answer.error.message}`);
      return { answer, refusal: `${this.origin} refused to initialize: ${answer.error.message}` };
    }
    try {
      if (reinit && init) {
        if (this.clientInitialized) await conn.transport.send({ body: '{"jsonrpc":"2.0","method":"notifications/initialized"}', initialized: true });
        this.h.log('info', `re-initialized the session with ${this.origin}`);
      }
    } catch (err) {
      await this.closeConnection(conn);
      throw err;
    }
    if (this.h.stopping()) {
      await this.closeConnection(conn);
      throw new Error('the bridge is stopping');
    }
    this.conn = conn;
    return answer ? { conn, answer } : { conn };
  }

  /** Picks the transport: Streamable HTTP, or legacy HTTP+SSE when the first POST gets a 4xx. */
  private async open(init: JSONRPCRequest | undefined): Promise<{ conn: LegacyConnection; answer?: Answer }> {
    if (this.kind) return this.openAs(this.kind, init);
    let opened: { conn: LegacyConnection; answer?: Answer };
    try {
      opened = await this.openAs('streamable', init);
    } catch (err) {
      const status = httpStatus(err);
      // Spec backwards compatibility: a 4xx to the initialize POST means "try the old transport".
      // 401/403 are about the token and 408/429 about load, not about the transport.
      if (!init || !(err instanceof HttpError) || status === undefined || status < 400 || status >= 500 || [401, 403, 408, 429].includes(status)) throw err;
      this.h.log('info', `${this.origin} answered the Streamable HTTP initialize with HTTP ${status}; trying the legacy HTTP+SSE transport`);
      try {
        opened = await this.openAs('sse', init);
      } catch (sseErr) {
        if (sseErr instanceof BridgeAuthError) throw sseErr;
        this.h.log('warn', `legacy HTTP+SSE failed too: ${this.h.failure(sseErr).message}`);
        const note = this.h.probeNote();
        if (note) {
          // No era answered: one message that says so, with what each attempt got.
          throw new ProtocolMismatch(`${this.origin} speaks neither MCP 2026-07-28 (${note}) nor a legacy MCP revision (initialize answered HTTP ${status}: ${detail(err)})`);
        }
        throw err;
      }
      this.kind = 'sse';
      rememberEra(this.h.serverUrl, 'sse', this.h.dataDir);
      return opened;
    }
    if (init) {
      this.kind = 'streamable';
      rememberEra(this.h.serverUrl, 'streamable', this.h.dataDir);
    }
    return opened;
  }

  private async openAs(kind: Kind, init: JSONRPCRequest | undefined): Promise<{ conn: LegacyConnection; answer?: Answer }> {
    const conn = this.newConnection(kind);
    const noAnswer = () => new NoAnswer(`No answer from ${this.origin} within ${Math.round(this.h.timeoutMs / 100) / 10} s`);
    try {
      await withTimeout(conn.transport.start(), this.h.timeoutMs, noAnswer);
      conn.started = true;
      if (!init) return { conn };
      const id = this.h.internalId();
      const key = idKey(id);
      const answer = await this.inbound.expect(key, this.h.timeoutMs, noAnswer, () => conn.transport.send({ body: JSON.stringify({ ...init, id }), requestKey: key }));
      const version = answer.result?.protocolVersion;
      if (typeof version === 'string') conn.transport.setProtocolVersion(version);
      this.h.log('info', `connected to ${this.origin} (${kind === 'sse' ? 'legacy HTTP+SSE' : 'Streamable HTTP'})`);
      return { conn, answer };
    } catch (err) {
      await this.closeConnection(conn);
      throw conn.authError && !(err instanceof BridgeAuthError) ? conn.authError : err;
    }
  }

  private async sendRequest(conn: LegacyConnection, p: Pending): Promise<void> {
    p.conn = conn;
    p.sending = true;
    try {
      if (conn.streamReady) await conn.streamReady;
      await conn.transport.send({ body: p.body, requestKey: p.key });
    } finally {
      p.sending = false;
    }
  }

  private sessionGone(conn: LegacyConnection, err: unknown): boolean {
    const status = httpStatus(err);
    if (conn.kind === 'streamable' && !(err instanceof HttpError && conn.transport.sessionId)) return false;
    // The spec says 404; servers built on the SDK's examples answer 400 "No valid session ID".
    return status === 404 || (status === 400 && err instanceof Error && /session/i.test(err.message));
  }

  private async sendQuiet(conn: LegacyConnection, m: Outgoing, what: string): Promise<void> {
    try {
      await conn.transport.send(m);
    } catch (err) {
      this.h.log('warn', `could not forward ${what} to ${this.origin}: ${this.h.failure(err).message}`);
    }
  }
}
