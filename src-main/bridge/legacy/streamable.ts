// Streamable HTTP (2025-03-26 … 2025-11-25) as bytes: each message is POSTed as the client wrote
// it; the answer comes back as a JSON body or on an event stream, and is passed on as it arrives.
// Follows the SDK's client transport: session id and protocol version headers, a standalone GET
// stream once the session is initialized (405: the server has none), DELETE to end the session,
// and a broken response stream resumed by GET with Last-Event-ID when the server gave event ids.
import { HttpError } from '../errors.js';
import { readEvents, readJsonBody, type EventInfo } from './read-body.js';
import type { LegacyTransport, Outgoing, TransportHost } from './transport.js';

const STANDALONE_RETRIES = 2;
const RESUME_RETRIES = 2;
const RETRY_BASE_MS = 1000;

/** A wait that does not keep a finished bridge alive. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class StreamableTransport implements LegacyTransport {
  readonly kind = 'streamable' as const;
  sessionId: string | undefined;
  onerror?: (err: Error) => void;
  onclose?: () => void;
  onStandaloneAnswer?: () => void;
  private protocolVersion: string | undefined;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly host: TransportHost) {}

  async start(): Promise<void> {}

  setProtocolVersion(v: string): void {
    this.protocolVersion = v;
  }

  private headers(accept: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept,
      ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      ...(this.protocolVersion ? { 'mcp-protocol-version': this.protocolVersion } : {}),
      ...extra,
    };
  }

  async send(m: Outgoing): Promise<void> {
    const res = await this.host.fetch(this.host.url, {
      method: 'POST',
      headers: this.headers('application/json, text/event-stream', { 'content-type': 'application/json' }),
      body: m.body,
      signal: this.abort.signal,
    });
    const sid = res.headers.get('mcp-session-id');
    if (sid) this.sessionId = sid;
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new HttpError(res.status, text || res.statusText);
    }
    if (res.status === 202 || !m.requestKey) {
      await res.body?.cancel().catch(() => {});
      if (m.initialized) void this.standalone(0);
      return;
    }
    const type = res.headers.get('content-type') ?? '';
    const key = m.requestKey;
    if (type.includes('text/event-stream') && res.body) {
      const info: EventInfo = {};
      // The answer arrives later on this stream; send() is done once the server took the request.
      void this.events(res.body, info).then(
        () => this.afterStream(key, info, 'the response stream ended before the answer'),
        (err: unknown) => this.afterStream(key, info, `the response stream broke (${err instanceof Error ? err.message : String(err)})`),
      );
      return;
    }
    if (type.includes('application/json') && res.body) {
      void readJsonBody(res.body, this.host, (bytes) => this.host.whole(bytes)).then(
        () => this.host.streamEnded(key, 'the response had no answer'),
        (err: unknown) => this.host.streamEnded(key, `the response broke (${err instanceof Error ? err.message : String(err)})`),
      );
      return;
    }
    await res.body?.cancel().catch(() => {});
    throw new HttpError(-1, `unexpected content type "${type}"`);
  }

  private events(body: ReadableStream<Uint8Array>, info: EventInfo): Promise<void> {
    return readEvents(body, this.host, (event, data) => {
      if (event === 'message') this.host.whole(data);
    }, info);
  }

  /** A response stream is over: resume it when the server gave event ids and the answer is due. */
  private async afterStream(key: string, info: EventInfo, why: string): Promise<void> {
    for (let attempt = 0; info.lastId !== undefined && attempt < RESUME_RETRIES && !this.closed && this.host.waiting(key); attempt++) {
      await pause(info.retryMs ?? RETRY_BASE_MS * 1.5 ** attempt);
      try {
        const res = await this.host.fetch(this.host.url, { method: 'GET', headers: this.headers('text/event-stream', { 'last-event-id': info.lastId }), signal: this.abort.signal });
        if (!res.ok || !res.body) {
          await res.body?.cancel().catch(() => {});
          break;
        }
        await this.events(res.body, info);
      } catch {
        // try again, within the bound
      }
    }
    if (!this.closed) this.host.streamEnded(key, why);
  }

  /** The standalone GET stream: server-initiated requests and notifications outside any request. */
  private async standalone(failures: number): Promise<void> {
    if (this.closed) return;
    let res: Response;
    try {
      res = await this.host.fetch(this.host.url, { method: 'GET', headers: this.headers('text/event-stream'), signal: this.abort.signal });
    } catch (err) {
      this.onStandaloneAnswer?.();
      if (!this.closed) this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.onStandaloneAnswer?.();
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      if (res.status !== 405) this.onerror?.(new HttpError(res.status, `Failed to open the event stream: ${res.statusText}`));
      return;
    }
    const began = Date.now();
    await this.events(res.body, {}).catch(() => {});
    // A stream that lasted a while is a fresh start; quick failures in a row are bounded.
    failures = Date.now() - began > 10_000 ? 0 : failures + 1;
    if (this.closed || failures > STANDALONE_RETRIES) return;
    await pause(RETRY_BASE_MS * 1.5 ** failures);
    await this.standalone(failures);
  }

  async terminate(): Promise<void> {
    if (!this.sessionId) return;
    const res = await this.host.fetch(this.host.url, { method: 'DELETE', headers: this.headers('application/json'), signal: this.abort.signal });
    await res.body?.cancel().catch(() => {});
    if (!res.ok && res.status !== 405) throw new HttpError(res.status, `Failed to terminate the session: ${res.statusText}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.onclose?.();
  }
}
