// Product fixes found by the MCP conformance suite (issue 6), each against a small real HTTP
// server on 127.0.0.1 behaving the way the suite's mock servers (and servers in the field) do.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probe } from '../../src-main/core/oauth/discovery.js';
import { clientSecretBasic, formEncodeCredential, makeConfig, refresh, registerDynamicClient } from '../../src-main/core/oauth/oauth.js';
import type { AsMetadata, ClientRecord } from '../../src-main/core/types.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function serve(handler: (req: Seen, res: ServerResponse) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('dynamic registration without client_secret_expires_at', () => {
  it('accepts a secret whose expiry the AS leaves out (RFC 7591 says 0 = never), as many ASes do', async () => {
    const { base } = await serve((_req, res) => json(res, 201, { client_id: 'test-client-id', client_secret: 'test-client-secret', redirect_uris: ['http://127.0.0.1:1/callback'] }));
    const as: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, registration_endpoint: `${base}/register`, token_endpoint_auth_methods_supported: ['client_secret_basic'] };
    const reg = await registerDynamicClient(as, { redirectUris: ['http://127.0.0.1:1/callback'], grantTypes: ['authorization_code', 'refresh_token'] });
    expect(reg.clientId).toBe('test-client-id');
    expect(reg.clientSecret).toBe('test-client-secret');
  });

  it('still refuses a registration without a client_id', async () => {
    const { base } = await serve((_req, res) => json(res, 201, { client_secret: 'x' }));
    const as: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, registration_endpoint: `${base}/register` };
    await expect(registerDynamicClient(as, { redirectUris: [], grantTypes: ['authorization_code'] })).rejects.toThrow(/refused to register/);
  });
});

describe('client_secret_basic credentials', () => {
  it('leaves - . _ * as they are, so an AS that does not decode the credentials sees the real client id', async () => {
    const { base, seen } = await serve((_req, res) => json(res, 200, { access_token: 'at', token_type: 'Bearer', expires_in: 60 }));
    const as: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, token_endpoint_auth_methods_supported: ['client_secret_basic'] };
    const record: ClientRecord = {
      key: 'k',
      issuer: base,
      clientId: 'pre-registered-client',
      method: 'pre-registered',
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [],
      grantTypes: ['authorization_code', 'refresh_token'],
      registeredAt: 0,
      hasSecret: true,
    };
    await refresh(makeConfig(as, { record, clientSecret: 'pre-registered-secret' }), 'rt', `${base}/mcp`);
    const auth = seen[0]!.headers.authorization ?? '';
    expect(auth.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(auth.slice(6), 'base64').toString('utf8')).toBe('pre-registered-client:pre-registered-secret');
  });

  it('form-encodes what must be encoded (a colon, a space, non-ASCII)', () => {
    expect(formEncodeCredential('a b:c~é')).toBe('a+b%3Ac%7E%C3%A9');
    expect(formEncodeCredential("x-y_z.w*!'()")).toBe('x-y_z.w*%21%27%28%29');
    const headers = new Headers();
    clientSecretBasic('s:e cret')({ issuer: 'https://as.example' }, { client_id: 'id:1' }, new URLSearchParams(), headers);
    expect(Buffer.from(headers.get('authorization')!.slice(6), 'base64').toString()).toBe('id%3A1:s%3Ae+cret');
  });
});

describe('probing a server that lets the handshake through', () => {
  const challenge = (base: string) => `Bearer scope="mcp:basic", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`;

  it('asks for the tools when a 2025-11-25 server answers initialize without a token', async () => {
    const { base, seen } = await serve((req, res) => {
      const msg = JSON.parse(req.body || '{}') as { method?: string };
      if (msg.method === 'initialize') return json(res, 200, { jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 's', version: '1' } } }, { 'mcp-session-id': 'sess-1' });
      if (!req.headers.authorization) return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge(base) });
      json(res, 500, {});
    });
    const r = await probe(new URL(`${base}/mcp`));
    expect(r.status).toBe(401);
    expect(r.transport).toBe('streamable-http');
    expect(r.challenge.scope).toBe('mcp:basic');
    expect(seen[1]!.headers['mcp-session-id']).toBe('sess-1');
    expect(JSON.parse(seen[1]!.body)).toMatchObject({ method: 'tools/list' });
  });

  it('sends every probe request with the Mcp-Method header and a _meta matching its version header', async () => {
    const { base, seen } = await serve((req, res) => {
      const msg = JSON.parse(req.body || '{}') as { method?: string };
      if (msg.method === 'initialize') return json(res, 400, { jsonrpc: '2.0', id: 0, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'] } } });
      json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge(base) });
    });
    await probe(new URL(`${base}/mcp`));
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      const msg = JSON.parse(s.body) as { method: string; params: { _meta: Record<string, unknown> } };
      expect(s.headers['mcp-method']).toBe(msg.method);
      expect(msg.params._meta['io.modelcontextprotocol/protocolVersion']).toBe(s.headers['mcp-protocol-version']);
      expect(msg.params._meta['io.modelcontextprotocol/clientCapabilities']).toEqual({});
      expect(msg.params._meta['io.modelcontextprotocol/clientInfo']).toMatchObject({ name: 'mcp-token-manager' });
    }
  });

  it('asks for the tools on the 2026-07-28 wire when the server has no handshake (400)', async () => {
    const { base, seen } = await serve((req, res) => {
      const msg = JSON.parse(req.body || '{}') as { method?: string; params?: { _meta?: Record<string, unknown> } };
      const meta = msg.params?._meta ?? {};
      if (req.headers['mcp-protocol-version'] !== '2026-07-28' || meta['io.modelcontextprotocol/protocolVersion'] !== '2026-07-28' || !meta['io.modelcontextprotocol/clientCapabilities']) {
        return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32602, message: 'Invalid params: missing _meta keys' } });
      }
      if (!req.headers.authorization) return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge(base) });
      json(res, 500, {});
    });
    const r = await probe(new URL(`${base}/mcp`));
    expect(r.status).toBe(401);
    expect(r.challenge.resource_metadata).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST']);
  });

  it('still says there is nothing to link when no request is challenged, in either era', async () => {
    const legacy = await serve((_req, res) => json(res, 200, { jsonrpc: '2.0', id: 0, result: {} }));
    await expect(probe(new URL(`${legacy.base}/mcp`))).rejects.toThrow(/without asking for authorization/);
    const modern = await serve((req, res) => (req.headers['mcp-protocol-version'] === '2026-07-28' ? json(res, 200, { jsonrpc: '2.0', id: 1, result: { tools: [] } }) : json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32020, message: 'no' } })));
    await expect(probe(new URL(`${modern.base}/mcp`))).rejects.toThrow(/without asking for authorization/);
  });
});
