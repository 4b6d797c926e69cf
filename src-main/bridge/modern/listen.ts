// Change notifications from a 2026-07-28 server: one subscriptions/listen stream (instead of the
// legacy GET stream) with the filter the client's capabilities and subscriptions call for,
// reopened with a bounded backoff when it breaks.
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { sleep } from '../errors.js';
import { isObject, pickModernVersion, UNSUPPORTED_VERSION, type Exchange } from './protocol.js';

const MAX_REFUSALS = 16;
const LISTEN_BACKOFF_MAX_MS = 30_000;

export interface ListenSource {
  origin: string;
  capabilities: Record<string, unknown>;
  /** One subscriptions/listen exchange with this filter. */
  listen(filter: Record<string, unknown>, signal: AbortSignal, onMessage: (m: JSONRPCMessage) => void): Promise<Exchange>;
  /** The server refused the version and lists this one. */
  useVersion(version: string): void;
  /** A notification for the client. */
  notification(m: JSONRPCMessage): void;
  log(level: 'debug' | 'warn', msg: string): void;
}

export class ChangeListener {
  private readonly subscriptions = new Set<string>();
  /** The client has sent notifications/initialized. */
  private ready = false;
  private controller: AbortController | undefined;
  private closed = false;

  constructor(private readonly src: ListenSource) {}

  /** A new handshake: nothing flows until the client says it is initialized. */
  reset(): void {
    this.ready = false;
  }

  initialized(): void {
    this.ready = true;
    this.relisten();
  }

  subscribe(uri: string, on: boolean): void {
    if (on) this.subscriptions.add(uri);
    else this.subscriptions.delete(uri);
    this.relisten();
  }

  close(): void {
    this.closed = true;
    this.controller?.abort();
    this.controller = undefined;
  }

  private filter(): Record<string, unknown> | undefined {
    const caps = this.src.capabilities;
    const f: Record<string, unknown> = {};
    const wants = (k: string) => isObject(caps[k]) && (caps[k] as { listChanged?: unknown }).listChanged === true;
    if (wants('tools')) f.toolsListChanged = true;
    if (wants('prompts')) f.promptsListChanged = true;
    if (wants('resources')) f.resourcesListChanged = true;
    if (this.subscriptions.size > 0) f.resourceSubscriptions = [...this.subscriptions];
    return Object.keys(f).length > 0 ? f : undefined;
  }

  /** (Re)opens the one listen stream with the current filter. */
  private relisten(): void {
    this.controller?.abort();
    this.controller = undefined;
    if (this.closed || !this.ready) return;
    const filter = this.filter();
    if (!filter) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.loop(controller, filter);
  }

  private async loop(controller: AbortController, filter: Record<string, unknown>): Promise<void> {
    let failures = 0;
    while (!controller.signal.aborted && !this.closed) {
      const opened = Date.now();
      try {
        const ex = await this.src.listen(filter, controller.signal, (m) => {
          if (!('method' in m) || ('id' in m && m.id !== undefined)) return;
          if (m.method === 'notifications/subscriptions/acknowledged') {
            this.src.log('debug', `${this.src.origin} acknowledged the change notifications`);
            return; // the legacy client knows nothing of subscriptions/listen
          }
          this.src.notification(m);
        });
        if (ex.answer && 'error' in ex.answer) {
          const { code, data } = ex.answer.error;
          const next = code === UNSUPPORTED_VERSION ? pickModernVersion(isObject(data) ? data.supported : undefined) : undefined;
          if (!next || failures >= MAX_REFUSALS) {
            this.src.log('warn', `${this.src.origin} refused change notifications: ${ex.answer.error.message}`);
            return;
          }
          this.src.useVersion(next); // and listen again, after the backoff
        }
        if (!ex.answer && !ex.broken && ex.status >= 400) {
          this.src.log('warn', `${this.src.origin} refused change notifications (HTTP ${ex.status})`);
          return;
        }
      } catch (err) {
        if (controller.signal.aborted || this.closed) return;
        this.src.log('debug', `the change-notification stream from ${this.src.origin} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      // A stream that lived a while was healthy: start the backoff over.
      failures = Date.now() - opened > 10_000 ? 1 : failures + 1;
      await sleep(Math.min(500 * 2 ** (failures - 1), LISTEN_BACKOFF_MAX_MS), controller.signal);
    }
  }
}
