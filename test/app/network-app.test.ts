// The app on a company network: no proxy variables anywhere, the proxy comes from the system's
// settings (the double's session.resolveProxy answers with a PAC result) and the company CA from
// the system's trust store (SSL_CERT_FILE stands for it in the double's Node). The app links a
// server only the proxy can reach; a bridge started as an MCP client would (no proxy variables)
// gets the same answer from the broker inside the app. The proxy counts every request.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import type { Api } from '../../src-shared/contract.js';
import { BIN, cliEnv, PERSON, tempHome } from '../integration/cli-helpers.js';
import { textOf } from '../integration/bridge-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { makeCorpTls, type CorpTls } from '../rig/corp-tls.js';
import { startCorpProxy, type CorpProxy } from '../rig/corp-proxy.js';
import { type AppProcess, launchApp, processesUsing, requireBuilt } from './harness.js';

const MCP = 'mcp.example.corp';
let certs: CorpTls;
let proxy: CorpProxy;
let rig: Rig;
let home: string;
let app: AppProcess;
let page: Page;

/** The person's browser, on the same laptop: it goes through the company proxy and trusts the company CA. */
function personAt(url: string): Promise<number | null> {
  const child = spawn(process.execPath, [PERSON, url], { env: { PATH: process.env.PATH, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost', NODE_EXTRA_CA_CERTS: certs.caFile }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', resolve));
}

describe('the app on a company network (system proxy from PAC, company CA from the system store)', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    requireBuilt();
    certs = makeCorpTls([MCP]);
    proxy = await startCorpProxy({ names: [MCP] });
    rig = await startRig('own-as', { tls: { key: certs.key, cert: certs.cert, ca: certs.caPem, mcpHost: MCP, asHost: MCP } });
    home = await tempHome();
    app = launchApp({ home, env: { ELECTRON_DOUBLE_PAC: `PROXY 127.0.0.1:${proxy.port}; DIRECT`, SSL_CERT_FILE: certs.caFile } });
  });

  afterAll(async () => {
    await app?.detach();
    if (app && app.child.exitCode === null) app.child.kill('SIGKILL');
    for (const p of home ? processesUsing(home) : []) process.kill(p.pid, 'SIGKILL');
    await rig?.close();
    await proxy?.close();
    if (home) await rm(home, { recursive: true, force: true });
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  });

  it('links through the proxy the system names, asking the system only about remote URLs', async () => {
    page = await app.page();
    await page.getByRole('heading', { level: 2, name: 'Servers' }).waitFor({ timeout: 90_000 });
    const opened = (await app.state()).openedExternal.length;
    const linking = page.evaluate((url) => (window as unknown as { mcpTokens: Api }).mcpTokens['servers/link']({ url, flow: 'browser' }), rig.mcpUrl);
    const s = await app.until('the sign-in opened in the browser', (x) => x.openedExternal.length > opened, 60_000);
    expect(await personAt(s.openedExternal.at(-1)!)).toBe(0);
    const linked = (await linking) as { server: { id: string } };
    expect(linked.server.id).toBeTruthy();
    expect(proxy.passed(MCP)).toBeGreaterThan(0);
    const state = await app.state();
    expect(state.proxyQueries.some((u) => new URL(u).hostname === MCP)).toBe(true);
    // The redirect listener and other local addresses never go to the system's resolver, nor the proxy.
    expect(state.proxyQueries.filter((u) => /^(127\.|localhost$|\[::1\]$)/.test(new URL(u).hostname))).toEqual([]);
    expect(proxy.records.filter((r) => r.target.startsWith('127.'))).toEqual([]);
  });

  it('a bridge started without proxy variables gets the proxy from the app, through the broker', async () => {
    const id = ((await page.evaluate(() => (window as unknown as { mcpTokens: Api }).mcpTokens['servers/list']())) as Array<{ id: string }>)[0]!.id;
    const before = proxy.passed(MCP);
    // As Claude Desktop starts it: no HTTPS_PROXY; the company CA is set for every process by IT.
    const env = cliEnv(home, { NODE_EXTRA_CA_CERTS: certs.caFile });
    expect(env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY).toBeUndefined();
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', id], env: env as Record<string, string>, stderr: 'pipe' }));
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via the app proxy' } }))).toBe('via the app proxy');
    } finally {
      await client.close();
    }
    // Only the proxy can reach that name: the bridge went through it.
    expect(proxy.passed(MCP)).toBeGreaterThan(before);
    // What the bridge asked: the broker (the app) answers with the system's PAC result.
    const broker = new BrokerClient({ address: brokerAddress(home) });
    try {
      expect(await broker.request('resolveProxy', { url: rig.mcpUrl }, 5000)).toEqual({ pac: `PROXY 127.0.0.1:${proxy.port}; DIRECT` });
      expect(await broker.request('resolveProxy', { url: 'http://127.0.0.1:9/x' }, 5000)).toEqual({ pac: null });
    } finally {
      broker.close();
    }
    expect(processesUsing(home).filter((p) => / daemon\b/.test(p.cmd))).toEqual([]);
  });
});
