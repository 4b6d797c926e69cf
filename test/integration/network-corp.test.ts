// A company laptop, as the product meets it: the MCP server and its authorization server on HTTPS
// with certificates from a private CA, under names only the company proxy resolves, and the
// environment such a laptop has (HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS). The CLI, the broker
// daemon and bridges started by a real stdio client do everything through the proxy, which counts
// it; loopback (the sign-in's redirect listener, the broker) never reaches it.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBridge, textOf } from './bridge-helpers.js';
import { cliEnv, runCli } from './cli-helpers.js';
import { linkCli, refreshesOf, rigFixture } from './rig-fixture.js';
import { makeCorpTls, type CorpTls } from '../rig/corp-tls.js';
import { startCorpProxy, type CorpProxy } from '../rig/corp-proxy.js';
import type { ProfileName } from '../rig/index.js';
import { startModernRig, type ModernRig } from '../rig/modern-server.js';

const MCP = 'mcp.example.corp';
const AS = 'auth.example.corp';
const fx = rigFixture();
let certs: CorpTls;
let proxy: CorpProxy;
let authProxy: CorpProxy;

beforeAll(async () => {
  certs = makeCorpTls([MCP, AS]);
  proxy = await startCorpProxy({ names: [MCP, AS] });
  authProxy = await startCorpProxy({ names: [MCP, AS], credentials: { user: 'ann', password: 'corp pass:1' } });
});
const modernRigs: ModernRig[] = [];
afterAll(async () => {
  await Promise.all(modernRigs.map((r) => r.close()));
  await proxy?.close();
  await authProxy?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

const corpRig = (profile: ProfileName, opts: { accessTokenTtl?: number } = {}) => fx.rig(profile, { ...opts, tls: { key: certs.key, cert: certs.cert, ca: certs.caPem, mcpHost: MCP, asHost: AS } });
const laptop = (home: string, extra: Record<string, string | undefined> = {}) =>
  cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2', HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1,::1', NODE_EXTRA_CA_CERTS: certs.caFile, ...extra });
const loopbackSeen = (p: CorpProxy) => p.records.filter((r) => /^(127\.|localhost|\[::1\])/.test(r.target));

describe('on a company network (HTTPS, private CA, only a proxy resolves the names)', () => {
  it('links, runs a bridge session over Streamable HTTP, refreshes, recovers from an expired token and revokes, all through the proxy', async () => {
    const rig = await corpRig('separate-as');
    const home = await fx.home();
    const env = laptop(home);
    const mcpBefore = proxy.passed(MCP);
    const asBefore = proxy.passed(AS);
    const id = await linkCli(rig.mcpUrl, env);
    expect(rig.mcpUrl.startsWith(`https://${MCP}:`)).toBe(true);
    expect(proxy.passed(MCP)).toBeGreaterThan(mcpBefore);
    expect(proxy.passed(AS)).toBeGreaterThan(asBefore);
    expect(rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code' && t.status === 200)).toHaveLength(1);

    const b = await openBridge(env, id);
    try {
      const tools = await b.client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'through the proxy' } }))).toBe('through the proxy');
      // The server stops taking the live token: the broker refreshes through the proxy, the call succeeds.
      const refreshes = refreshesOf(rig).length;
      rig.mcp.dropLiveTokens();
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after expiry' } }))).toBe('after expiry');
      expect(refreshesOf(rig).slice(refreshes).filter((r) => r.status === 200)).toHaveLength(1);
    } finally {
      await b.close();
    }

    const r = await runCli(['refresh', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(refreshesOf(rig).filter((t) => t.status === 200).length).toBeGreaterThanOrEqual(2);

    const rv = await runCli(['revoke', id, '--json'], env);
    expect(rv.code, rv.stderr).toBe(0);
    // The grant ends at the AS: the refresh token is revoked there (this AS's JWT access tokens
    // cannot be revoked, and it says so in its own words, which reached us through the proxy too).
    expect(rv.stderr).toContain(`Revoked the refresh token at https://${AS}:`);
    expect(rig.as.revocations.some((x) => x.hint === 'refresh_token')).toBe(true);
    const lastRt = rig.as.issuedRefreshTokens.at(-1)!;
    expect(await rig.as.isRefreshTokenActive(lastRt)).toBe(false);
    expect(loopbackSeen(proxy)).toEqual([]);
  }, 240_000);

  it('runs a bridge session over legacy HTTP+SSE through the proxy', async () => {
    const rig = await corpRig('legacy-sse');
    const home = await fx.home();
    const env = laptop(home);
    const id = await linkCli(rig.mcpUrl, env);
    const before = proxy.passed(MCP);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'sse via proxy' } }))).toBe('sse via proxy');
    } finally {
      await b.close();
    }
    expect(proxy.passed(MCP)).toBeGreaterThan(before);
    expect(loopbackSeen(proxy)).toEqual([]);
  }, 240_000);

  it('runs a bridge session with a 2026-07-28 server (the bridge\'s fetch path) through the proxy', async () => {
    const rig = await startModernRig({ tls: { key: certs.key, cert: certs.cert, ca: certs.caPem, host: MCP } });
    modernRigs.push(rig);
    const home = await fx.home();
    const env = laptop(home);
    const id = await linkCli(rig.url, env);
    const before = proxy.passed(MCP);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'modern via proxy' } }))).toBe('modern via proxy');
    } finally {
      await b.close();
    }
    expect(proxy.passed(MCP)).toBeGreaterThan(before);
    expect(loopbackSeen(proxy)).toEqual([]);
  }, 240_000);

  it('sends the credentials in HTTPS_PROXY to a proxy that wants them; without them says the proxy needs a password, and stores nothing', async () => {
    const rig = await corpRig('own-as');
    const creds = new URL(authProxy.url);
    creds.username = 'ann';
    creds.password = encodeURIComponent('corp pass:1');
    const home = await fx.home();
    const id = await linkCli(rig.mcpUrl, laptop(home, { HTTPS_PROXY: creds.href }));
    expect(authProxy.passed(MCP)).toBeGreaterThan(0);
    const b = await openBridge(laptop(home, { HTTPS_PROXY: creds.href }), id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'with creds' } }))).toBe('with creds');
    } finally {
      await b.close();
    }

    const bare = await fx.home();
    const r = await runCli(['link', rig.mcpUrl, '--json'], laptop(bare, { HTTPS_PROXY: authProxy.url }), { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The proxy ${authProxy.url} needs a password (HTTP 407) to reach ${new URL(rig.mcpUrl).host}`);
    const list = await runCli(['list', '--json'], laptop(bare, { HTTPS_PROXY: authProxy.url }));
    expect((JSON.parse(list.stdout) as { servers: unknown[] }).servers).toEqual([]);
    expect(r.stderr + list.stderr).not.toContain('corp pass');
  }, 240_000);

  it('trusts the company CA from the system store with MCP_TOKENS_CA=system (SSL_CERT_FILE names the store here), in the CLI, the daemon and the bridge', async () => {
    const rig = await corpRig('own-as');
    const home = await fx.home();
    const env = laptop(home, { NODE_EXTRA_CA_CERTS: undefined, MCP_TOKENS_CA: 'system', SSL_CERT_FILE: certs.caFile });
    delete env.NODE_EXTRA_CA_CERTS;
    const id = await linkCli(rig.mcpUrl, env);
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'system store' } }))).toBe('system store');
    } finally {
      await b.close();
    }
    const r = await runCli(['refresh', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    // A value it does not know is refused in words, before anything is sent.
    const bad = await runCli(['link', rig.mcpUrl, '--json'], { ...env, MCP_TOKENS_CA: 'windows' }, { timeoutMs: 30_000 });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('MCP_TOKENS_CA="windows" is not understood');
  }, 240_000);

  it('a revoke that cannot reach the authorization server (proxy down) says so and never claims the grant ended', async () => {
    const rig = await corpRig('own-as');
    const home = await fx.home();
    const id = await linkCli(rig.mcpUrl, laptop(home));
    const rt = rig.as.issuedRefreshTokens.at(-1)!;
    const before = rig.as.revocations.length;
    const r = await runCli(['revoke', id, '--json'], laptop(home, { HTTPS_PROXY: 'http://127.0.0.1:9' }), { timeoutMs: 60_000 });
    expect(r.stderr).toContain(`did not confirm the revocation: no answer (Could not reach the proxy http://127.0.0.1:9 (ECONNREFUSED) to connect to ${new URL(rig.mcpUrl).host}`);
    expect(r.stderr).toMatch(/the grant may stay valid there/);
    expect(r.stderr).not.toMatch(/^Revoked the /m);
    expect(rig.as.revocations.length).toBe(before);
    expect(await rig.as.isRefreshTokenActive(rt)).toBe(true);
  }, 240_000);

  it('without the company CA: says the certificate is not trusted, naming the host; without the proxy: says the name cannot be found; a proxy that is down: says so', async () => {
    const rig = await corpRig('own-as');
    const host = new URL(rig.mcpUrl).hostname;
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ NODE_EXTRA_CA_CERTS: undefined }, new RegExp(`The certificate of ${host.replace(/\./g, '\\.')} is not trusted \\([A-Z_]+\\)\\. A company certificate authority\\? Set NODE_EXTRA_CA_CERTS`)],
      [{ HTTPS_PROXY: undefined }, new RegExp(`Could not find ${host.replace(/\./g, '\\.')} \\((ENOTFOUND|EAI_AGAIN)\\)\\. .*set HTTPS_PROXY`)],
      [{ HTTPS_PROXY: 'http://127.0.0.1:9' }, new RegExp(`Could not reach the proxy http://127\\.0\\.0\\.1:9 \\(ECONNREFUSED\\) to connect to ${host.replace(/\./g, '\\.')}`)],
    ];
    for (const [extra, words] of cases) {
      const home = await fx.home();
      const env = laptop(home, extra);
      for (const k of Object.keys(extra)) if (extra[k] === undefined) delete env[k];
      const r = await runCli(['link', rig.mcpUrl, '--json'], env, { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(words);
      const list = await runCli(['list', '--json'], env);
      expect((JSON.parse(list.stdout) as { servers: unknown[] }).servers).toEqual([]);
    }
  }, 240_000);
});
