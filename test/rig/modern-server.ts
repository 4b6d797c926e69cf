// A modern-only MCP server (revision 2026-07-28), written to the spec because the installed SDK
// (1.32) speaks only the initialize-handshake revisions: no sessions, per-request `_meta`, request
// metadata headers checked against the body (SEP-2243), multi round-trip requests for elicitation,
// sampling and roots (SEP-2322), request-scoped SSE for progress, subscriptions/listen for change
// notifications. Every request needs a bearer token, checked like test/rig/mcp-server.ts does.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { RigAs } from './as.js';
import { selfFetchFor } from './corp-tls.js';
import { DpopRs } from './dpop.js';
import type { TokenFacts } from './mcp-server.js';

export const MODERN = '2026-07-28';
const PV = 'io.modelcontextprotocol/protocolVersion';
const CI = 'io.modelcontextprotocol/clientInfo';
const CC = 'io.modelcontextprotocol/clientCapabilities';
const SERVER_INFO = { name: 'rig-modern', version: '2.0.0' };

export interface ModernRecord {
  at: number;
  httpMethod: string;
  rpcMethod?: string;
  id?: string | number;
  headers: Record<string, string>;
  body: unknown;
  status: number;
  authorized: boolean;
}

export interface ModernServerOptions {
  /** The token's facts, or undefined when it is not valid here. */
  validate: (token: string) => Promise<TokenFacts | undefined> | TokenFacts | undefined;
  /** WWW-Authenticate for a missing or invalid token. */
  challenge: (error?: 'invalid_token') => string;
  /** Versions this server implements; default only 2026-07-28. */
  supportedVersions?: string[];
  /** The first n requests get -32022 whatever they ask for (as the conformance suite's server does). */
  rejectFirst?: number;
  /** Takes only DPoP-bound tokens, each request with a proof this checks (RFC 9449). */
  dpop?: DpopRs;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decode(v: string): string {
  const m = /^=\?base64\?(.*)\?=$/s.exec(v);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : v;
}

class RpcError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const TOOLS: Json[] = [
  { name: 'echo', description: 'Echoes its text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
  { name: 'whoami', description: 'Who the token says you are.', inputSchema: { type: 'object', properties: {} } },
  { name: 'ask', description: 'Asks the user a question (elicitation through MRTR).', inputSchema: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'] } },
  { name: 'plan', description: 'Needs a sampling answer and the roots (two input requests in one round).', inputSchema: { type: 'object', properties: {} } },
  {
    name: 'slow',
    description: 'Reports progress `steps` times, `ms` apart, on an SSE response.',
    inputSchema: { type: 'object', properties: { steps: { type: 'integer' }, ms: { type: 'integer' } }, required: ['steps', 'ms'] },
  },
  { name: 'flaky', description: 'Its first response stream breaks before the answer.', inputSchema: { type: 'object', properties: {} } },
  { name: 'big', description: 'Returns n bytes of text.', inputSchema: { type: 'object', properties: { bytes: { type: 'integer' } }, required: ['bytes'] } },
  {
    name: 'route',
    description: 'Mirrors region, count and loud into headers.',
    inputSchema: {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        count: { type: 'integer', 'x-mcp-header': 'Count' },
        loud: { type: ['boolean', 'null'], 'x-mcp-header': 'Loud' },
        where: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
        note: { type: 'string' },
      },
      required: ['region'],
    },
  },
  // Invalid on purpose: a header name with a space. Clients must leave this tool out.
  { name: 'bad-header', description: 'Carries an invalid x-mcp-header.', inputSchema: { type: 'object', properties: { v: { type: 'string', 'x-mcp-header': 'Bad Name' } } } },
  { name: 'nested-bad', description: 'x-mcp-header inside an array item.', inputSchema: { type: 'object', properties: { list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Item' } } } } },
];

/** Parameters of `route` mirrored into headers: header name → path. */
const ROUTE_HEADERS: Array<[string, string[], 'string' | 'integer' | 'boolean']> = [
  ['region', ['region'], 'string'],
  ['count', ['count'], 'integer'],
  ['loud', ['loud'], 'boolean'],
  ['zone', ['where', 'zone'], 'string'],
];

interface Listener {
  id: string | number;
  filter: Json;
  res: ServerResponse;
}

export class ModernMcp {
  readonly requests: ModernRecord[] = [];
  /** Tools whose response stream the client closed before the answer (cancellation). */
  readonly cancelled: string[] = [];
  /** requestState values the server handed out, and those it got back. */
  readonly statesIssued: string[] = [];
  readonly statesReceived: string[] = [];
  private readonly key = randomBytes(32);
  private rejectLeft: number;
  private flakyBroken = false;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly o: ModernServerOptions) {
    this.rejectLeft = o.rejectFirst ?? 0;
  }

  get supported(): string[] {
    return this.o.supportedVersions ?? [MODERN];
  }

  /** The next n requests get -32022 (a server that changed its mind mid-session). */
  rejectNext(n = 1): void {
    this.rejectLeft = n;
  }

  /** Sends a change notification to every listen stream that asked for it. */
  emit(kind: 'toolsListChanged' | 'resourcesListChanged', method: string): void;
  emit(kind: 'resourceUpdated', uri: string): void;
  emit(kind: string, arg: string): void {
    for (const l of this.listeners) {
      const meta = { 'io.modelcontextprotocol/subscriptionId': l.id };
      if (kind === 'resourceUpdated') {
        const uris = Array.isArray(l.filter.resourceSubscriptions) ? l.filter.resourceSubscriptions : [];
        if (uris.includes(arg)) sse(l.res, { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: arg, _meta: meta } });
      } else if (l.filter[kind] === true) {
        sse(l.res, { jsonrpc: '2.0', method: arg, params: { _meta: meta } });
      }
    }
  }

  get listening(): number {
    return this.listeners.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec: ModernRecord = { at: Date.now(), httpMethod: req.method ?? '', headers: flatHeaders(req), body: undefined, status: 0, authorized: false };
    this.requests.push(rec);
    res.on('finish', () => (rec.status = res.statusCode));
    if (req.method !== 'POST') {
      // No GET stream and no sessions in 2026-07-28 (Streamable HTTP "Backward Compatibility").
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    rec.body = body;
    const msg = isObject(body) ? body : {};
    if (typeof msg.method === 'string') rec.rpcMethod = msg.method;
    if (typeof msg.id === 'string' || typeof msg.id === 'number') rec.id = msg.id;

    const m = (this.o.dpop ? /^DPoP (\S+)$/i : /^Bearer (\S+)$/i).exec(req.headers.authorization ?? '');
    let facts = m ? await this.o.validate(m[1]!) : undefined;
    if (facts && this.o.dpop) {
      const proof = req.headers.dpop;
      const c = await this.o.dpop.check({ method: req.method ?? '', url: `http://${req.headers.host}${req.url}`, token: m![1]!, proof: Array.isArray(proof) ? proof.join(',') : proof, jkt: facts.jkt });
      if (!c.ok) facts = undefined;
    }
    if (!facts) {
      res.writeHead(401, { 'www-authenticate': this.o.challenge(m ? 'invalid_token' : undefined), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: m ? 'invalid_token' : 'unauthorized' }));
      return;
    }
    rec.authorized = true;

    const id = msg.id as string | number | undefined;
    if (typeof msg.method !== 'string') return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: clients send only requests' } });
    if (id === undefined) {
      res.writeHead(202).end();
      return;
    }
    try {
      this.validate(req, msg);
      const params = isObject(msg.params) ? msg.params : {};
      await this.dispatch(msg.method, params, id, facts, req, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof RpcError) return json(res, err.status, { jsonrpc: '2.0', id, error: { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) } });
      return json(res, 500, { jsonrpc: '2.0', id, error: { code: -32603, message: err instanceof Error ? err.message : String(err) } });
    }
  }

  /** Server Validation (Streamable HTTP) and the per-request _meta rules (basic/index). */
  private validate(req: IncomingMessage, msg: Json): void {
    const method = msg.method as string;
    const header = req.headers['mcp-protocol-version'];
    const versions = this.supported.join(', ');
    if (typeof header !== 'string') {
      throw new RpcError(400, -32020, `Missing MCP-Protocol-Version header: this server speaks MCP ${versions} only${method === 'initialize' ? ' (no initialize handshake)' : ''}`);
    }
    const params = isObject(msg.params) ? msg.params : {};
    const meta = isObject(params._meta) ? params._meta : {};
    const missing = [PV, CC].filter((k) => meta[k] === undefined);
    if (missing.length) throw new RpcError(400, -32602, `Invalid params: missing _meta keys: ${missing.join(', ')}`);
    if (meta[PV] !== header) throw new RpcError(400, -32020, `Header mismatch: MCP-Protocol-Version '${header}' vs _meta '${String(meta[PV])}'`);
    if (this.rejectLeft > 0 || !this.supported.includes(header)) {
      if (this.rejectLeft > 0) this.rejectLeft--;
      throw new RpcError(400, -32022, 'Unsupported protocol version', { supported: this.supported, requested: header });
    }
    const mcpMethod = req.headers['mcp-method'];
    if (mcpMethod !== method) throw new RpcError(400, -32020, `Header mismatch: Mcp-Method '${String(mcpMethod)}' vs body '${method}'`);
    const nameSource = method === 'resources/read' ? params.uri : method === 'tools/call' || method === 'prompts/get' ? params.name : undefined;
    if (nameSource !== undefined) {
      const h = req.headers['mcp-name'];
      if (typeof h !== 'string' || decode(h) !== nameSource) throw new RpcError(400, -32020, `Header mismatch: Mcp-Name '${String(h)}' vs body '${String(nameSource)}'`);
    }
    if (method === 'tools/call' && params.name === 'route') {
      const args = isObject(params.arguments) ? params.arguments : {};
      for (const [name, path, type] of ROUTE_HEADERS) {
        let v: unknown = args;
        for (const k of path) v = isObject(v) ? v[k] : undefined;
        const h = req.headers[`mcp-param-${name}`];
        if (v === undefined || v === null) {
          if (h !== undefined) throw new RpcError(400, -32020, `Header mismatch: Mcp-Param-${name} sent without a body value`);
          continue;
        }
        if (typeof h !== 'string') throw new RpcError(400, -32020, `Header mismatch: Mcp-Param-${name} is missing`);
        const got = decode(h);
        const ok = type === 'integer' ? Number(got) === v : type === 'boolean' ? got === String(v) : got === v;
        if (!ok) throw new RpcError(400, -32020, `Header mismatch: Mcp-Param-${name} '${got}' vs body '${String(v)}'`);
      }
    }
  }

  private caps(params: Json): Json {
    const meta = isObject(params._meta) ? params._meta : {};
    return isObject(meta[CC]) ? meta[CC] : {};
  }

  private async dispatch(method: string, params: Json, id: string | number, facts: TokenFacts, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const done = (result: Json) => json(res, 200, { jsonrpc: '2.0', id, result: complete(result) });
    const cacheable = { ttlMs: 0, cacheScope: 'private' };
    switch (method) {
      case 'server/discover':
        return done({
          ...cacheable,
          supportedVersions: this.supported,
          capabilities: { tools: { listChanged: true }, resources: { subscribe: true }, prompts: {}, logging: {} },
          instructions: 'A rig server of the 2026-07-28 era.',
        });
      case 'tools/list':
        return done({ ...cacheable, tools: TOOLS });
      case 'prompts/list':
        return done({ ...cacheable, prompts: [{ name: 'greet', description: 'Says hello', arguments: [{ name: 'who', required: true }] }] });
      case 'prompts/get': {
        const args = isObject(params.arguments) ? params.arguments : {};
        return done({ messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${String(args.who)}!` } }] });
      }
      case 'resources/list':
        return done({ ...cacheable, resources: [{ uri: 'memo://note', name: 'note', mimeType: 'text/plain' }] });
      case 'resources/read':
        return done({ ...cacheable, contents: [{ uri: params.uri, mimeType: 'text/plain', text: `contents of ${String(params.uri)}` }] });
      case 'subscriptions/listen':
        return this.listen(id, params, res);
      case 'tools/call':
        return this.call(params, id, facts, req, res);
      default:
        throw new RpcError(404, -32601, `Method not found: ${method}`);
    }
  }

  private listen(id: string | number, params: Json, res: ServerResponse): void {
    const asked = isObject(params.notifications) ? params.notifications : {};
    const honoured: Json = {};
    if (asked.toolsListChanged === true) honoured.toolsListChanged = true;
    if (Array.isArray(asked.resourceSubscriptions)) honoured.resourceSubscriptions = asked.resourceSubscriptions;
    openSse(res);
    res.write(': keep-alive\n\n');
    sse(res, { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honoured, _meta: { 'io.modelcontextprotocol/subscriptionId': id } } });
    const l: Listener = { id, filter: honoured, res };
    this.listeners.add(l);
    res.on('close', () => this.listeners.delete(l));
  }

  private sign(payload: Json): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', this.key).update(body).digest('base64url')}`;
  }

  /** The state a retry carries back; tampered, expired or someone else's state is refused. */
  private verify(state: unknown, tool: string, sub: string): Json {
    if (typeof state !== 'string') throw new RpcError(400, -32602, 'Invalid params: requestState missing');
    this.statesReceived.push(state);
    const [body, sig] = state.split('.');
    const want = createHmac('sha256', this.key)
      .update(body ?? '')
      .digest();
    const got = Buffer.from(sig ?? '', 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new RpcError(400, -32602, 'Invalid params: requestState failed verification');
    const payload = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as Json;
    if (payload.tool !== tool || payload.sub !== sub || typeof payload.exp !== 'number' || payload.exp < Date.now()) throw new RpcError(400, -32602, 'Invalid params: requestState does not fit this request');
    return payload;
  }

  private inputRequired(res: ServerResponse, id: string | number, inputRequests: Json, state: Json): void {
    const requestState = this.sign({ ...state, exp: Date.now() + 60_000 });
    this.statesIssued.push(requestState);
    json(res, 200, { jsonrpc: '2.0', id, result: { resultType: 'input_required', inputRequests, requestState } });
  }

  private async call(params: Json, id: string | number, facts: TokenFacts, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = String(params.name);
    const args = isObject(params.arguments) ? params.arguments : {};
    const responses = isObject(params.inputResponses) ? params.inputResponses : undefined;
    const meta = isObject(params._meta) ? params._meta : {};
    const text = (t: string) => json(res, 200, { jsonrpc: '2.0', id, result: complete({ content: [{ type: 'text', text: t }] }) });
    switch (name) {
      case 'echo':
        return text(String(args.text));
      case 'whoami':
        return text(JSON.stringify({ sub: facts.sub, scopes: facts.scopes, clientInfo: meta[CI], clientCapabilities: meta[CC] }));
      case 'big':
        return text('x'.repeat(Number(args.bytes)));
      case 'route':
        return text(JSON.stringify(Object.fromEntries(ROUTE_HEADERS.map(([h]) => [h, req.headers[`mcp-param-${h}`]]))));
      case 'ask': {
        if (!isObject(this.caps(params).elicitation)) throw new RpcError(400, -32021, 'Missing required client capability: elicitation', { requiredCapabilities: { elicitation: {} } });
        const answer = responses?.answer;
        if (!isObject(answer)) {
          return this.inputRequired(
            res,
            id,
            { answer: { method: 'elicitation/create', params: { mode: 'form', message: String(args.question), requestedSchema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } } } },
            { tool: 'ask', sub: facts.sub },
          );
        }
        this.verify(params.requestState, 'ask', facts.sub);
        return text(JSON.stringify(answer));
      }
      case 'plan': {
        const caps = this.caps(params);
        if (!isObject(caps.sampling) || !isObject(caps.roots)) throw new RpcError(400, -32021, 'Missing required client capability', { requiredCapabilities: { sampling: {}, roots: {} } });
        if (!responses) {
          return this.inputRequired(
            res,
            id,
            {
              idea: { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Name a plan.' } }], maxTokens: 20 } },
              where: { method: 'roots/list', params: {} },
            },
            { tool: 'plan', sub: facts.sub },
          );
        }
        this.verify(params.requestState, 'plan', facts.sub);
        const idea = isObject(responses.idea) && isObject(responses.idea.content) ? responses.idea.content.text : undefined;
        const roots = isObject(responses.where) && Array.isArray(responses.where.roots) ? responses.where.roots : [];
        return text(`${String(idea)} in ${roots.map((r) => (isObject(r) ? String(r.uri) : '?')).join(', ')}`);
      }
      case 'slow': {
        const token = meta.progressToken;
        const steps = Number(args.steps);
        openSse(res);
        let closed = false;
        res.on('close', () => {
          if (!res.writableFinished) {
            closed = true;
            this.cancelled.push('slow');
          }
        });
        for (let i = 1; i <= steps; i++) {
          if (closed) return;
          if (token !== undefined) sse(res, { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
          await new Promise((r) => setTimeout(r, Number(args.ms)));
        }
        if (closed) return;
        sse(res, { jsonrpc: '2.0', id, result: complete({ content: [{ type: 'text', text: `done after ${steps}` }] }) });
        res.end();
        return;
      }
      case 'flaky': {
        openSse(res);
        res.write(': a comment line the client must ignore\n\nretry: 50\n\n');
        if (!this.flakyBroken) {
          this.flakyBroken = true;
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        sse(res, { jsonrpc: '2.0', id, result: complete({ content: [{ type: 'text', text: 'steady now' }] }) });
        res.end();
        return;
      }
      default:
        throw new RpcError(400, -32602, `Unknown tool: ${name}`);
    }
  }

  close(): void {
    for (const l of this.listeners) l.res.destroy();
    this.listeners.clear();
  }
}

function complete(result: Json): Json {
  return { resultType: 'complete', ...result, _meta: { 'io.modelcontextprotocol/serverInfo': SERVER_INFO } };
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.flushHeaders();
}

function sse(res: ServerResponse, msg: unknown): void {
  res.write(`event: message\ndata: ${JSON.stringify(msg)}\n\n`);
}

export interface ModernServerHandle {
  url: string;
  origin: string;
  mcp: ModernMcp;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The modern server alone on 127.0.0.1:0 at /mcp, with a caller-supplied token check. */
export async function startModernServer(o: ModernServerOptions): Promise<ModernServerHandle> {
  const mcp = new ModernMcp(o);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://rig').pathname;
    if (path !== '/mcp') return json(res, 404, { error: 'not_found' });
    mcp.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  const origin = await listen(server);
  return {
    url: `${origin}/mcp`,
    origin,
    mcp,
    close: async () => {
      mcp.close();
      await closeServer(server);
    },
  };
}

export interface ModernRig extends ModernServerHandle {
  as: RigAs;
  dpop?: DpopRs;
}

/**
 * The modern server as its own authorization server (the rig's "own-as" layout): RFC 9728
 * metadata, an oidc-provider AS on the same origin, tokens audience-bound to the MCP URL.
 */
export async function startModernRig(opts: { accessTokenTtl?: number; dpop?: boolean; tls?: { key: string; cert: string; ca: string; host: string } } = {}): Promise<ModernRig> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const t = opts.tls;
  // On a company network (HTTPS under a name only a test proxy resolves), as the rig's startRig does.
  const server: Server = t ? createHttpsServer({ key: t.key, cert: t.cert }, (req, res) => handler(req, res)) : createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 1000;
  const local = await listen(server);
  const origin = t ? `https://${t.host}:${new URL(local).port}` : local;
  const url = `${origin}/mcp`;
  const prmPath = '/.well-known/oauth-protected-resource/mcp';
  const as = await RigAs.create({ issuer: origin, mount: '', resource: url, tokenFormat: 'opaque', rotateRefreshTokens: false, accessTokenTtl: opts.accessTokenTtl ?? 3600, refreshTokenTtl: 86_400, ...(t ? { selfFetch: await selfFetchFor(t.ca) } : {}) });
  const dpop = opts.dpop ? new DpopRs() : undefined;
  const mcp = new ModernMcp({
    validate: (t) => as.validate(t),
    challenge: (error) => `${dpop ? 'DPoP algs="ES256",' : 'Bearer'} resource_metadata="${origin}${prmPath}", scope="mcp:tools"${error ? `, error="${error}"` : ''}`,
    ...(dpop ? { dpop } : {}),
  });
  const outer = express();
  outer.use(as.app);
  handler = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://rig').pathname;
    const fail = (err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.destroy();
    };
    if (path === '/mcp') {
      mcp.handle(req, res).catch(fail);
      return;
    }
    if (path === prmPath) return json(res, 200, { resource: url, authorization_servers: [origin], scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'], resource_name: 'Rig modern MCP server', ...(dpop ? { dpop_bound_access_tokens_required: true } : {}) });
    // The provider serves its own discovery document to as.metadata() (marked x-rig-internal).
    if (path === '/.well-known/oauth-authorization-server' || (path === '/.well-known/openid-configuration' && req.headers['x-rig-internal'] !== '1')) {
      as.metadata().then((doc) => json(res, 200, doc), fail);
      return;
    }
    outer(req as express.Request, res as express.Response);
  };
  return {
    url,
    origin,
    mcp,
    as,
    ...(dpop ? { dpop } : {}),
    close: async () => {
      mcp.close();
      await closeServer(server);
    },
  };
}
