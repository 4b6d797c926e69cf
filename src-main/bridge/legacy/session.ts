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
import type { Answer, LegacyHost, LegacyLink } from './link.js';
import { SseTransport } from './sse-transport.js';
import { StreamableTransport } from './streamable.js';
import type { Kind, Outgoing } from './transport.js';

export type { LegacyHost, LegacyLink } from './link.js';

interface Opened {
  link?: LegacyLink;
  answer?: Answer;
  refusal?: string;
}

const STANDALONE_STREAM_WAIT_MS = 1500;
const TERMINATE_MS = 2_000;

export class LegacySession {
  kind: Kind | undefined;
  /** The transport came from memory, not from this run: a failure re-probes once. */
  kindFromMemory = false;
  private link: LegacyLink | undefined;
  private connecting: Promise<Opened> | undefined;
  private readonly links = new Set<LegacyLink>();
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
    let target: LegacyLink | undefined;
    if (msg.method === 'notifications/initialized') this.clientInitialized = true;
    if (msg.method === 'notifications/cancelled') {
      const p = this.h.requests.byId(msg.params?.requestId);
      if (p) {
        target = p.link;
        this.h.requests.settle(p);
      }
    }
    this.h.track(
      (async () => {
        const link = target ?? this.link ?? (this.connecting ? await this.ensureLink().catch(() => undefined) : undefined);
        if (!link || link.lost) {
          this.h.log('debug', `dropped ${msg.method}: no session with ${this.origin}`);
          return;
        }
        const initialized = msg.method === 'notifications/initialized';
        if (initialized && link.kind === 'streamable') {
          link.streamReady = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STANDALONE_STREAM_WAIT_MS);
            link.onStandaloneAnswer = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        await this.sendQuiet(link, { body, initialized }, msg.method);
      })(),
    );
  }

  /** The client's answer to a request from the server: back to the session that asked. */
  answer(id: unknown, body: string): void {
    const link = this.inbound.askedBy(id);
    if (!link || link.lost || link.closing) {
      this.h.log('debug', `dropped the client's answer to ${String(id)}: that session is gone`);
      return;
    }
    this.h.track(this.sendQuiet(link, { body }, 'an answer'));
  }

  /** Forwards a request, rebuilding the session once when the server forgot it. */
  async request(p: Pending): Promise<void> {
    let link = await this.ensureLink();
    if (p.done) return;
    try {
      await this.sendRequest(link, p);
    } catch (err) {
      if (p.done || p.retried || !this.sessionGone(link, err)) throw err;
      p.retried = true;
      p.link = undefined;
      this.h.log('info', `${this.origin} no longer knows the session (HTTP ${httpStatus(err)}); re-initializing`);
      link = await this.replace(link);
      if (p.done) return;
      await this.sendRequest(link, p);
    }
  }

  /** The client's initialize: a new session, answered with the server's own answer. */
  async initialize(p: Pending): Promise<void> {
    const old = this.link;
    if (old) {
      // A new handshake is a new session.
      this.dropLink(old, 'the client started a new session');
      void this.closeLink(old);
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
    const link = p.link;
    if (link && !link.lost && p.msg.method !== 'initialize') {
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: p.msg.id, reason: 'timeout' } });
      this.h.track(this.sendQuiet(link, { body }, 'notifications/cancelled'));
    }
  }

  async stop(): Promise<void> {
    const links = [...this.links];
    this.link = undefined;
    await Promise.all(
      links.map(async (link) => {
        link.closing = true;
        if (link.transport.sessionId && !link.lost) {
          // Tell the server the session is over; it may not support that, or be gone.
          await withTimeout(link.transport.terminate(), TERMINATE_MS, () => new NoAnswer('terminate')).catch(() => {});
        }
        await this.closeLink(link);
      }),
    );
  }

  // ---- the server's side ----

  private onTransportError(link: LegacyLink, err: Error): void {
    if (link.closing || link.lost) return;
    if (link.kind === 'sse' && link.started && err instanceof StreamError) {
      // The legacy event stream carries every answer: without it the session is useless.
      this.h.log('warn', `the event stream from ${this.origin} broke (${link.authError?.message ?? streamReason(err)}); will reconnect on the next request`);
      this.dropLink(link, 'the event stream broke');
      void this.closeLink(link);
      return;
    }
    this.h.log('debug', `transport: ${err.message}`);
  }

  // ---- sessions ----

  private newLink(kind: Kind): LegacyLink {
    const host = {
      url: this.h.url,
      fetch: this.h.authFetch((e) => {
        link.authError = e;
      }),
      whole: (bytes: Buffer) => this.inbound.whole(link, bytes),
      long: () => this.h.output.long(),
      wrote: (head: Head) => this.inbound.wrote(link, head),
      streamEnded: (key: string, why: string) => this.inbound.streamEnded(link, key, why),
      waiting: (key: string) => this.inbound.waiting(key),
    };
    const transport = kind === 'streamable' ? new StreamableTransport(host) : new SseTransport(host);
    const link: LegacyLink = { transport, kind, started: false, closing: false, lost: false };
    transport.onStandaloneAnswer = () => link.onStandaloneAnswer?.();
    transport.onerror = (e) => this.onTransportError(link, e);
    transport.onclose = () => {
      if (!link.closing) {
        this.h.log('warn', `the connection to ${this.origin} closed; will reconnect on the next request`);
        this.dropLink(link, 'the connection closed');
      }
      this.links.delete(link);
    };
    this.links.add(link);
    return link;
  }

  private async closeLink(link: LegacyLink): Promise<void> {
    link.closing = true;
    this.links.delete(link);
    await link.transport.close().catch(() => {});
  }

  /** The session is over: requests waiting on it get an error now rather than a timeout later. */
  private dropLink(link: LegacyLink, reason: string): void {
    if (link.lost) return;
    link.lost = true;
    if (this.link === link) this.link = undefined;
    for (const p of this.h.requests.values()) {
      if (p.link === link && !p.sending) this.h.finish(p, errorLine(p.msg.id, -32000, `Lost the connection to ${this.origin} (${reason}); try again`));
    }
    this.inbound.forget(link);
  }

  /** The live session, rebuilding it (lazily, once for all waiters) when there is none. */
  private async ensureLink(): Promise<LegacyLink> {
    if (this.link && !this.link.lost) return this.link;
    const opened = await (this.connecting ?? this.startEstablish(this.initRequest, true));
    if (opened.link && !opened.link.lost) return opened.link;
    if (this.link && !this.link.lost) return this.link;
    throw new Error(opened.refusal ?? `the connection to ${this.origin} was lost`);
  }

  private async replace(failed: LegacyLink): Promise<LegacyLink> {
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

  private async establish(init: JSONRPCRequest | undefined, reinit: boolean): Promise<Opened> {
    const { link, answer } = await this.open(init);
    if (answer && 'error' in answer && answer.error) {
      await this.closeLink(link);
      this.h.log('warn', `${this.origin} refused to initialize: ${answer.error.message}`);
      return { answer, refusal: `${this.origin} refused to initialize: ${answer.error.message}` };
    }
    try {
      if (reinit && init) {
        if (this.clientInitialized) await link.transport.send({ body: '{"jsonrpc":"2.0","method":"notifications/initialized"}', initialized: true });
        this.h.log('info', `re-initialized the session with ${this.origin}`);
      }
    } catch (err) {
      await this.closeLink(link);
      throw err;
    }
    if (this.h.stopping()) {
      await this.closeLink(link);
      throw new Error('the bridge is stopping');
    }
    this.link = link;
    return answer ? { link, answer } : { link };
  }

  /** Picks the transport: Streamable HTTP, or legacy HTTP+SSE when the first POST gets a 4xx. */
  private async open(init: JSONRPCRequest | undefined): Promise<{ link: LegacyLink; answer?: Answer }> {
    if (this.kind) return this.openAs(this.kind, init);
    let opened: { link: LegacyLink; answer?: Answer };
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

  private async openAs(kind: Kind, init: JSONRPCRequest | undefined): Promise<{ link: LegacyLink; answer?: Answer }> {
    const link = this.newLink(kind);
    const noAnswer = () => new NoAnswer(`No answer from ${this.origin} within ${Math.round(this.h.timeoutMs / 100) / 10} s`);
    try {
      await withTimeout(link.transport.start(), this.h.timeoutMs, noAnswer);
      link.started = true;
      if (!init) return { link };
      const id = this.h.internalId();
      const key = idKey(id);
      const answer = await this.inbound.expect(key, this.h.timeoutMs, noAnswer, () => link.transport.send({ body: JSON.stringify({ ...init, id }), requestKey: key }));
      const version = answer.result?.protocolVersion;
      if (typeof version === 'string') link.transport.setProtocolVersion(version);
      this.h.log('info', `connected to ${this.origin} (${kind === 'sse' ? 'legacy HTTP+SSE' : 'Streamable HTTP'})`);
      return { link, answer };
    } catch (err) {
      await this.closeLink(link);
      throw link.authError && !(err instanceof BridgeAuthError) ? link.authError : err;
    }
  }

  private async sendRequest(link: LegacyLink, p: Pending): Promise<void> {
    p.link = link;
    p.sending = true;
    try {
      if (link.streamReady) await link.streamReady;
      await link.transport.send({ body: p.body, requestKey: p.key });
    } finally {
      p.sending = false;
    }
  }

  private sessionGone(link: LegacyLink, err: unknown): boolean {
    const status = httpStatus(err);
    if (link.kind === 'streamable' && !(err instanceof HttpError && link.transport.sessionId)) return false;
    // The spec says 404; servers built on the SDK's examples answer 400 "No valid session ID".
    return status === 404 || (status === 400 && err instanceof Error && /session/i.test(err.message));
  }

  private async sendQuiet(link: LegacyLink, m: Outgoing, what: string): Promise<void> {
    try {
      await link.transport.send(m);
    } catch (err) {
      this.h.log('warn', `could not forward ${what} to ${this.origin}: ${this.h.failure(err).message}`);
    }
  }
}
