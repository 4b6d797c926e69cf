// The dual-era bridge: a legacy stdio client (initialize handshake, server-to-client requests)
// in front of a 2026-07-28 server written to the spec (test/rig/modern-server.ts), and the pieces
// the modern side is built from (x-mcp-header rules, value encoding, SSE reading).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authorizingFetch, runBridge, type BridgeOptions } from '../../src-main/bridge/bridge.js';
import { forgetEras } from '../../src-main/bridge/era.js';
import { decodeHeaderValue, encodeHeaderValue, paramHeaders, toolHeaders } from '../../src-main/bridge/modern/headers.js';
import { SseParser, type SseEvent } from '../../src-main/bridge/modern/sse.js';
import { BridgeAuthError, NO_AUTH, type TokenSource } from '../../src-main/bridge/token-source.js';
import { startModernServer, type ModernServerHandle, type ModernServerOptions } from '../rig/modern-server.js';

// ---------- a fake token owner and token check ----------

class FakeTokens implements TokenSource {
  rejected: string[] = [];
  constructor(
    public current: string,
    private readonly refreshed?: string,
  ) {}
  async getToken(): Promise<string> {
    return this.current;
  }
  async reportRejected(token: string): Promise<string> {
    this.rejected.push(token);
    if (token === this.current && this.refreshed) this.current = this.refreshed;
    return this.current;
  }
  async stepUp(): Promise<string> {
    throw new BridgeAuthError('no step-up here');
  }
}

const VALID = new Set(['good-token-1', 'fresh-token-2']);
const auth: Pick<ModernServerOptions, 'validate' | 'challenge'> = {
  validate: (t) => (VALID.has(t) ? { sub: 'alice', clientId: 'c1', scopes: ['mcp:tools'], aud: undefined } : undefined),
  challenge: (error) => `Bearer realm="rig"${error ? `, error="${error}"` : ''}`,
};

// ---------- a stdio client driving the bridge with raw JSON-RPC lines ----------

type Msg = { jsonrpc: '2.0'; id?: string | number | null; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string } };

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const CLIENT_CAPS = { elicitation: {}, sampling: {}, roots: { listChanged: true } };

class StdioClient {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  readonly logs: string[] = [];
  private readonly inbox: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private buffered = '';
  private nextId = 0;
  readonly done: Promise<void>;

  constructor(o: Partial<BridgeOptions> & Pick<BridgeOptions, 'serverUrl' | 'tokens'>) {
    this.output.setEncoding('utf8');
    this.output.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.deliver(JSON.parse(line) as Msg);
      }
    });
    this.done = runBridge({ displayName: 'Modern', input: this.input, output: this.output, log: (level, msg) => this.logs.push(`${level}: ${msg}`), ...o });
  }

  private deliver(m: Msg) {
    const w = this.waiters.find((x) => x.pred(m));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(m);
    } else this.inbox.push(m);
  }

  next(pred: (m: Msg) => boolean, ms = 8000, what = 'a message'): Promise<Msg> {
    const i = this.inbox.findIndex(pred);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    const p = new Promise<Msg>((resolve) => this.waiters.push({ pred, resolve }));
    return bounded(p, ms, `${what}; logs:\n${this.logs.join('\n')}`);
  }

  seen(pred: (m: Msg) => boolean): boolean {
    return this.inbox.some(pred);
  }

  send(m: object) {
    this.input.write(`${JSON.stringify(m)}\n`);
  }

  request(method: string, params?: Record<string, unknown>, ms?: number): Promise<Msg> {
    const id = ++this.nextId;
    this.send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    return this.next((m) => m.id === id && m.method === undefined, ms, `the answer to ${method}`);
  }

  async initialize(caps: Record<string, unknown> = CLIENT_CAPS): Promise<Msg> {
    const r = await this.request('initialize', { protocolVersion: '2025-06-18', capabilities: caps, clientInfo: { name: 'legacy-desktop', version: '9.9.9' } });
    if (r.result) this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  callTool(name: string, args: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, ms?: number) {
    return this.request('tools/call', { name, arguments: args, ...extra }, ms);
  }

  async close() {
    this.input.end();
    await bounded(this.done, 15_000, 'runBridge to resolve after stdin ended');
  }
}

function firstText(m: Msg): string | undefined {
  return (m.result?.content as { text?: string }[] | undefined)?.[0]?.text;
}

// ---------- the pieces ----------

describe('x-mcp-header rules', () => {
  it('accepts annotated primitives reachable through properties, nested too', () => {
    const h = toolHeaders({
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        n: { type: 'integer', 'x-mcp-header': 'N' },
        opt: { type: ['boolean', 'null'], 'x-mcp-header': 'Opt' },
        where: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
        // A property literally named x-mcp-header is a name, not an annotation.
        'x-mcp-header': { type: 'string' },
        plain: { type: 'string', default: { 'x-mcp-header': 'data, not a keyword' } },
      },
    });
    expect(h).toEqual({
      ok: true,
      params: [
        { name: 'Region', path: ['region'] },
        { name: 'N', path: ['n'] },
        { name: 'Opt', path: ['opt'] },
        { name: 'Zone', path: ['where', 'zone'] },
      ],
    });
  });

  it.each([
    ['empty', { v: { type: 'string', 'x-mcp-header': '' } }],
    ['space', { v: { type: 'string', 'x-mcp-header': 'My Region' } }],
    ['colon', { v: { type: 'string', 'x-mcp-header': 'Region:Primary' } }],
    ['non-ASCII', { v: { type: 'string', 'x-mcp-header': 'Région' } }],
    ['control character', { v: { type: 'string', 'x-mcp-header': 'Region\t1' } }],
    ['number type', { v: { type: 'number', 'x-mcp-header': 'Score' } }],
    ['object type', { v: { type: 'object', 'x-mcp-header': 'Data' } }],
    ['array type', { v: { type: 'array', items: { type: 'string' }, 'x-mcp-header': 'Items' } }],
    ['null type', { v: { type: 'null', 'x-mcp-header': 'Nil' } }],
    ['no type', { v: { enum: ['a'], 'x-mcp-header': 'E' } }],
    ['duplicate', { a: { type: 'string', 'x-mcp-header': 'Region' }, b: { type: 'string', 'x-mcp-header': 'Region' } }],
    ['duplicate in another case', { a: { type: 'string', 'x-mcp-header': 'MyField' }, b: { type: 'string', 'x-mcp-header': 'myfield' } }],
    ['inside items', { list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Item' } } }],
    ['inside anyOf', { v: { anyOf: [{ type: 'string', 'x-mcp-header': 'V' }] } }],
  ])('refuses %s', (_what, properties) => {
    expect(toolHeaders({ type: 'object', properties }).ok).toBe(false);
  });

  it('refuses annotations behind $ref, $defs and conditionals', () => {
    expect(toolHeaders({ type: 'object', $defs: { r: { type: 'string', 'x-mcp-header': 'R' } }, properties: { r: { $ref: '#/$defs/r' } } }).ok).toBe(false);
    expect(toolHeaders({ type: 'object', if: { properties: { a: { type: 'string', 'x-mcp-header': 'A' } } } }).ok).toBe(false);
    expect(toolHeaders({ type: 'object', 'x-mcp-header': 'Root' }).ok).toBe(false);
  });

  it('encodes values per the spec', () => {
    expect(encodeHeaderValue('us-west1')).toBe('us-west1');
    expect(encodeHeaderValue('us west 1')).toBe('us west 1');
    expect(encodeHeaderValue('Hello, 世界')).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(encodeHeaderValue(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(encodeHeaderValue('line1\nline2')).toBe('=?base64?bGluZTEKbGluZTI=?=');
    expect(encodeHeaderValue('=?base64?literal?=')).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
    expect(encodeHeaderValue('\tindented')).toBe(`=?base64?${Buffer.from('\tindented').toString('base64')}?=`);
    expect(encodeHeaderValue('')).toBe('');
    for (const v of ['Hello, 世界', ' x', 'a\r\nb', '=?base64?x?=']) expect(decodeHeaderValue(encodeHeaderValue(v))).toBe(v);
  });

  it('mirrors values by path, omitting null and absent ones', () => {
    const params = [
      { name: 'Region', path: ['region'] },
      { name: 'Priority', path: ['priority'] },
      { name: 'Verbose', path: ['verbose'] },
      { name: 'Zone', path: ['where', 'zone'] },
      { name: 'Missing', path: ['missing'] },
    ];
    expect(paramHeaders(params, { region: 'us-west1', priority: 42, verbose: null, where: { zone: 'ü' } })).toEqual({
      'Mcp-Param-Region': 'us-west1',
      'Mcp-Param-Priority': '42',
      'Mcp-Param-Zone': '=?base64?w7w=?=',
    });
    expect(paramHeaders([{ name: 'Debug', path: ['debug'] }], { debug: false })).toEqual({ 'Mcp-Param-Debug': 'false' });
  });
});

describe('SSE reading', () => {
  it('ignores comment lines, joins data lines, keeps retry, handles CRLF split across chunks', () => {
    const events: SseEvent[] = [];
    const p = new SseParser((e) => events.push(e));
    p.push(': keep-alive\r');
    p.push('\n\r\nretry: 1500\nid: 7\n\nevent: message\ndata: {"a":');
    p.push('1}\r\ndata: x\r');
    p.push('\n\r');
    p.push('\ndata: last\n');
    p.end();
    // eventsource-parser scopes an `id:` to its own event (a data-less event carries it nowhere);
    // the bridge never uses event ids, only data, event type and retry.
    expect(events).toEqual([{ event: 'message', data: '{"a":1}\nx' }]);
    expect(p.retryMs).toBe(1500);
  });
});

// ---------- against a modern server ----------

describe('runBridge: a legacy client in front of a 2026-07-28 server', () => {
  let srv: ModernServerHandle;
  beforeAll(async () => {
    srv = await startModernServer(auth);
  });
  afterAll(async () => {
    await srv.close();
  });
  beforeEach(() => {
    forgetEras();
  });

  it('answers initialize from server/discover, carries the client in _meta and headers, lists and calls tools', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    const from = srv.mcp.requests.length;
    try {
      const init = await c.initialize();
      expect(init.result).toMatchObject({ protocolVersion: '2025-06-18', serverInfo: { name: 'rig-modern' }, capabilities: { tools: { listChanged: true } }, instructions: expect.any(String) });
      const list = await c.request('tools/list');
      const names = (list.result?.tools as { name: string }[]).map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['echo', 'route', 'ask']));
      expect(names).not.toContain('bad-header'); // invalid x-mcp-header: left out
      expect(names).not.toContain('nested-bad');
      expect(list.result?.resultType).toBeUndefined();
      expect(c.logs.join('\n')).toMatch(/left out tool 'bad-header'.*not an HTTP header token/);
      expect(firstText(await c.callTool('echo', { text: 'héllo ✓' }))).toBe('héllo ✓');
      const who = JSON.parse(firstText(await c.callTool('whoami')) ?? '{}') as Record<string, unknown>;
      expect(who).toMatchObject({ sub: 'alice', clientInfo: { name: 'legacy-desktop', version: '9.9.9' }, clientCapabilities: { elicitation: {}, sampling: {}, roots: {} } });
      // Answered by the bridge: 2026-07-28 removed ping.
      expect((await c.request('ping')).result).toEqual({});
      const prompt = await c.request('prompts/get', { name: 'greet', arguments: { who: 'Ada' } });
      expect(prompt.result?.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, Ada!' } }]);
      const read = await c.request('resources/read', { uri: 'memo://note' });
      expect(read.result?.contents).toEqual([{ uri: 'memo://note', mimeType: 'text/plain', text: 'contents of memo://note' }]);
    } finally {
      await c.close();
    }
    const mine = srv.mcp.requests.slice(from);
    expect(mine.map((r) => r.rpcMethod)).not.toContain('initialize');
    expect(mine.every((r) => r.httpMethod === 'POST' && r.headers['mcp-protocol-version'] === '2026-07-28' && r.headers.authorization === 'Bearer good-token-1')).toBe(true);
    const call = mine.find((r) => r.rpcMethod === 'tools/call')!;
    expect(call.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect((call.body as { params: { _meta: Record<string, unknown> } }).params._meta).toMatchObject({
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'legacy-desktop', version: '9.9.9' },
    });
    expect(mine.find((r) => r.rpcMethod === 'resources/read')?.headers['mcp-name']).toBe('memo://note');
    expect(mine.every((r) => r.status < 400)).toBe(true);
  });

  it('mirrors x-mcp-header parameters (encoded), also when the client calls without listing first', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      const r = await c.callTool('route', { region: 'Zürich 1', count: 3, loud: null, where: { zone: ' b ' }, note: 'not mirrored' });
      expect(r.error).toBeUndefined();
      expect(JSON.parse(firstText(r) ?? '{}')).toEqual({ region: encodeHeaderValue('Zürich 1'), count: '3', zone: encodeHeaderValue(' b ') });
      const refused = await c.callTool('bad-header', { v: 'x' });
      expect(refused.error?.code).toBe(-32602);
      expect(refused.error?.message).toContain("Tool 'bad-header' was refused");
    } finally {
      await c.close();
    }
    const call = srv.mcp.requests.filter((x) => x.rpcMethod === 'tools/call').at(-1);
    expect(call?.headers).not.toHaveProperty('mcp-param-note');
    expect(srv.mcp.requests.filter((x) => x.rpcMethod === 'tools/call' && (x.body as { params: { name: string } }).params.name === 'bad-header')).toEqual([]);
  });

  it('maps an elicitation (MRTR input request) onto a legacy request to the client and back', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      const call = c.callTool('ask', { question: 'Your name?' });
      const ask = await c.next((m) => m.method === 'elicitation/create', 8000, 'the elicitation request');
      expect(ask.params).toMatchObject({ message: 'Your name?', requestedSchema: { required: ['answer'] } });
      c.send({ jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { answer: 'Ada' } } });
      const r = await call;
      expect(JSON.parse(firstText(r) ?? '{}')).toEqual({ action: 'accept', content: { answer: 'Ada' } });
    } finally {
      await c.close();
    }
    // The retry carried the server's state back untouched, under a new JSON-RPC id.
    const calls = srv.mcp.requests.filter((x) => x.rpcMethod === 'tools/call' && (x.body as { params: { name: string } }).params.name === 'ask');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.id).not.toEqual(calls[1]!.id);
    expect(srv.mcp.statesReceived.at(-1)).toBe(srv.mcp.statesIssued.at(-1));
    expect((calls[1]!.body as { params: Record<string, unknown> }).params).toMatchObject({ inputResponses: { answer: { action: 'accept', content: { answer: 'Ada' } } }, requestState: srv.mcp.statesIssued.at(-1) });
  });

  it('maps sampling and roots asked in one round; a client error refuses the call', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      const call = c.callTool('plan');
      const sampling = await c.next((m) => m.method === 'sampling/createMessage', 8000, 'the sampling request');
      const roots = await c.next((m) => m.method === 'roots/list', 8000, 'the roots request');
      c.send({ jsonrpc: '2.0', id: roots.id, result: { roots: [{ uri: 'file:///work', name: 'work' }] } });
      c.send({ jsonrpc: '2.0', id: sampling.id, result: { role: 'assistant', content: { type: 'text', text: 'Plan A' }, model: 'm' } });
      expect(firstText(await call)).toBe('Plan A in file:///work');

      const again = c.callTool('ask', { question: 'Again?' });
      const ask = await c.next((m) => m.method === 'elicitation/create');
      c.send({ jsonrpc: '2.0', id: ask.id, error: { code: -32603, message: 'no UI' } });
      expect((await again).error?.message).toContain('The client refused elicitation/create: no UI');
    } finally {
      await c.close();
    }
  });

  it('a client without the elicitation capability gets the server\'s refusal, not a dialog', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize({});
      const r = await c.callTool('ask', { question: 'Name?' });
      expect(r.error?.code).toBe(-32021);
      expect(c.seen((m) => m.method === 'elicitation/create')).toBe(false);
    } finally {
      await c.close();
    }
  });

  it('passes progress from the response stream and lets it keep a long request alive', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), requestTimeoutMs: 400 });
    try {
      await c.initialize();
      const r = await c.callTool('slow', { steps: 6, ms: 150 }, { _meta: { progressToken: 'p1' } });
      expect(firstText(r)).toBe('done after 6');
      const progress: number[] = [];
      for (let i = 0; i < 6; i++) progress.push((await c.next((m) => m.method === 'notifications/progress')).params?.progress as number);
      expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await c.close();
    }
  });

  it('cancellation from the client closes the stream at the server; a timeout does too', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), requestTimeoutMs: 600 });
    try {
      await c.initialize();
      const before = srv.mcp.cancelled.length;
      c.send({ jsonrpc: '2.0', id: 'long', method: 'tools/call', params: { name: 'slow', arguments: { steps: 50, ms: 100 }, _meta: { progressToken: 'c1' } } });
      await c.next((m) => m.method === 'notifications/progress' && m.params?.progressToken === 'c1');
      c.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'long', reason: 'user stopped it' } });
      await until(() => srv.mcp.cancelled.length > before, 5000, 'the server to see the cancellation');
      // No answer for a cancelled request; the bridge carries on.
      expect(firstText(await c.callTool('echo', { text: 'after' }))).toBe('after');
      expect(c.seen((m) => m.id === 'long')).toBe(false);

      const t = await c.callTool('slow', { steps: 50, ms: 200 });
      expect(t.error?.code).toBe(-32000);
      expect(t.error?.message).toMatch(/No answer from .* within 0\.6 s/);
      await until(() => srv.mcp.cancelled.length > before + 1, 5000, 'the server to see the timed-out request go');
    } finally {
      await c.close();
    }
  });

  it('cancelling while the client is being asked withdraws the question', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      c.send({ jsonrpc: '2.0', id: 'q', method: 'tools/call', params: { name: 'ask', arguments: { question: 'Still there?' } } });
      const ask = await c.next((m) => m.method === 'elicitation/create');
      c.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'q' } });
      const withdrawn = await c.next((m) => m.method === 'notifications/cancelled');
      expect(withdrawn.params?.requestId).toBe(ask.id);
      expect(firstText(await c.callTool('echo', { text: 'ok' }))).toBe('ok');
    } finally {
      await c.close();
    }
  });

  it('re-issues a request whose response stream broke (comment lines and retry: honoured)', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('flaky'))).toBe('steady now');
      expect(c.logs.join('\n')).toMatch(/broke before its answer; re-issuing it in 50 ms/);
    } finally {
      await c.close();
    }
    const flaky = srv.mcp.requests.filter((x) => x.rpcMethod === 'tools/call' && (x.body as { params: { name: string } }).params.name === 'flaky');
    expect(flaky.length).toBe(2);
    expect(flaky[0]!.id).not.toEqual(flaky[1]!.id);
  });

  it('resource subscriptions and list changes arrive through subscriptions/listen', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      expect((await c.request('resources/subscribe', { uri: 'memo://note' })).result).toEqual({});
      await until(
        () => srv.mcp.requests.some((r) => r.rpcMethod === 'subscriptions/listen' && JSON.stringify(r.body).includes('memo://note')) && srv.mcp.listening > 0,
        5000,
        'a listen stream with the subscription',
      );
      await new Promise((r) => setTimeout(r, 100)); // the acknowledgement comes first
      srv.mcp.emit('resourceUpdated', 'memo://note');
      srv.mcp.emit('toolsListChanged', 'notifications/tools/list_changed');
      expect((await c.next((m) => m.method === 'notifications/resources/updated')).params?.uri).toBe('memo://note');
      await c.next((m) => m.method === 'notifications/tools/list_changed');
      expect(c.seen((m) => m.method === 'notifications/subscriptions/acknowledged')).toBe(false);
      expect((await c.request('logging/setLevel', { level: 'debug' })).result).toEqual({});
      await c.callTool('echo', { text: 'x' });
    } finally {
      await c.close();
    }
    const last = srv.mcp.requests.filter((r) => r.rpcMethod === 'tools/call').at(-1);
    expect((last?.body as { params: { _meta: Record<string, unknown> } }).params._meta['io.modelcontextprotocol/logLevel']).toBe('debug');
    await until(() => srv.mcp.listening === 0, 5000, 'the listen stream to close with the bridge');
  });

  it('carries a large result intact', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('big', { bytes: 5_000_000 }, {}, 20_000))?.length).toBe(5_000_000);
    } finally {
      await c.close();
    }
  });

  it('a stdio client that speaks 2026-07-28 itself is passed through (with the HTTP headers added)', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'modern-cli', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    try {
      const d = await c.request('server/discover', { _meta: meta });
      expect(d.result).toMatchObject({ resultType: 'complete', supportedVersions: ['2026-07-28'] });
      const list = await c.request('tools/list', { _meta: meta });
      expect((list.result?.tools as { name: string }[]).map((t) => t.name)).not.toContain('bad-header');
      const r = await c.request('tools/call', { name: 'route', arguments: { region: 'ap-1' }, _meta: meta });
      expect(r.result).toMatchObject({ resultType: 'complete' });
      expect(JSON.parse(firstText(r) ?? '{}')).toEqual({ region: 'ap-1' });
      // MRTR is the client's own business here: the interim result reaches it as it is.
      const ask = await c.request('tools/call', { name: 'ask', arguments: { question: '?' }, _meta: { ...meta, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } });
      expect(ask.result).toMatchObject({ resultType: 'input_required', inputRequests: { answer: { method: 'elicitation/create' } } });
    } finally {
      await c.close();
    }
  });

  it('authorization is unchanged: a 401 refreshes once through the broker and retries', async () => {
    const tokens = new FakeTokens('stale-token-0', 'fresh-token-2');
    const c = new StdioClient({ serverUrl: srv.url, tokens });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('echo', { text: 'fresh' }))).toBe('fresh');
      expect(tokens.rejected).toEqual(['stale-token-0']);
    } finally {
      await c.close();
    }
    expect(c.logs.join('\n')).not.toContain('fresh-token-2');
  });
});

describe('a server that asks for no authorization (NO_AUTH)', () => {
  it('gets no Authorization header; a 401 later becomes a "link it" message', async () => {
    const seen: Array<string | null> = [];
    let status = 200;
    const fake = (async (_url: string | URL | Request, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response('{}', { status });
    }) as typeof fetch;
    const f = authorizingFetch({ serverUrl: 'https://open.example.com/mcp', displayName: 'Open', tokens: NO_AUTH, fetchImpl: fake });
    expect((await f('https://open.example.com/mcp', { method: 'POST', body: '{}', headers: { authorization: 'Bearer stray' } })).status).toBe(200);
    status = 401;
    const err = await f('https://open.example.com/mcp', { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeAuthError);
    expect((err as Error).message).toBe("'Open' now asks for authorization: link it in MCP Token Manager or run `mcp-tokens link https://open.example.com/mcp`.");
    expect(seen).toEqual([null, null]);
  });
});

describe('runBridge: version negotiation and era choice', () => {
  const servers: ModernServerHandle[] = [];
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(closers.map((f) => f()));
  });
  beforeEach(() => {
    forgetEras();
  });

  it('-32022 on the first request: retried with a version the server lists', async () => {
    const srv = await startModernServer({ ...auth, rejectFirst: 1 });
    servers.push(srv);
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      expect((await c.initialize()).result?.serverInfo).toMatchObject({ name: 'rig-modern' });
      await c.request('tools/list');
      await until(() => srv.mcp.listening > 0, 5000, 'the listen stream');
      // And mid-session: the call itself is refused once, then retried under a new id.
      srv.mcp.rejectNext(1);
      expect(firstText(await c.callTool('echo', { text: 'twice' }))).toBe('twice');
      expect(c.logs.join('\n')).toMatch(/refused MCP 2026-07-28 for tools\/call \(-32022\); retrying with 2026-07-28/);
    } finally {
      await c.close();
    }
    const discovers = srv.mcp.requests.filter((r) => r.rpcMethod === 'server/discover');
    expect(discovers.map((r) => r.status)).toEqual([400, 200]);
    const calls = srv.mcp.requests.filter((r) => r.rpcMethod === 'tools/call');
    expect(calls.map((r) => r.status)).toEqual([400, 200]);
    expect(calls[0]!.id).not.toEqual(calls[1]!.id);
  });

  it('a server of neither era gets one clear error, at initialize and after', async () => {
    const srv = await startModernServer({ ...auth, supportedVersions: ['2099-01-01'] });
    servers.push(srv);
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      const r = await c.initialize();
      expect(r.error?.code).toBe(-32000);
      expect(r.error?.message).toBe(`${srv.origin} does not accept MCP 2026-07-28 and supports 2099-01-01; this bridge speaks 2026-07-28 and the legacy revisions up to 2025-11-25`);
    } finally {
      await c.close();
    }

    // Nothing MCP at all: 400 pages for every POST and GET.
    const plain = http.createServer((_req, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('no such thing'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => plain.close(() => resolve())));
    const base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    const d = new StdioClient({ serverUrl: `${base}/mcp`, tokens: new FakeTokens('good-token-1') });
    try {
      const r = await d.initialize();
      expect(r.error?.code).toBe(-32000);
      expect(r.error?.message).toMatch(/speaks neither MCP 2026-07-28 \(server\/discover answered HTTP 400\) nor a legacy MCP revision \(initialize answered HTTP 400/);
    } finally {
      await d.close();
    }
  });

  it('a remembered era that no longer holds is probed again', async () => {
    const srv = await startModernServer(auth);
    servers.push(srv);
    const dataDir = await mkdtemp(join(tmpdir(), 'bridge-era-'));
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    await writeFile(join(dataDir, 'bridge-eras.json'), JSON.stringify({ version: 1, servers: { [srv.url]: { era: 'streamable', checkedAt: '2026-01-01T00:00:00Z' } } }));
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), dataDir });
    try {
      expect((await c.initialize()).result?.serverInfo).toMatchObject({ name: 'rig-modern' });
      expect(firstText(await c.callTool('echo', { text: 'modern now' }))).toBe('modern now');
      expect(c.logs.join('\n')).toContain('no longer answers as remembered');
    } finally {
      await c.close();
    }
    const saved = JSON.parse(await readFile(join(dataDir, 'bridge-eras.json'), 'utf8')) as { servers: Record<string, { era: string }> };
    expect(saved.servers[srv.url]?.era).toBe('modern');
  });

  it('a legacy server answers a modern stdio client\'s server/discover as a legacy server would', async () => {
    // A legacy Streamable HTTP endpoint: everything without a session is a 400 "no session".
    const legacy = http.createServer((_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: no session' } })));
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => legacy.close(() => resolve())));
    const url = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}/mcp`;
    const c = new StdioClient({ serverUrl: url, tokens: new FakeTokens('good-token-1') });
    try {
      const d = await c.request('server/discover', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } });
      expect(d.error?.code).toBe(-32601);
    } finally {
      await c.close();
    }
  });

  it('remembers the era per server URL, in a file under the data dir when given one', async () => {
    const srv = await startModernServer(auth);
    servers.push(srv);
    const dataDir = await mkdtemp(join(tmpdir(), 'bridge-era-'));
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), dataDir });
    try {
      await c.initialize();
    } finally {
      await c.close();
    }
    const saved = JSON.parse(await readFile(join(dataDir, 'bridge-eras.json'), 'utf8')) as { servers: Record<string, { era: string }> };
    expect(saved.servers[srv.url]?.era).toBe('modern');
  });
});
