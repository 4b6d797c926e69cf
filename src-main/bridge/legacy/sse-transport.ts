// The legacy HTTP+SSE transport (2024-11-05) as bytes: one GET event stream carries every message
// from the server, after an `endpoint` event names where to POST. Each `message` event is passed
// on as it arrives; each client line is POSTed as it came.
import { HttpError, StreamError } from '../errors.js';
import { readEvents } from './read-body.js';
import type { LegacyTransport, Outgoing, TransportHost } from './transport.js';

export class SseTransport implements LegacyTransport {
  readonly kind = 'sse' as const;
  readonly sessionId = undefined;
  onerror?: (err: Error) => void;
  onclose?: () => void;
  onStandaloneAnswer?: () => void;
  private endpoint: URL | undefined;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly host: TransportHost) {}

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const fail = (err: Error) => {
        if (this.closed) return;
        if (!started) reject(err);
        else this.onerror?.(err instanceof StreamError ? err : new StreamError(undefined, err.message));
      };
      void (async () => {
        const res = await this.host.fetch(this.host.url, { method: 'GET', headers: { accept: 'text/event-stream' }, signal: this.abort.signal });
        if (!res.ok || !res.body) {
          await res.body?.cancel().catch(() => {});
          throw new StreamError(res.status, `Non-200 status code (${res.status})`);
        }
        await readEvents(res.body, this.host, (event, data) => {
          if (event === 'endpoint') {
            let url: URL;
            try {
              url = new URL(data.toString('utf8').trim(), this.host.url);
            } catch {
              return fail(new StreamError(undefined, 'the server named an endpoint that is not a URL'));
            }
            if (url.origin !== this.host.url.origin) return fail(new StreamError(undefined, `the server named an endpoint on another origin (${url.origin})`));
            this.endpoint = url;
            started = true;
            resolve();
          } else if (event === 'message') this.host.whole(data);
        });
        fail(new StreamError(undefined, 'closed by the server'));
      })().catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    });
  }

  setProtocolVersion(): void {}

  async send(m: Outgoing): Promise<void> {
    if (!this.endpoint) throw new StreamError(undefined, 'not connected');
    const res = await this.host.fetch(this.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: m.body, signal: this.abort.signal });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new HttpError(res.status, text || res.statusText);
    }
    await res.body?.cancel().catch(() => {});
  }

  async terminate(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.onclose?.();
  }
}
