// The bridge against real in-process MCP servers (Streamable HTTP and legacy HTTP+SSE) that check
// bearer tokens; the broker is replaced by a fake TokenSource (the broker has its own tests).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizingFetch, runBridge, StepUpBudget, type BridgeOptions } from '../../src-main/bridge/bridge.js';
import { LineSplitter, parseLine } from '../../src-main/bridge/stdio.js';
import { BridgeAuthError, type TokenSource } from '../../src-main/bridge/token-source.js';

// ---------- a fake token owner ----------

class FakeTokens implements TokenSource {
  getTokenCalls = 0;
  rejected: string[] = [];
  stepUps: string[][] = [];
  /** When set, every call fails as a dead grant with this message. */
  dead: string | undefined;
  constructor(
    public current: string,
    private readonly next: { refreshed?: string; stepped?: string } = {},
  ) {}
  async getToken(): Promise<string> {
    this.getTokenCalls++;
    if (this.dead) throw new BridgeAuthError(this.dead);
    return this.current;
  }
  async reportRejected(token: string): Promise<string> {
    this.rejected.push(token);
    if (this.dead) throw new BridgeAuthError(this.dead);
    if (token === this.current && this.next.refreshed) this.current = this.next.refreshed;
    return this.current;
  }
  async stepUp(scopes: string[]): Promise<string> {
    this.stepUps.push(scopes);
    if (!this.next.stepped) throw new BridgeAuthError('The person declined.');
    this.current = this.next.stepped;
    return this.current;
  }
}

// ---------- real MCP servers ----------

interface ServerState {
  /** Valid tokens and their scopes. */
  tokens: Map<string, string[]>;
  initializes: number;
  deletes: number;
  started: string[];
  cancelled: string[];
}

interface TestServer {
  url: string;
  state: ServerState;
  /** The server forgets every session (as after a restart). */
  dropSessions(): Promise<void>;
  close(): Promise<void>;
}

function newState(): ServerState {
  return {
    tokens: new Map([
      ['good-token-1', ['a']],
      ['fresh-token-2', ['a']],
      ['scoped-token-ab', ['a', 'b']],
    ]),
    initializes: 0,
    deletes: 0,
    started: [],
    cancelled: [],
  };
}

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

function makeMcp(state: ServerState): McpServer {
  const mcp = new McpServer({ name: 'test-server', version: '1.0.0' });
  mcp.registerTool('echo', { description: 'says hello' }, async () => text('hello'));
  mcp.registerTool('needs-b', { description: 'needs scope b' }, async () => text('b ok'));
  mcp.registerTool('ask', { description: 'asks the person' }, async (extra) => {
    const r = await extra.sendRequest(
      { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
      ElicitResultSchema,
    );
    return text(`hello ${String(r.content?.name)}`);
  });
  mcp.registerTool('slow', { description: 'never answers in time' }, async (extra) => {
    state.started.push('slow');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(t);
        state.cancelled.push('slow');
        resolve();
      });
    });
    return text('slow done');
  });
  mcp.registerTool('ticker', { description: 'slow but keeps reporting progress' }, async (extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 6 } });
    }
    return text('ticked');
  });
  return mcp;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** 401/403 like a resource server; returns the parsed body, or undefined when it answered. */
async function guard(state: ServerState, req: http.IncomingMessage, res: http.ServerResponse): Promise<{ body: unknown } | undefined> {
  const auth = req.headers.authorization ?? '';
  const scopes = auth.startsWith('Bearer ') ? state.tokens.get(auth.slice(7)) : undefined;
  if (!scopes) {
    reply(res, 401, '{"error":"invalid_token"}', { 'www-authenticate': 'Bearer error="invalid_token"' });
    return undefined;
  }
  const body: unknown = req.method === 'POST' ? JSON.parse(await readBody(req)) : undefined;
  const msg = body as { method?: string; params?: { name?: string } } | undefined;
  if (msg?.method === 'tools/call' && msg.params?.name === 'needs-b' && !scopes.includes('b')) {
    reply(res, 403, '{"error":"insufficient_scope"}', { 'www-authenticate': 'Bearer error="insufficient_scope", scope="a b"' });
    return undefined;
  }
  return { body };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function startStreamableServer(): Promise<TestServer> {
  const state = newState();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!req.url?.startsWith('/mcp')) return reply(res, 404, '{}');
    const ok = await guard(state, req, res);
    if (!ok) return;
    const sid = req.headers['mcp-session-id'];
    let transport: StreamableHTTPServerTransport | undefined;
    if (typeof sid === 'string') {
      transport = sessions.get(sid);
      if (!transport) return reply(res, 404, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      if (req.method === 'DELETE') state.deletes++;
    } else if (req.method === 'POST' && (ok.body as { method?: string }).method === 'initialize') {
      state.initializes++;
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, t);
        },
      });
      t.onclose = () => {
        if (t.sessionId) sessions.delete(t.sessionId);
      };
      await makeMcp(state).connect(t);
      transport = t;
    } else {
      return reply(res, 400, '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: no session"},"id":null}');
    }
    await transport.handleRequest(req, res, ok.body);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, JSON.stringify({ error: String(err) }));
    });
  });
  const base = await listen(server);
  return {
    url: `${base}/mcp`,
    state,
    async dropSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((t) => t.close()));
    },
    close: async () => {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      await closeServer(server);
    },
  };
}

async function startSseServer(): Promise<TestServer> {
  const state = newState();
  const sessions = new Map<string, SSEServerTransport>();
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/sse' && req.method === 'POST') return reply(res, 405, '{}', { allow: 'GET' });
    const ok = await guard(state, req, res);
    if (!ok) return;
    if (url.pathname === '/sse' && req.method === 'GET') {
      const t = new SSEServerTransport('/messages', res);
      sessions.set(t.sessionId, t);
      t.onclose = () => sessions.delete(t.sessionId);
      await makeMcp(state).connect(t);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const t = sessions.get(url.searchParams.get('sessionId') ?? '');
      if (!t) return reply(res, 404, 'unknown session');
      if ((ok.body as { method?: string }).method === 'initialize') state.initializes++;
      await t.handlePostMessage(req, res, ok.body);
      return;
    }
    reply(res, 404, '{}');
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, JSON.stringify({ error: String(err) }));
    });
  });
  const base = await listen(server);
  return {
    url: `${base}/sse`,
    state,
    async dropSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((t) => t.close()));
    },
    close: async () => {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      await closeServer(server);
    },
  };
}

// ---------- a stdio client driving the bridge with raw JSON-RPC lines ----------

type Msg = { jsonrpc: '2.0'; id?: string | number | null; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string } };

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

class StdioClient {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  readonly logs: string[] = [];
  readonly lines: string[] = [];
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
        this.lines.push(line);
        this.deliver(JSON.parse(line) as Msg); // stdout must carry only JSON-RPC lines
      }
    });
    this.done = runBridge({ displayName: 'Test Server', input: this.input, output: this.output, log: (level, msg) => this.logs.push(`${level}: ${msg}`), ...o });
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

  send(m: object) {
    this.input.write(`${JSON.stringify(m)}\n`);
  }

  sendRaw(s: string) {
    this.input.write(s);
  }

  async request(method: string, params?: Record<string, unknown>, ms?: number): Promise<Msg> {
    const id = ++this.nextId;
    this.send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    return this.next((m) => m.id === id && m.method === undefined, ms, `the answer to ${method}`);
  }

  async initialize(): Promise<Msg> {
    const r = await this.request('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: { elicitation: {} }, clientInfo: { name: 'bridge-test', version: '1.0.0' } });
    if (r.result) this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  callTool(name: string, extra: Record<string, unknown> = {}, ms?: number) {
    return this.request('tools/call', { name, arguments: {}, ...extra }, ms);
  }

  async close() {
    this.input.end();
    await bounded(this.done, 15_000, 'runBridge to resolve after stdin ended');
  }
}

function firstText(m: Msg): string | undefined {
  const content = m.result?.content as { text?: string }[] | undefined;
  return content?.[0]?.text;
}

// ---------- tests ----------

describe('authorizingFetch', () => {
  const calls: { url: string; auth: string | null; body: string | null }[] = [];
  const statusQueue: Response[] = [];
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const body = init?.body === undefined || init.body === null ? null : typeof init.body === 'string' ? init.body : Buffer.from(init.body as Uint8Array).toString('utf8');
    calls.push({ url: String(url), auth: headers.get('authorization'), body });
    return statusQueue.shift() ?? new Response('ok', { status: 200 });
  }) as typeof fetch;
  const reset = () => {
    calls.length = 0;
    statusQueue.length = 0;
  };

  it('adds the token for the server origin only', async () => {
    reset();
    const tokens = new FakeTokens('tok-one-1234');
    const f = authorizingFetch({ serverUrl: 'https://mcp.example.com/mcp', displayName: 'Ex', tokens, fetchImpl: fakeFetch });
    await f('https://mcp.example.com/other/path?x=1', { method: 'POST', body: '{}' });
    await f(new URL('https://evil.example.net/collect'), { method: 'POST', body: '{}', headers: { Authorization: 'Bearer leaked' } });
    await f('https://mcp.example.com:8443/mcp', { method: 'GET' });
    expect(calls.map((c) => c.auth)).toEqual(['Bearer tok-one-1234', null, null]);
    expect(tokens.getTokenCalls).toBe(1);
  });

  it('on 401 reports the token once and retries with the new one, resending the body', async () => {
    reset();
    const tokens = new FakeTokens('old-token-1', { refreshed: 'new-token-2' });
    const f = authorizingFetch({ serverUrl: 'https://mcp.example.com/mcp', displayName: 'Ex', tokens, fetchImpl: fakeFetch });
    statusQueue.push(new Response('no', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }));
    const stream = new Response('{"jsonrpc":"2.0"}').body!; // a body that can be read only once
    const res = await f('https://mcp.example.com/mcp', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect(tokens.rejected).toEqual(['old-token-1']);
    expect(calls.map((c) => [c.auth, c.body])).toEqual([
      ['Bearer old-token-1', '{"jsonrpc":"2.0"}'],
      ['Bearer new-token-2', '{"jsonrpc":"2.0"}'],
    ]);

    // A second 401 in a row is a dead grant.
    reset();
    statusQueue.push(new Response('no', { status: 401 }), new Response('no', { status: 401 }));
    const err = await f('https://mcp.example.com/mcp', { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeAuthError);
    expect((err as Error).message).toContain("Sign-in for 'Ex' has expired or was revoked");
    expect((err as Error).message).not.toContain('token-');
  });

  it('steps up on 403 insufficient_scope, at most twice per scope set', async () => {
    reset();
    const tokens = new FakeTokens('tok-a-000000', { stepped: 'tok-ab-00000' });
    const stepUps = new StepUpBudget(2);
    const f = authorizingFetch({ serverUrl: 'https://mcp.example.com/mcp', displayName: 'Ex', tokens, fetchImpl: fakeFetch, stepUps });
    const forbidden = () => new Response('no', { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="a b"' } });
    statusQueue.push(forbidden());
    expect((await f('https://mcp.example.com/mcp', { method: 'POST', body: 'x' })).status).toBe(200);
    expect(tokens.stepUps).toEqual([['a', 'b']]);
    expect(calls.map((c) => c.auth)).toEqual(['Bearer tok-a-000000', 'Bearer tok-ab-00000']);

    statusQueue.push(forbidden());
    expect((await f('https://mcp.example.com/mcp', { method: 'POST', body: 'x' })).status).toBe(200);
    statusQueue.push(forbidden());
    const err = await f('https://mcp.example.com/mcp', { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeAuthError);
    expect((err as Error).message).toContain('scope: a b');
    expect(tokens.stepUps).toHaveLength(2);

    // A plain 403 is the server's business: passed on as is.
    statusQueue.push(new Response('no', { status: 403 }));
    expect((await f('https://mcp.example.com/mcp', { method: 'POST', body: 'x' })).status).toBe(403);
  });
});

describe('stdio framing', () => {
  it('splits lines across chunks, tolerates CRLF, reports over-long lines once', () => {
    const lines: string[] = [];
    let tooLong = 0;
    const s = new LineSplitter(
      16,
      (l) => lines.push(l),
      () => tooLong++,
    );
    s.push('{"a"');
    s.push(Buffer.from(':1}\r\n\n'));
    s.push('x'.repeat(10));
    s.push('y'.repeat(10));
    s.push('zzz\nok\n');
    s.push('tail');
    s.end();
    expect(lines).toEqual(['{"a":1}\r', '', 'ok', 'tail']);
    expect(tooLong).toBe(1);
  });

  it('classifies bad lines', () => {
    expect(parseLine('   \r')).toEqual([]);
    expect(parseLine('nope')[0]).toMatchObject({ reply: { id: null, error: { code: -32700 } } });
    expect(parseLine('{"jsonrpc":"2.0","id":7,"bogus":true}')[0]).toMatchObject({ reply: { id: 7, error: { code: -32600 } } });
    expect(parseLine('{"jsonrpc":"2.0","id":{"x":1},"method":"m"}')[0]).toMatchObject({ reply: { id: null, error: { code: -32600 } } });
    expect(parseLine('{"jsonrpc":"2.0","id":"1","method":"ping"}\r')[0]).toEqual({ message: { jsonrpc: '2.0', id: '1', method: 'ping' } });
  });
});

describe('runBridge over Streamable HTTP', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startStreamableServer();
  });
  afterAll(async () => {
    await srv.close();
  });

  it('initializes, lists and calls tools; stdout carries only JSON-RPC', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      const init = await c.initialize();
      expect(init.result?.serverInfo).toMatchObject({ name: 'test-server' });
      const list = await c.request('tools/list');
      expect((list.result?.tools as { name: string }[]).map((t) => t.name)).toContain('echo');
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      expect(c.logs.join('\n')).toContain('Streamable HTTP');
    } finally {
      await c.close();
    }
    for (const line of c.lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(srv.state.deletes).toBeGreaterThanOrEqual(1); // the session was ended on stdin EOF
  });

  it('refreshes an expired token once and carries on; never logs tokens', async () => {
    const tokens = new FakeTokens('old-expired-token', { refreshed: 'fresh-token-2' });
    const c = new StdioClient({ serverUrl: srv.url, tokens });
    try {
      expect((await c.initialize()).result).toBeDefined();
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      expect(tokens.rejected).toEqual(['old-expired-token']);
      expect(c.logs.some((l) => l.includes('401'))).toBe(true);
    } finally {
      await c.close();
    }
    const all = c.logs.join('\n') + c.lines.join('\n');
    expect(all).not.toContain('old-expired-token');
    expect(all).not.toContain('fresh-token-2');
  });

  it('asks for more scope on 403 insufficient_scope and retries', async () => {
    const tokens = new FakeTokens('good-token-1', { stepped: 'scoped-token-ab' });
    const c = new StdioClient({ serverUrl: srv.url, tokens });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('needs-b'))).toBe('b ok');
      expect(tokens.stepUps).toEqual([['a', 'b']]);
    } finally {
      await c.close();
    }
  });

  it('answers bad input with JSON-RPC errors and keeps going', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), maxLineBytes: 256 });
    try {
      c.sendRaw('this is not json\n');
      expect(await c.next((m) => m.error?.code === -32700)).toMatchObject({ id: null });
      c.sendRaw('{"jsonrpc":"2.0","id":41,"what":1}\n');
      expect(await c.next((m) => m.error?.code === -32600)).toMatchObject({ id: 41 });
      c.sendRaw(`{"jsonrpc":"2.0","id":42,"method":"ping","params":{"pad":"${'x'.repeat(400)}"}}\n`);
      expect(await c.next((m) => m.error?.code === -32700)).toMatchObject({ id: null });
      c.sendRaw('\n\r\n   \n');
      await c.initialize();
      c.sendRaw('{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n');
      expect(await c.next((m) => m.id === 'crlf')).toMatchObject({ result: {} });
    } finally {
      await c.close();
    }
  });

  it('re-initializes transparently when the server forgets the session', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      const before = srv.state.initializes;
      await srv.dropSessions();
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      expect(srv.state.initializes).toBe(before + 1);
      expect(c.logs.join('\n')).toContain('re-initialized');
    } finally {
      await c.close();
    }
  });

  it('passes an elicitation from the server to the client and the answer back', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      const call = c.callTool('ask');
      const ask = await c.next((m) => m.method === 'elicitation/create', 8000, 'the elicitation request');
      expect(ask.params?.message).toBe('Your name?');
      c.send({ jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { name: 'Ada' } } });
      expect(firstText(await call)).toBe('hello Ada');
    } finally {
      await c.close();
    }
  });

  it('answers -32001 with the broker message when the grant is dead, and recovers after re-auth', async () => {
    const tokens = new FakeTokens('good-token-1');
    const c = new StdioClient({ serverUrl: srv.url, tokens });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      tokens.dead = "Sign-in for 'Test Server' was revoked: re-authorize it in MCP Token Manager.";
      const r = await c.callTool('echo');
      expect(r.error).toEqual({ code: -32001, message: tokens.dead });
      c.sendRaw('garbage\n');
      await c.next((m) => m.error?.code === -32700);
      tokens.dead = undefined; // the person re-authorized from the tray
      expect(firstText(await c.callTool('echo'))).toBe('hello');
    } finally {
      await c.close();
    }
    // Dead from the start: the initialize itself gets the message.
    const deadTokens = new FakeTokens('good-token-1');
    deadTokens.dead = 'Re-authorize Test Server.';
    const d = new StdioClient({ serverUrl: srv.url, tokens: deadTokens });
    try {
      expect((await d.initialize()).error).toEqual({ code: -32001, message: 'Re-authorize Test Server.' });
    } finally {
      await d.close();
    }
  });

  it('times out a request with -32000 and cancels it at the server', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), requestTimeoutMs: 500 });
    try {
      await c.initialize();
      const r = await c.callTool('slow');
      expect(r.error?.code).toBe(-32000);
      expect(r.error?.message).toMatch(/^No answer from http:\/\/127\.0\.0\.1:\d+ within 0\.5 s$/);
      const deadline = Date.now() + 5000;
      while (!srv.state.cancelled.includes('slow') && Date.now() < deadline) await new Promise((r2) => setTimeout(r2, 25));
      expect(srv.state.cancelled).toContain('slow');
    } finally {
      await c.close();
    }
  });

  it('lets progress notifications keep a long request alive', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1'), requestTimeoutMs: 500 });
    try {
      await c.initialize();
      const r = await c.callTool('ticker', { _meta: { progressToken: 'p1' } });
      expect(firstText(r)).toBe('ticked');
      expect(await c.next((m) => m.method === 'notifications/progress')).toMatchObject({ params: { progressToken: 'p1' } });
    } finally {
      await c.close();
    }
  });

  it('stops quietly when the client side of stdout is gone (EPIPE)', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    await c.initialize();
    c.output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await bounded(c.done, 15_000, 'runBridge to resolve after EPIPE');
    expect(c.logs.join('\n')).toContain('EPIPE');
  });

  it('says which origin it could not reach', async () => {
    const dead = http.createServer();
    const base = await listen(dead);
    await closeServer(dead);
    const c = new StdioClient({ serverUrl: `${base}/mcp`, tokens: new FakeTokens('good-token-1') });
    try {
      const r = await c.initialize();
      expect(r.error?.code).toBe(-32000);
      expect(r.error?.message).toContain(`Could not reach ${base}`);
    } finally {
      await c.close();
    }
  });
});

describe('runBridge over legacy HTTP+SSE', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startSseServer();
  });
  afterAll(async () => {
    await srv.close();
  });

  it('falls back to HTTP+SSE when the initialize POST gets a 4xx', async () => {
    const tokens = new FakeTokens('old-expired-token', { refreshed: 'fresh-token-2' });
    const c = new StdioClient({ serverUrl: srv.url, tokens });
    try {
      expect((await c.initialize()).result?.serverInfo).toMatchObject({ name: 'test-server' });
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      expect(c.logs.join('\n')).toContain('legacy HTTP+SSE');
      expect(tokens.rejected).toEqual(['old-expired-token']);
    } finally {
      await c.close();
    }
  });

  it('reconnects on the next request after the event stream drops', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      const before = srv.state.initializes;
      await srv.dropSessions();
      // Wait until the bridge has noticed, then the next request rebuilds the session.
      const deadline = Date.now() + 5000;
      while (!c.logs.some((l) => l.includes('event stream')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(firstText(await c.callTool('echo'))).toBe('hello');
      expect(srv.state.initializes).toBe(before + 1);
    } finally {
      await c.close();
    }
  });

  it('fails requests in flight with -32000 when the event stream drops', async () => {
    const c = new StdioClient({ serverUrl: srv.url, tokens: new FakeTokens('good-token-1') });
    try {
      await c.initialize();
      const started = srv.state.started.length;
      const slow = c.callTool('slow');
      const deadline = Date.now() + 5000;
      while (srv.state.started.length === started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await srv.dropSessions();
      const r = await slow;
      expect(r.error?.code).toBe(-32000);
      expect(r.error?.message).toContain('Lost the connection');
      expect(firstText(await c.callTool('echo'))).toBe('hello');
    } finally {
      await c.close();
    }
  });
});
