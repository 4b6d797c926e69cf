// What the server sends on a legacy session, routed: answers to the client's requests (as the
// bytes the server sent), answers to the bridge's own requests, and the server's own requests,
// remembered so the client's answer goes back to the session that asked.
import { idKey } from '../errors.js';
import type { Head } from '../json-head.js';
import { errorLine } from '../stdio.js';
import type { Answer, LegacyHost, LegacyConnection } from './connection.js';

type Waiter = { resolve: (m: Answer) => void; reject: (e: Error) => void };

export class Inbound {
  /** The bridge's own requests (a replayed initialize), by id key. */
  private readonly internal = new Map<string, Waiter>();
  /** Which session asked the client something, so the answer goes back there. */
  private readonly serverRequests = new Map<string, LegacyConnection>();

  constructor(
    private readonly h: LegacyHost,
    private readonly origin: string,
  ) {}

  /** Someone still waits for the answer with this key. */
  waiting(key: string): boolean {
    return this.internal.has(key) || this.h.requests.get(key)?.done === false;
  }

  /** Waits for the answer to one of the bridge's own requests; `send` sends it. */
  expect(key: string, timeoutMs: number, noAnswer: () => Error, send: () => Promise<void>): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.internal.delete(key);
      };
      const timer = setTimeout(() => {
        done();
        reject(noAnswer());
      }, timeoutMs);
      timer.unref();
      this.internal.set(key, {
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      send().catch((err: unknown) => {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** The session that asked the request the client now answers (forgotten once taken). */
  askedBy(id: unknown): LegacyConnection | undefined {
    const key = idKey(id);
    const conn = this.serverRequests.get(key);
    this.serverRequests.delete(key);
    return conn;
  }

  /** The session is gone: its requests to the client can no longer be answered. */
  forget(conn: LegacyConnection): void {
    for (const [key, l] of this.serverRequests) if (l === conn) this.serverRequests.delete(key);
  }

  /** A whole message (or batch) from the server. */
  whole(conn: LegacyConnection, bytes: Buffer): void {
    let m: unknown;
    try {
      m = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.h.log('warn', `${this.origin} sent something that is not JSON (${bytes.length} bytes); dropped`);
      return;
    }
    if (Array.isArray(m)) for (const x of m) this.route(conn, x, Buffer.from(JSON.stringify(x)));
    else this.route(conn, m, bytes);
  }

  /** A large message went to the client in pieces: settle what it answered. */
  wrote(conn: LegacyConnection, head: Head): void {
    if (head.id === undefined) return;
    if (head.method !== undefined) {
      this.serverRequests.set(idKey(head.id), conn);
      return;
    }
    const p = this.h.requests.byId(head.id);
    if (p) this.h.requests.settle(p);
  }

  /** A POST's response stream ended: its request, if still unanswered, fails now. */
  streamEnded(conn: LegacyConnection, key: string, why: string): void {
    const waiter = this.internal.get(key);
    if (waiter) return waiter.reject(new Error(`the connection to ${this.origin} was lost (${why})`));
    const p = this.h.requests.get(key);
    if (p && !p.done && p.conn === conn) this.h.finish(p, errorLine(p.msg.id, -32000, `Lost the connection to ${this.origin} (${why}); try again`));
  }

  private route(conn: LegacyConnection, m: unknown, bytes: Buffer): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as Answer & { method?: unknown; params?: { progressToken?: unknown } };
    if ('result' in msg || 'error' in msg) {
      if (msg.id === undefined || msg.id === null) {
        this.h.log('warn', `${this.origin} sent an error that names no request: ${msg.error?.message ?? ''}`);
        return;
      }
      const key = idKey(msg.id);
      const waiter = this.internal.get(key);
      if (waiter) return waiter.resolve(msg);
      const p = this.h.requests.get(key);
      if (p && this.h.requests.settle(p)) return this.h.output.line(bytes);
      this.h.log('debug', `dropped a late answer to ${String(msg.id)}`);
      return;
    }
    if (typeof msg.method !== 'string') return;
    if (msg.id !== undefined) this.serverRequests.set(idKey(msg.id), conn);
    else if (msg.method === 'notifications/progress') this.h.requests.progress(msg.params?.progressToken);
    this.h.output.line(bytes);
  }
}
