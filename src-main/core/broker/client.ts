// A bridge's (or the CLI's) connection to the broker. Starts a broker when none answers,
// reconnects after the broker dies, and bounds every request in time.
import { lstatSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../platform/errors.js';
import { advertisedAddressFile, daemonFailureFile } from './address.js';
import { describeHolder, electionHolder } from './election.js';

/** How long a bridge waits for a broker that has won its election but does not listen yet. */
const ELECTED_START_WAIT_MS = 90_000;
/**
 * A lock held this long by a process that still does not answer is not a broker starting: the
 * bridge says so at once instead of waiting (a broker listens within seconds of its election,
 * tens of seconds on a loaded machine).
 */
const STALLED_HOLDER_MS = 45_000;
import { type BrokerEvent, type BrokerResults, LineSplitter, MAX_BROKER_LINE } from './protocol.js';

export interface BrokerClientOptions {
  address: string;
  /** The data dir: where a broker started in another environment advertises its address, and a daemon leaves why it could not start. */
  home?: string;
  /** Starts a broker (the daemon, or the app); called when none answers. Resolves when it should answer. */
  start?: () => void | Promise<void>;
  /** How long to wait for a started broker to answer. */
  startTimeoutMs?: number;
  onEvent?: (e: BrokerEvent) => void;
  clientName?: string;
  /**
   * Called once when the broker is late: the lock's holder has had it for a while and still does
   * not answer (the reason, in words). The bridge then answers its client while it waits on.
   */
  onLate?: (reason: string) => void;
}

/** A holder that has not answered this long after taking the lock makes the wait worth telling. */
const LATE_HOLDER_MS = 10_000;

export class BrokerRequestError extends UserError {}

/** The computed socket's directory is not privately ours (someone else made it first): look elsewhere. */
class UnsafeSocketDirError extends UserError {}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class BrokerClient {
  private sock: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private subscribed = false;
  constructor(private readonly o: BrokerClientOptions) {}

  /** The computed address, then the one the running broker advertised (if another). */
  private async connectAny(): Promise<Socket> {
    try {
      return await this.tryConnect(this.o.address);
    } catch (first) {
      const alt = this.o.home ? readJson<{ address?: unknown }>(advertisedAddressFile(this.o.home))?.address : undefined;
      if (typeof alt === 'string' && alt !== this.o.address) {
        try {
          return await this.tryConnect(alt);
        } catch {
          // Stale: that broker is gone too.
        }
      }
      throw first;
    }
  }

  /** Why a daemon started at `since` could not start, if it said so. */
  private startFailure(since: number): string | undefined {
    if (!this.o.home) return undefined;
    const f = readJson<{ at?: unknown; message?: unknown }>(daemonFailureFile(this.o.home));
    return f && typeof f.at === 'number' && f.at >= since - 1000 && typeof f.message === 'string' ? f.message : undefined;
  }

  private tryConnect(address: string): Promise<Socket> {
    if (!address.startsWith('\\\\')) {
      const unsafe = unsafeSocketDir(address);
      if (unsafe) return Promise.reject(new UnsafeSocketDirError('network', unsafe, 'Set XDG_RUNTIME_DIR or TMPDIR to a directory only you can write.'));
    }
    return new Promise((resolve, reject) => {
      const s = connect(address);
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  private async open(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return this.sock;
    this.connecting ??= (async () => {
      let s: Socket;
      try {
        s = await this.connectAny();
      } catch (first) {
        // An unsafe default dir: a broker started now listens elsewhere and advertises where.
        if (first instanceof UserError && !(first instanceof UnsafeSocketDirError)) throw first;
        if (!this.o.start) {
          if (first instanceof UserError) throw first;
          throw new UserError('network', `No token broker answers at ${this.o.address}.`, 'Start the app, or run `mcp-tokens daemon`.', { cause: first });
        }
        const since = Date.now();
        const deadline = since + (this.o.startTimeoutMs ?? 10_000);
        // A starter that says when the broker listens saves the polling below.
        let timer: NodeJS.Timeout | number | undefined;
        const started = await Promise.race([
          Promise.resolve(this.o.start()).then(() => this.connectAny()).catch(() => undefined),
          new Promise<undefined>((r) => (timer = setTimeout(r, deadline - Date.now()))),
        ]).finally(() => clearTimeout(timer));
        let delay = 50;
        let toldLate = false;
        for (;;) {
          if (started) {
            s = started;
            break;
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 500);
          try {
            s = await this.connectAny();
            break;
          } catch (err) {
            if (err instanceof UserError && !(err instanceof UnsafeSocketDirError)) throw err;
            // The daemon said why it could not start: no need to wait out the deadline.
            const why = this.startFailure(since);
            if (why) throw new UserError('network', `The token broker could not start: ${why}`, 'Fix that, then try again; `mcp-tokens daemon` shows the same.', { cause: err });
            const holder = this.o.home ? await electionHolder(this.o.home) : undefined;
            if (holder && !toldLate && Date.now() - holder.since > LATE_HOLDER_MS) {
              toldLate = true;
              this.o.onLate?.(`the token broker does not answer yet: ${describeHolder(holder)}`);
            }
            // Whatever holds the lock without answering (a hung broker, any other process): the
            // reason now, not silence; the bridge passes it to every request.
            if (holder && Date.now() - holder.since > STALLED_HOLDER_MS) {
              throw new UserError('network', `No token broker can start: ${describeHolder(holder)}, and no broker answers at ${this.o.address}.`, `If that is not an mcp-tokens broker, stop it; if no mcp-tokens process is running, delete ${holder.file}. Then try again.`, { cause: err });
            }
            // A broker that won its election is on its way (a loaded machine starts it slowly): wait on, bounded.
            if (Date.now() > deadline && holder && Date.now() < since + ELECTED_START_WAIT_MS) continue;
            if (Date.now() > deadline) throw new UserError('network', 'Started the token broker, but it did not answer in time.', 'See the log in the data directory, or run `mcp-tokens daemon` to see why.', { cause: err });
          }
        }
      }
      this.attach(s);
      return s;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private attach(s: Socket) {
    this.sock = s;
    const splitter = new LineSplitter(MAX_BROKER_LINE, (line) => this.onLine(line), () => {});
    s.on('data', (c: Buffer) => splitter.push(c));
    s.on('error', () => {});
    s.on('close', () => {
      if (this.sock === s) this.sock = undefined;
      const wasSubscribed = this.subscribed;
      this.subscribed = false;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new UserError('network', 'The connection to the token broker was lost.', 'It restarts on the next request.'));
        this.pending.delete(id);
      }
      if (wasSubscribed && this.o.onEvent) void this.subscribe().catch(() => {});
    });
  }

  private onLine(line: string) {
    let msg: { id?: unknown; result?: unknown; error?: { code?: string; message?: string; hint?: string }; event?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.event === 'status') {
      this.o.onEvent?.(msg as unknown as BrokerEvent);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) {
      const e = msg.error;
      p.reject(new BrokerRequestError((e.code as never) ?? 'token', e.message ?? 'Broker error.', e.hint));
    } else p.resolve(msg.result);
  }

  async request<M extends keyof BrokerResults>(method: M, params: Record<string, unknown>, timeoutMs = 30_000): Promise<BrokerResults[M]> {
    const s = await this.open();
    const id = this.nextId++;
    return new Promise<BrokerResults[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new UserError('timeout', `The token broker did not answer ${method} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      s.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  async subscribe(): Promise<void> {
    await this.request('subscribe', {});
    this.subscribed = true;
  }

  close() {
    this.sock?.destroy();
    this.sock = undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A reason not to trust the socket's directory (someone else's, or writable by others); undefined when fine or absent. */
function unsafeSocketDir(address: string): string | undefined {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return undefined;
  const dir = dirname(address);
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined; // no dir yet: no broker, and the one started creates it privately
  }
  if (!st.isDirectory() || st.uid !== process.getuid() || (st.mode & 0o022) !== 0) {
    return `The token broker's directory ${dir} is not a private directory of this user; refusing to use it.`;
  }
  return undefined;
}
