// Issue 14, finding 4: a remote server's metadata may not make the app call services on this
// machine. The "remote" server is an https server on a loopback port that the CLI under test is
// told to count as remote (MCP_TOKENS_TEST_REMOTE_ORIGINS) and trusts (NODE_EXTRA_CA_CERTS).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ROOT, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

const TLS = join(ROOT, 'test/fixtures/tls');
type Faults = { challengeMetadata?: string; prmIssuer?: string; asEndpoints?: string };

let internal: Server;
let internalOrigin = '';
/** Every request the "internal" service received: the attack succeeded if there is one. */
const internalHits: string[] = [];
let remote: Server;
let remoteOrigin = '';
const remoteHits: string[] = [];
let faults: Faults = {};
const homes: string[] = [];

beforeAll(async () => {
  internal = createHttpServer((req, res) => {
    internalHits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', () => r()));
  internalOrigin = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;

  // A hostile MCP server that is its own AS; `faults` says which document names the internal service.
  remote = createHttpsServer({ key: readFileSync(join(TLS, 'key.pem')), cert: readFileSync(join(TLS, 'cert.pem')) }, (req, res) => {
    remoteHits.push(`${req.method} ${req.url}`);
    const json = (body: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const path = new URL(req.url ?? '/', remoteOrigin).pathname;
    if (path === '/mcp') {
      const rm = faults.challengeMetadata ?? `${remoteOrigin}/.well-known/oauth-protected-resource/mcp`;
      res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${rm}"` }).end();
      return;
    }
    if (path === '/.well-known/oauth-protected-resource/mcp') return json({ resource: `${remoteOrigin}/mcp`, authorization_servers: [faults.prmIssuer ?? remoteOrigin] });
    if (path === '/.well-known/oauth-authorization-server') {
      const e = faults.asEndpoints ?? remoteOrigin;
      return json({
        issuer: remoteOrigin,
        authorization_endpoint: `${remoteOrigin}/authorize`,
        token_endpoint: `${e}/token`,
        registration_endpoint: `${e}/register`,
        revocation_endpoint: `${e}/revoke`,
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
      });
    }
    if (path === '/register') return json({ error: 'invalid_client_metadata', error_description: 'closed for the test' }, 400);
    json({ error: 'not_found' }, 404);
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', () => r()));
  remoteOrigin = `https://127.0.0.1:${(remote.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => internal?.close(r));
  await new Promise((r) => remote?.close(r));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

async function linkWith(f: Faults) {
  faults = f;
  internalHits.length = 0;
  remoteHits.length = 0;
  const home = await tempHome();
  homes.push(home);
  const env = cliEnv(home, { NODE_EXTRA_CA_CERTS: join(TLS, 'cert.pem'), MCP_TOKENS_TEST_REMOTE_ORIGINS: remoteOrigin, BROWSER: 'true' });
  const r = await runCli(['link', `${remoteOrigin}/mcp`], env);
  return { r, home };
}

describe('loopback URLs named by remote documents', () => {
  it('control: the remote server is reached and trusted, and its own endpoints are used', async () => {
    const { r } = await linkWith({});
    expect(r.code).toBe(1);
    // It got as far as registering at the (remote) AS, which the test AS refuses.
    expect(remoteHits).toContain('POST /register');
    expect(r.stderr).not.toMatch(/points at this machine/);
    expect(internalHits).toEqual([]);
  });

  it('AS metadata naming loopback registration, token and revocation endpoints is refused; nothing is sent there', async () => {
    const { r, home } = await linkWith({ asEndpoints: internalOrigin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/registration endpoint|token endpoint|revocation endpoint/);
    expect(r.stderr).toMatch(/points at this machine/);
    expect(internalHits).toEqual([]);
    expect(remoteHits).not.toContain('POST /register');
    expect((await readVault(home)).servers).toEqual({});
  });

  it('a challenge naming loopback resource metadata is refused', async () => {
    const { r } = await linkWith({ challengeMetadata: `${internalOrigin}/.well-known/oauth-protected-resource` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/resource_metadata URL .*points at this machine/);
    expect(internalHits).toEqual([]);
  });

  it('resource metadata naming a loopback authorization server is refused', async () => {
    const { r } = await linkWith({ prmIssuer: internalOrigin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/authorization server named in the resource metadata .*points at this machine/);
    expect(internalHits).toEqual([]);
  });
});
