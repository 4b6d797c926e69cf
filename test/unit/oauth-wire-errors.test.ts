// How token-endpoint failures read and classify, against a real HTTP server and openid-client:
// a 5xx is "unavailable" (transient, retried with backoff), a timeout says so, invalid_grant is a
// dead grant. The words reach people through every bridge, so they must be plain.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, refresh } from '../../src-main/core/oauth/oauth.js';
import type { OAuthWireError } from '../../src-main/core/oauth/oauth.js';

let server: Server;
let base = '';
let answer: (res: import('node:http').ServerResponse) => void = () => {};
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function config(timeoutS?: number, tokenEndpoint = `${base}/token`) {
  const c = makeConfig({ issuer: base, token_endpoint: tokenEndpoint } as never, {
    record: { key: base, issuer: base, clientId: 'c1', method: 'dynamic', tokenEndpointAuthMethod: 'none', redirectUris: [], grantTypes: ['refresh_token'], registeredAt: 0, hasSecret: false },
  });
  if (timeoutS !== undefined) c.timeout = timeoutS;
  return c;
}

async function failure(timeoutS?: number, tokenEndpoint?: string): Promise<OAuthWireError> {
  try {
    await refresh(config(timeoutS, tokenEndpoint), 'rt-secret-value', `${base}/mcp`);
  } catch (e) {
    return e as OAuthWireError;
  }
  throw new Error('the refresh did not fail');
}

describe('token endpoint failures', () => {
  it('a 500 with an OAuth error body is the server being unavailable, retried later', async () => {
    answer = (res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error","error_description":"down for a moment"}');
    const e = await failure();
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(500);
    expect(e.message).toBe('The authorization server is unavailable (HTTP 500) while refreshing the token.');
  });

  it('a 502 with an HTML body says HTTP 502, not a library message', async () => {
    answer = (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    const e = await failure();
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(502);
    expect(e.message).toBe('The authorization server is unavailable (HTTP 502) while refreshing the token.');
  });

  it('a 429 (too many requests) is transient, not a refusal of the grant', async () => {
    answer = (res) => res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' }).end('{"error":"slow_down"}');
    const e = await failure();
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(429);
    expect(e.message).toBe('The authorization server is busy (HTTP 429: too many requests) while refreshing the token.');
  });

  it('no answer in time says "timed out", not an error number', async () => {
    answer = () => {}; // never answers
    const e = await failure(1);
    expect(e.kind).toBe('transient');
    expect(e.message).toBe('Could not reach the authorization server (timed out) while refreshing the token.');
  });

  it('a refused connection names the network error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await failure(undefined, `http://127.0.0.1:${port}/token`);
    expect(e.kind).toBe('transient');
    expect(e.message).toBe('Could not reach the authorization server (ECONNREFUSED) while refreshing the token.');
  });

  it('invalid_grant is a dead grant; the refresh token never appears in the message', async () => {
    answer = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant","error_description":"grant request is invalid"}');
    const e = await failure();
    expect(e.kind).toBe('dead-grant');
    expect(e.message).not.toContain('rt-secret-value');
  });
});
