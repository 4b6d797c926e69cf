// Stands in front of the bridge while the server is not usable yet: the sign-in is waiting for
// the person (first use of `bridge <url>`), or it failed. MCP clients give up on a server that
// does not answer `initialize` within their connect timeout (Claude Code: 30 s), so the gate
// answers it at once, answers listings with empty lists, and holds other calls up to the request
// timeout. Once signed in it starts the real bridge, replays the client's initialize to it, lets
// the held calls through and tells the client the lists changed: the same session carries on.
// When the sign-in fails, every later request gets the reason as a JSON-RPC error.
import { PassThrough } from 'node:stream';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { errorLine, LineSplitter, MAX_LINE_BYTES, parseLine } from '../bridge/stdio.js';

export type GateLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export interface GateOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  displayName: string;
  version: string;
  /** How long a held call waits for the sign-in. */
  waitMs: number;
  log: GateLog;
}

/** Starts the real bridge on these streams; resolves when it has stopped. */
export type RunBridge = (input: NodeJS.ReadableStream, output: NodeJS.WritableStream) => Promise<void>;

const EMPTY_LISTS: Record<string, object> = {
  'tools/list': { tools: [] },
  'prompts/list': { prompts: [] },
  'resources/list': { resources: [] },
  'resources/templates/list': { resourceTemplates: [] },
};
const LIST_CHANGED: Array<[capability: string, method: string]> = [
  ['tools', 'notifications/tools/list_changed'],
  ['prompts', 'notifications/prompts/list_changed'],
  ['resources', 'notifications/resources/list_changed'],
];
const REPLAY_ID = 'mcp-tokens-gate-initialize';

interface Held {
  msg: JSONRPCRequest;
  timer: NodeJS.Timeout;
}

export function waitingMessage(displayName: string): string {
  return `Sign-in to '${displayName}' is waiting for your approval: approve the sign-in in your browser (or in MCP Token Manager), then retry.`;
}

export class SignInGate {
  private state: 'pending' | 'replaying' | 'open' | 'failed' = 'pending';
  private reason = '';
  /** What a waiting client is told, when it is not the sign-in (setWaiting). */
  private waitingText: string | undefined;
  private initialize: JSONRPCRequest | undefined;
  private clientInitialized = false;
  private readonly held = new Map<string, Held>();
  /** Raw client lines that arrive while the initialize is being replayed. */
  private queued: string[] = [];
  private toBridge: PassThrough | undefined;
  private bridgeDone: Promise<void> = Promise.resolve();
  private inputEnded = false;
  private endInput: () => void = () => {};
  readonly done: Promise<void>;
  private gotClient: (name: string | undefined) => void = () => {};
  private readonly clientSeen = new Promise<string | undefined>((resolve) => (this.gotClient = resolve));

  /** The client's own name whenever its initialize comes (no timer: a client that never sends one keeps nothing alive). */
  clientNameLater(): Promise<string | undefined> {
    return this.clientSeen;
  }

  /** The client's own name from its initialize (for the consent card), waiting at most `ms` for it. */
  clientName(ms: number): Promise<string | undefined> {
    return Promise.race([this.clientSeen, new Promise<undefined>((r) => setTimeout(r, ms))]);
  }

  constructor(private readonly o: GateOptions) {
    this.done = new Promise<void>((resolve) => {
      const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => this.fromClient(line), () => this.write(errorLine(null, -32700, 'Parse error: line too long')));
      const onData = (c: Buffer | string) => splitter.push(c);
      this.endInput = () => {
        if (this.inputEnded) return;
        this.inputEnded = true;
        splitter.end();
        o.input.off('data', onData);
        for (const h of this.held.values()) clearTimeout(h.timer);
        this.held.clear();
        this.toBridge?.end();
        void this.bridgeDone.then(resolve, resolve);
      };
      o.input.on('data', onData);
      o.input.on('end', () => this.endInput());
      o.input.on('close', () => this.endInput());
      o.input.on('error', () => this.endInput());
    });
  }

  private write(msg: JSONRPCMessage | ReturnType<typeof errorLine>): void {
    try {
      this.o.output.write(`${JSON.stringify(msg)}\n`);
    } catch {
      // the client is gone; the input ends next
    }
  }

  private fromClient(line: string): void {
    if (this.state === 'open') {
      this.toBridge!.write(`${line}\n`);
      return;
    }
    if (this.state === 'replaying') {
      this.queued.push(line);
      return;
    }
    for (const item of parseLine(line)) {
      if ('reply' in item) this.write(item.reply);
      else this.handle(item.message);
    }
  }

  private handle(msg: JSONRPCMessage): void {
    if ('method' in msg && 'id' in msg) return this.request(msg as JSONRPCRequest);
    if ('method' in msg) {
      if (msg.method === 'notifications/initialized') this.clientInitialized = true;
      if (msg.method === 'notifications/cancelled') {
        const key = JSON.stringify((msg.params as { requestId?: unknown } | undefined)?.requestId ?? null);
        clearTimeout(this.held.get(key)?.timer);
        this.held.delete(key);
      }
    }
    // Answers to server requests cannot exist yet: there is no server.
  }

  private request(msg: JSONRPCRequest): void {
    const reply = (result: object) => this.write({ jsonrpc: '2.0', id: msg.id, result } as JSONRPCMessage);
    if (msg.method === 'initialize') {
      this.initialize = msg;
      const info = (msg.params as { clientInfo?: { name?: unknown } } | undefined)?.clientInfo;
      this.gotClient(typeof info?.name === 'string' ? info.name.slice(0, 100) : undefined);
      const asked = (msg.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
      const protocolVersion = typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION;
      reply({
        protocolVersion,
        capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } },
        serverInfo: { name: this.o.displayName, version: this.o.version },
        instructions: this.state === 'failed' ? this.reason : (this.waitingText ?? waitingMessage(this.o.displayName)),
      });
      return;
    }
    if (msg.method === 'ping') return reply({});
    if (this.state === 'failed') {
      this.write(errorLine(msg.id, -32000, this.reason));
      return;
    }
    const empty = EMPTY_LISTS[msg.method];
    if (empty) return reply(empty);
    const key = JSON.stringify(msg.id);
    const timer = setTimeout(() => {
      this.held.delete(key);
      this.o.log('info', `a ${msg.method} call waited ${Math.round(this.o.waitMs / 1000)} s for the sign-in; answered with an error`);
      this.write(errorLine(msg.id, -32000, this.waitingText ?? waitingMessage(this.o.displayName)));
    }, this.o.waitMs);
    this.held.set(key, { msg, timer });
  }

  /** What the client is told while it waits, when that is not a sign-in (undefined: the sign-in's words). */
  setWaiting(text: string | undefined): void {
    this.waitingText = text;
  }

  /** The sign-in failed: held and later requests get `reason`. */
  fail(reason: string): void {
    if (this.state !== 'pending' && this.state !== 'replaying') return;
    this.state = 'failed';
    this.reason = reason;
    for (const h of this.held.values()) {
      clearTimeout(h.timer);
      this.write(errorLine(h.msg.id, -32000, reason));
    }
    this.held.clear();
    const queued = this.queued;
    this.queued = [];
    for (const line of queued) this.fromClient(line);
  }

  /** Signed in: start the real bridge behind the gate and hand the session over to it. */
  open(run: RunBridge): void {
    if (this.state !== 'pending' || this.inputEnded) return;
    this.state = 'replaying';
    this.toBridge = new PassThrough();
    const fromBridge = new PassThrough();
    const splitter = new LineSplitter(
      MAX_LINE_BYTES,
      (line) => this.fromBridge(line),
      () => this.o.log('warn', 'dropped an over-long line from the bridge'),
    );
    fromBridge.on('data', (c: Buffer) => splitter.push(c));
    this.bridgeDone = run(this.toBridge, fromBridge).finally(() => {
      splitter.end();
      // The bridge stopped on its own: nothing answers any more.
      this.o.output.end?.();
    });
    if (!this.initialize) {
      // The client has not even initialized: just connect the two.
      this.state = 'open';
      return;
    }
    this.toBridge.write(`${JSON.stringify({ ...this.initialize, id: REPLAY_ID })}\n`);
  }

  private fromBridge(line: string): void {
    if (this.state !== 'replaying') {
      if (this.state === 'open') this.o.output.write(`${line}\n`);
      return;
    }
    let msg: { id?: unknown; result?: { capabilities?: Record<string, unknown> }; error?: { message?: string } } | undefined;
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      msg = undefined;
    }
    if (msg?.id !== REPLAY_ID) return; // nothing else can come before the initialize answer
    if (msg.error || !msg.result) {
      const why = `'${this.o.displayName}' refused to start the session: ${msg.error?.message ?? 'no answer'}`;
      this.o.log('error', why);
      this.toBridge!.end();
      this.fail(why);
      return;
    }
    this.state = 'open';
    if (this.clientInitialized) this.toBridge!.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    for (const h of this.held.values()) {
      clearTimeout(h.timer);
      this.toBridge!.write(`${JSON.stringify(h.msg)}\n`);
    }
    this.held.clear();
    for (const l of this.queued) this.toBridge!.write(`${l}\n`);
    this.queued = [];
    const caps = msg.result.capabilities ?? {};
    for (const [cap, method] of LIST_CHANGED) if (cap in caps) this.write({ jsonrpc: '2.0', method } as JSONRPCMessage);
    this.o.log('info', `signed in; the session with '${this.o.displayName}' carries on`);
  }
}
