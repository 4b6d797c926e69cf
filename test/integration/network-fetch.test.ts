// The network module against real parts: an HTTPS server with a private CA under a company name
// only the test proxy resolves, reached by both fetch paths (undici for discovery and tokens,
// node:http for the bridge's legacy side, SSE included), with the proxy's counts as proof.
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { netFetch, NetworkError, setSystemProxyResolver } from '../../src-main/core/platform/network.js';
import { leanFetch } from '../../src-main/bridge/http-fetch.js';
import { networkStatus, testConnection } from '../../src-main/core/api/network.js';
import { makeCorpTls, type CorpTls } from '../rig/corp-tls.js';
import { startCorpProxy, type CorpProxy } from '../rig/corp-proxy.js';

const NAME = 'mcp.example.corp';
let tlsFiles: CorpTls;
let site: HttpsServer;
let local: HttpServer;
let port: number;
let localUrl: string;
let proxy: CorpProxy;
let authProxy: CorpProxy;
const saved = { ...process.env };

function setEnv(vars: Record<string, string | undefined>) {
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'MCP_TOKENS_CA', 'SSL_CERT_FILE']) delete process.env[k];
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) process.env[k] = v;
}

beforeAll(async () => {
  tlsFiles = makeCorpTls([NAME, 'auth.example.corp']);
  site = createHttps({ key: tlsFiles.key, cert: tlsFiles.cert }, (req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: endpoint\ndata: /messages\n\n');
      setTimeout(() => res.end('data: {"n":2}\n\n'), 50);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, host: req.headers.host }));
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
  port = (site.address() as AddressInfo).port;
  local = createHttp((_req, res) => res.end('local'));
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', () => r()));
  localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}/`;
  proxy = await startCorpProxy({ names: [NAME] });
  authProxy = await startCorpProxy({ names: [NAME], credentials: { user: 'ann@corp', password: 'p:ss w0rd' } });
});

afterAll(async () => {
  setSystemProxyResolver(undefined);
  process.env = saved;
  await proxy.close();
  await authProxy.close();
  site.closeAllConnections();
  site.close();
  local.close();
  rmSync(tlsFiles.dir, { recursive: true, force: true });
});

afterEach(() => setSystemProxyResolver(undefined));

const target = () => `https://${NAME}:${port}/doc`;
// The test process cannot set NODE_EXTRA_CA_CERTS after start; the system-store switch with
// SSL_CERT_FILE naming the CA's file is the same trust by another door.
const trusted = () => ({ MCP_TOKENS_CA: 'system', SSL_CERT_FILE: tlsFiles.caFile });

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('through a company proxy with a private CA', () => {
  it('fetch (undici) and the bridge path (node:http) both reach the company name through the proxy', async () => {
    setEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1,::1', ...trusted() });
    const before = proxy.passed(NAME);
    const a = await netFetch(target());
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ path: '/doc', host: `${NAME}:${port}` });
    const b = await leanFetch(target(), {});
    expect(b.status).toBe(200);
    expect(JSON.parse(await b.text())).toEqual({ path: '/doc', host: `${NAME}:${port}` });
    expect(proxy.passed(NAME) - before).toBeGreaterThanOrEqual(2);
  });

  it('streams server-sent events through the tunnel on the bridge path', async () => {
    setEnv({ HTTPS_PROXY: proxy.url, ...trusted() });
    const res = await leanFetch(`https://${NAME}:${port}/events`, { headers: { accept: 'text/event-stream' } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('event: endpoint\ndata: /messages\n\ndata: {"n":2}\n\n');
  });

  it('keeps loopback direct: the proxy sees no request for 127.0.0.1', async () => {
    setEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: '', ...trusted() });
    const before = proxy.records.length;
    expect(await (await netFetch(localUrl)).text()).toBe('local');
    expect(await (await leanFetch(localUrl, {})).text()).toBe('local');
    expect(proxy.records.length).toBe(before);
  });

  it('sends the credentials in the proxy URL as Basic; without them says the proxy needs a password', async () => {
    const creds = new URL(authProxy.url);
    creds.username = encodeURIComponent('ann@corp');
    creds.password = encodeURIComponent('p:ss w0rd');
    setEnv({ HTTPS_PROXY: creds.href, ...trusted() });
    expect((await netFetch(target())).status).toBe(200);
    expect((await leanFetch(target(), {})).status).toBe(200);
    expect(authProxy.passed(NAME)).toBeGreaterThanOrEqual(2);

    setEnv({ HTTPS_PROXY: authProxy.url, ...trusted() });
    for (const f of [netFetch, leanFetch]) {
      const e = await failure(f(target(), {}));
      expect(e).toBeInstanceOf(NetworkError);
      expect(e.message).toContain(`The proxy ${authProxy.url} needs a password (HTTP 407) to reach ${NAME}:${port}`);
    }
    expect(authProxy.records.some((r) => r.outcome === 'needs-auth')).toBe(true);
  });

  it('says the certificate is not trusted, naming the host, when the company CA is not given', async () => {
    setEnv({ HTTPS_PROXY: proxy.url });
    for (const f of [netFetch, leanFetch]) {
      const e = await failure(f(target(), {}));
      expect(e).toBeInstanceOf(NetworkError);
      expect(e.message).toMatch(new RegExp(`^The certificate of ${NAME.replace(/\./g, '\\.')} is not trusted \\([A-Z_]+\\).*NODE_EXTRA_CA_CERTS`));
    }
  });

  it('says the proxy cannot be reached, and that a name the proxy refuses is refused', async () => {
    const dead = createHttp();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    setEnv({ HTTPS_PROXY: deadUrl, ...trusted() });
    for (const f of [netFetch, leanFetch]) {
      const e = await failure(f(target(), {}));
      expect(e.message).toContain(`Could not reach the proxy ${deadUrl} (ECONNREFUSED) to connect to ${NAME}:${port}`);
    }
    setEnv({ HTTPS_PROXY: proxy.url, ...trusted() });
    for (const f of [netFetch, leanFetch]) {
      const e = await failure(f('https://elsewhere.example.org/x', {}));
      expect(e.message).toContain(`The proxy ${proxy.url} would not connect to elsewhere.example.org (HTTP 403)`);
    }
  });

  it("Settings' words: where the proxy comes from (credentials never shown) and what a connection test found", async () => {
    const withCreds = new URL(proxy.url);
    withCreds.username = 'ann';
    withCreds.password = 'hunter2-secret';
    setEnv({ HTTPS_PROXY: withCreds.href, NO_PROXY: 'localhost', ...trusted() });
    const st = networkStatus();
    expect(st).toMatchObject({ mode: 'environment', summary: `Proxy from the environment: ${proxy.url}, except localhost.` });
    expect(st.certificates).toMatch(/system’s certificate store/);
    expect(JSON.stringify(st)).not.toContain('hunter2');
    const ok = await testConnection(target());
    expect(ok).toEqual({ ok: true, server: `${NAME}:${port}`, message: `Reached ${NAME}:${port} through the proxy ${proxy.url} (it answered HTTP 200).` });
    setEnv({ HTTPS_PROXY: 'http://127.0.0.1:9', ...trusted() });
    expect(await testConnection(target())).toEqual({ ok: false, server: `${NAME}:${port}`, message: expect.stringContaining('Could not reach the proxy http://127.0.0.1:9 (ECONNREFUSED)') as unknown as string });
    setEnv({});
    const direct = networkStatus();
    expect(direct).toMatchObject({ mode: 'direct', summary: 'Direct: no proxy is set.' });
    // (This machine may set NODE_EXTRA_CA_CERTS for every process; the card then names its file.)
    expect(direct.certificates).toMatch(process.env.NODE_EXTRA_CA_CERTS ? /^Trusted: the built-in authorities, and the company authorities in / : /^Trusted: the built-in authorities\.$/);
  });

  it('uses the system answer (a PAC result) when the environment names no proxy', async () => {
    setEnv(trusted());
    const asked: string[] = [];
    // A proxy of its own, so no tunnel kept alive by an earlier test can serve these requests.
    const sys = await startCorpProxy({ names: [NAME] });
    setSystemProxyResolver(async (u) => {
      asked.push(u);
      return `PROXY 127.0.0.1:${sys.port}; DIRECT`;
    });
    expect((await netFetch(target())).status).toBe(200);
    expect((await leanFetch(target(), {})).status).toBe(200);
    expect(sys.passed(NAME)).toBe(2);
    await sys.close();
    // Asked once per origin (a bridge asks the broker over a socket: not at every request).
    expect(asked).toEqual([target()]);
    // Loopback is never asked about, and never proxied.
    expect(await (await netFetch(localUrl)).text()).toBe('local');
    expect(asked).toHaveLength(1);
  });
});
