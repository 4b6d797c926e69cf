// The rig's MCP server, built with the SDK: Streamable HTTP (stateful) or legacy HTTP+SSE,
// every request authorized by a bearer token checked by the caller-supplied validator.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import type { DpopRs } from './dpop.js';

export interface TokenFacts {
  sub: string;
  clientId: string;
  scopes: string[];
  aud: string | string[] | undefined;
  exp?: number;
  /** The token's cnf.jkt (RFC 9449 §6): bound to that key. */
  jkt?: string;
}

export interface McpRequestRecord {
  at: number;
  method: string;
  path: string;
  rpcMethods: string[];
  status: number;
  authorized: boolean;
  /** Request headers other than Authorization (per-server headers the bridge adds). */
  headers: Record<string, string>;
  /** The Authorization scheme used, lower-case ('bearer', 'dpop'), when there was one. */
  scheme?: string;
}

export interface RigMcpOptions {
  transport: 'streamable' | 'sse';
  /** Returns the token's facts, or undefined when it is not valid for this resource. */
  validate: (token: string) => Promise<TokenFacts | undefined>;
  /** WWW-Authenticate for a missing or invalid token. */
  challenge: (error?: 'invalid_token') => string;
  /** Checks DPoP proofs (RFC 9449); without it the server takes Bearer only and refuses the DPoP scheme. */
  dpop?: DpopRs;
}

function createServer(): McpServer {
  const server = new McpServer({ name: 'rig-mcp', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('whoami', { description: 'Who the token says you are.' }, async (extra) => {
    const a = extra.authInfo;
    const facts = a?.extra?.facts as TokenFacts | undefined;
    return { content: [{ type: 'text', text: JSON.stringify({ sub: facts?.sub, clientId: a?.clientId, scopes: a?.scopes, aud: facts?.aud }) }] };
  });
  server.registerTool('echo', { description: 'Echoes its text.', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('big', { description: 'Returns n bytes of text.', inputSchema: { bytes: z.number().int().min(0).max(64 * 1024 * 1024) } }, async ({ bytes }) => ({
    content: [{ type: 'text', text: 'x'.repeat(bytes) }],
  }));
  server.registerTool('admin', { description: 'Needs the mcp:admin scope.' }, async () => ({ content: [{ type: 'text', text: 'admin ok' }] }));
  server.registerTool('ask', { description: 'Asks the user a question (elicitation).', inputSchema: { question: z.string() } }, async ({ question }) => {
    const r = await server.server.elicitInput({ message: question, requestedSchema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } });
    return { content: [{ type: 'text', text: JSON.stringify(r) }] };
  });
  server.registerTool(
    'slow',
    { description: 'Reports progress `steps` times, `ms` apart.', inputSchema: { steps: z.number().int().min(0).max(100), ms: z.number().int().min(0).max(10_000) } },
    async ({ steps, ms }, extra) => {
      const token = extra._meta?.progressToken;
      // Wait after each notification: the SDK client handles notifications a microtask later
      // than responses, so a progress sent right before the result could arrive "late".
      for (let i = 1; i <= steps; i++) {
        if (extra.signal.aborted) return { content: [{ type: 'text', text: 'cancelled' }], isError: true };
        if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
        await new Promise((r) => setTimeout(r, ms));
      }
      return { content: [{ type: 'text', text: `done after ${steps}` }] };
    },
  );
  return server;
}

async function readBody(req: IncomingMessage, limit = 128 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function rpcMethodsOf(body: unknown): string[] {
  const list = Array.isArray(body) ? body : [body];
  return list.flatMap((m) => (m && typeof m === 'object' && typeof (m as { method?: unknown }).method === 'string' ? [(m as { method: string }).method] : []));
}

function callsTool(body: unknown, name: string): boolean {
  const list = Array.isArray(body) ? body : [body];
  return list.some((m) => m && typeof m === 'object' && (m as { method?: unknown }).method === 'tools/call' && (m as { params?: { name?: unknown } }).params?.name === name);
}

/** An HTTP handler for the MCP endpoint(s); `paths.mcp` for Streamable HTTP, `paths.sse` + `paths.messages` for legacy. */
export class RigMcp {
  readonly requests: McpRequestRecord[] = [];
  private sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  private sse = new Map<string, { transport: SSEServerTransport; server: McpServer }>();

  constructor(private readonly o: RigMcpOptions & { paths: { mcp: string; sse: string; messages: string } }) {}

  /** Authorized requests still to be answered 401 as if the token were invalid. */
  rejectNext = 0;

  /** Tokens this server no longer accepts although the AS still does (a restart, a key rotation). */
  readonly dropped = new Set<string>();

  /** When set, the endpoint answers 307 to this URL (a server that moved to another origin). */
  redirectTo: string | undefined;

  /** True when the request was for this server (and has been answered). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://rig');
    const p = this.o.paths;
    const mine = this.o.transport === 'streamable' ? url.pathname === p.mcp : url.pathname === p.sse || url.pathname === p.messages;
    if (!mine) return false;
    if (this.redirectTo) {
      res.writeHead(307, { location: this.redirectTo }).end();
      return true;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (k !== 'authorization' && typeof v === 'string') headers[k] = v;
    const rec: McpRequestRecord = { at: Date.now(), method: req.method ?? '', path: url.pathname, rpcMethods: [], status: 0, authorized: false, headers };
    this.requests.push(rec);
    res.on('finish', () => (rec.status = res.statusCode));

    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return true;
      }
      rec.rpcMethods = rpcMethodsOf(body);
    }

    // Legacy servers answer 405 to a POST on the SSE endpoint (what a client probes first).
    if (this.o.transport === 'sse' && url.pathname === p.sse && req.method === 'POST') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }

    const scheme = /^(Bearer|DPoP) ([^\s]+)$/i.exec(req.headers.authorization ?? '');
    const m = scheme ? ([scheme[0], scheme[2]] as const) : null;
    if (scheme) rec.scheme = scheme[1]!.toLowerCase();
    let facts = m && !this.dropped.has(m[1]!) ? await this.o.validate(m[1]!) : undefined;
    if (facts && this.rejectNext > 0) {
      // As a resource server that stopped trusting a token early (key rotation, a restart).
      this.rejectNext--;
      facts = undefined;
    }
    if (facts && rec.scheme === 'dpop') {
      if (!this.o.dpop) facts = undefined; // a Bearer-only server does not know the scheme
      else {
        const proof = req.headers.dpop;
        const c = await this.o.dpop.check({ method: req.method ?? '', url: `http://${req.headers.host}${req.url}`, token: m![1]!, proof: Array.isArray(proof) ? proof.join(',') : proof, jkt: facts.jkt });
        if (!c.ok) {
          const nonce = c.error === 'use_dpop_nonce' ? { 'dpop-nonce': this.o.dpop.nonce } : {};
          res.writeHead(401, { 'www-authenticate': `DPoP error="${c.error}", algs="ES256"`, ...nonce, 'content-type': 'application/json' }).end(JSON.stringify({ error: c.error }));
          return true;
        }
      }
    } else if (facts?.jkt) {
      // RFC 9449 §7.2: a bound token presented as a bearer token is refused.
      facts = undefined;
    }
    if (!facts) {
      res.writeHead(401, { 'www-authenticate': this.o.challenge(m ? 'invalid_token' : undefined), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: m ? 'invalid_token' : 'unauthorized' }));
      return true;
    }
    rec.authorized = true;
    if (callsTool(body, 'admin') && !facts.scopes.includes('mcp:admin')) {
      const needed = [...new Set([...facts.scopes.filter((s) => s.startsWith('mcp:')), 'mcp:admin'])].join(' ');
      res.writeHead(403, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${needed}", error_description="the admin tool needs mcp:admin"` }).end();
      return true;
    }
    const auth: AuthInfo = { token: m![1]!, clientId: facts.clientId, scopes: facts.scopes, ...(facts.exp ? { expiresAt: facts.exp } : {}), extra: { facts } };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;

    if (this.o.transport === 'sse') return this.handleSse(req, res, url, body);
    return this.handleStreamable(req, res, body);
  }

  private async handleStreamable(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<true> {
    const sid = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sid) ? sid[0] : sid;
    if (sessionId) {
      const s = this.sessions.get(sessionId);
      if (!s) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return true;
      }
      await s.transport.handleRequest(req, res, body);
      return true;
    }
    if (req.method !== 'POST' || !rpcMethodsOf(body).includes('initialize')) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: no session' } }));
      return true;
    }
    const server = createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    return true;
  }

  private async handleSse(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): Promise<true> {
    if (req.method === 'GET' && url.pathname === this.o.paths.sse) {
      const server = createServer();
      const transport = new SSEServerTransport(this.o.paths.messages, res);
      this.sse.set(transport.sessionId, { transport, server });
      transport.onclose = () => this.sse.delete(transport.sessionId);
      await server.connect(transport);
      return true;
    }
    if (req.method === 'POST' && url.pathname === this.o.paths.messages) {
      const s = this.sse.get(url.searchParams.get('sessionId') ?? '');
      if (!s) {
        res.writeHead(404).end('Unknown session');
        return true;
      }
      await s.transport.handlePostMessage(req as IncomingMessage & { auth?: AuthInfo }, res, body);
      return true;
    }
    res.writeHead(405).end();
    return true;
  }

  /** Forgets every session, as a server restart would: clients get 404 for their session. */
  async restart(): Promise<void> {
    const all = [...this.sessions.values(), ...this.sse.values()];
    this.sessions.clear();
    this.sse.clear();
    await Promise.allSettled(all.map((s) => s.server.close()));
  }

  async close(): Promise<void> {
    await this.restart();
  }
}
