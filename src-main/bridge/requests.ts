// The client's requests in flight: one timer each (progress restarts it), one answer each.
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { idKey } from './errors.js';
import type { ModernCall } from './modern/session.js';
import type { LegacyConnection } from './legacy/connection.js';

export interface Pending extends ModernCall {
  msg: JSONRPCRequest;
  /** The request as the client wrote it: what goes on the wire. */
  body: string;
  key: string;
  conn?: LegacyConnection;
  sending: boolean;
  retried: boolean;
  done: boolean;
  timer?: NodeJS.Timeout;
  progressKey?: string;
}

export class RequestTable {
  private readonly pending = new Map<string, Pending>();
  private readonly byProgress = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (p: Pending) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get(key: string): Pending | undefined {
    return this.pending.get(key);
  }

  byId(id: unknown): Pending | undefined {
    return this.pending.get(idKey(id));
  }

  values(): Pending[] {
    return [...this.pending.values()];
  }

  /** A new request; undefined when its id is already in use. */
  add(msg: JSONRPCRequest, body: string): Pending | undefined {
    const key = idKey(msg.id);
    if (this.pending.has(key)) return undefined;
    const p: Pending = { msg, body, key, sending: false, retried: false, done: false };
    const token = msg.params?._meta?.progressToken;
    if (token !== undefined) {
      p.progressKey = idKey(token);
      this.byProgress.set(p.progressKey, p);
    }
    this.pending.set(key, p);
    this.arm(p);
    return p;
  }

  /** Progress for a request restarts its timer. */
  progress(token: unknown): void {
    const p = this.byProgress.get(idKey(token));
    if (p && !p.done) this.arm(p);
  }

  arm(p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (!p.done) this.onTimeout(p);
    }, this.timeoutMs);
  }

  /** Forgets a request without answering it (answered, cancelled, or timed out). */
  settle(p: Pending): boolean {
    if (p.done) return false;
    p.done = true;
    clearTimeout(p.timer);
    this.pending.delete(p.key);
    if (p.progressKey !== undefined && this.byProgress.get(p.progressKey) === p) this.byProgress.delete(p.progressKey);
    return true;
  }

  /** The bridge is stopping: nothing waits any more. */
  clear(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.controller?.abort();
    }
    this.pending.clear();
    this.byProgress.clear();
  }
}
