// Which client authentication method is registered and sent, and how a refused revocation is
// reported (issue 11), against small real HTTP servers on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alternateAuthMethod, pickSecretAuthMethod, registrationAuthMethod } from '../../src-main/core/oauth/client-auth.js';
import { makeConfig, revocationAnswer, revoke } from '../../src-main/core/oauth/oauth.js';
import type { AsMetadata, ClientRecord } from '../../src-main/core/types.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

interface Seen {
  headers: IncomingMessage['headers'];
  body: URLSearchParams;
}

async function serve(handler: (res: ServerResponse) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: new URLSearchParams(body) });
      handler(res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const as = (methods?: string[]): AsMetadata => ({ issuer: 'https://as.example', ...(methods ? { token_endpoint_auth_methods_supported: methods } : {}) });

function record(issuer: string, method: string): ClientRecord {
  return { key: 'k', issuer, clientId: 'client-1', method: 'dynamic', tokenEndpointAuthMethod: method, redirectUris: [], grantTypes: ['authorization_code'], registeredAt: 0, hasSecret: method !== 'none' };
}

describe('choosing the client authentication method', () => {
  it('registers a public client where the AS allows it or does not say', () => {
    expect(registrationAuthMethod(as())).toBe('none');
    expect(registrationAuthMethod(as(['client_secret_basic', 'none']))).toBe('none');
  });
  it('prefers client_secret_post to client_secret_basic, as the MCP Python SDK and FastMCP need', () => {
    expect(registrationAuthMethod(as(['client_secret_basic', 'client_secret_post']))).toBe('client_secret_post');
    expect(pickSecretAuthMethod(as(['client_secret_basic', 'client_secret_post']))).toBe('client_secret_post');
    expect(pickSecretAuthMethod(as(['client_secret_basic']))).toBe('client_secret_basic');
    expect(pickSecretAuthMethod(as())).toBe('client_secret_basic');
  });
  it('falls back to another advertised method, or to none when there is none', () => {
    expect(alternateAuthMethod(as(['client_secret_post', 'client_secret_basic']), 'client_secret_post')).toBe('client_secret_basic');
    expect(alternateAuthMethod(as(['client_secret_post', 'client_secret_basic']), 'client_secret_basic')).toBe('client_secret_post');
    expect(alternateAuthMethod(as(['none', 'client_secret_post']), 'none')).toBe('client_secret_post');
    expect(alternateAuthMethod(as(['client_secret_post']), 'client_secret_post')).toBeUndefined();
    expect(alternateAuthMethod(as(), 'none')).toBe('client_secret_basic');
  });
});

describe('what reaches the revocation endpoint', () => {
  for (const method of ['client_secret_basic', 'client_secret_post', 'none']) {
    it(`${method}: client_id in the body, the secret where the method puts it`, async () => {
      const { base, seen } = await serve((res) => res.writeHead(200).end());
      const meta: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, revocation_endpoint: `${base}/revoke` };
      await revoke(makeConfig(meta, { record: record(base, method), ...(method !== 'none' ? { clientSecret: 'secret-value-1' } : {}) }), 'tok-123456', 'access_token');
      const s = seen[0]!;
      expect(s.body.get('client_id')).toBe('client-1');
      expect(s.body.get('token')).toBe('tok-123456');
      expect(s.body.get('client_secret')).toBe(method === 'client_secret_post' ? 'secret-value-1' : null);
      const auth = s.headers.authorization;
      if (method === 'client_secret_basic') expect(Buffer.from(auth!.slice(6), 'base64').toString()).toBe('client-1:secret-value-1');
      else expect(auth).toBeUndefined();
    });
  }
});

describe('reporting a revocation the AS did not confirm', () => {
  async function refusedWith(status: number, body: string, type = 'application/json'): Promise<string> {
    const { base } = await serve((res) => res.writeHead(status, { 'content-type': type }).end(body));
    const meta: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, revocation_endpoint: `${base}/revoke` };
    const err = await revoke(makeConfig(meta, { record: record(base, 'none') }), 'tok-123456', 'access_token').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    return revocationAnswer(err);
  }
  it('gives the status, the error code and the description as the AS wrote them', async () => {
    expect(await refusedWith(401, JSON.stringify({ error: 'unauthorized_client', error_description: 'client_secret: Field required' }))).toBe('HTTP 401 unauthorized_client: client_secret: Field required');
  });
  it('gives the status alone when the body is no OAuth error', async () => {
    expect(await refusedWith(503, '<html>down</html>', 'text/html')).toBe('HTTP 503');
  });
  it('says when nothing answered', async () => {
    const { base } = await serve((res) => res.destroy());
    const meta: AsMetadata = { issuer: base, token_endpoint: `${base}/token`, revocation_endpoint: `${base}/revoke` };
    const err = await revoke(makeConfig(meta, { record: record(base, 'none') }), 'tok-123456', 'access_token').catch((e: unknown) => e);
    expect(revocationAnswer(err)).toMatch(/^no answer \(/);
  });
});
