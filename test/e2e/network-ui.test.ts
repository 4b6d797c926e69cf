// Settings' Network card in Chromium, over `mcp-tokens ui` started with a company laptop's
// environment: it says the proxy comes from the environment (no credentials shown), and "Test
// connection" reaches a linked server that only the test proxy can reach, then says in words
// what fails once the proxy wants a password.
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../integration/bridge-helpers.js';
import { cliEnv, runCli, tempHome } from '../integration/cli-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { makeCorpTls, type CorpTls } from '../rig/corp-tls.js';
import { startCorpProxy, type CorpProxy } from '../rig/corp-proxy.js';
import { auditScreen, launchChromium, requirePrerequisites, startUi, type UiProcess } from './helpers.js';

const MCP = 'mcp.example.corp';
let certs: CorpTls;
let proxy: CorpProxy;
let locked: CorpProxy;
let rig: Rig;
let home: string;
let browser: Browser;
let page: Page;
const uis: UiProcess[] = [];
const problems: string[] = [];

describe('Settings: the Network card', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await requirePrerequisites();
    certs = makeCorpTls([MCP]);
    proxy = await startCorpProxy({ names: [MCP] });
    locked = await startCorpProxy({ names: [MCP], credentials: { user: 'u', password: 'p' } });
    rig = await startRig('own-as', { tls: { key: certs.key, cert: certs.cert, ca: certs.caPem, mcpHost: MCP, asHost: MCP } });
    home = await tempHome();
    const r = await runCli(['link', rig.mcpUrl, '--name', 'corp', '--json'], cliEnv(home, { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost', NODE_EXTRA_CA_CERTS: certs.caFile }));
    expect(r.code, r.stderr).toBe(0);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => problems.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const u of uis) await u.close();
    if (home) await stopBroker(home);
    await rig?.close();
    await proxy?.close();
    await locked?.close();
    if (home) await rm(home, { recursive: true, force: true });
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  });

  async function settingsWith(proxyUrl: string) {
    const ui = await startUi(cliEnv(home, { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1,localhost', NODE_EXTRA_CA_CERTS: certs.caFile }));
    uis.push(ui);
    await page.goto(ui.url);
    await page.goto(`${page.url().split('#')[0]!}#/settings`);
    const card = page.getByRole('region', { name: /^Network: / });
    await card.getByRole('heading', { name: 'Network: proxy from environment' }).waitFor({ timeout: 15_000 });
    return card;
  }

  it('shows the proxy from the environment and reaches the server through it', async () => {
    const card = await settingsWith(proxy.url);
    expect(await card.textContent()).toContain(`Proxy from the environment: ${proxy.url}, except 127.0.0.1,localhost.`);
    expect(await card.textContent()).toContain(certs.caFile);
    const before = proxy.passed(MCP);
    await card.getByRole('button', { name: 'Test connection' }).click();
    const host = new URL(rig.mcpUrl).host;
    await card.getByText(`Reached ${host} through the proxy ${proxy.url} (it answered HTTP`).waitFor({ timeout: 20_000 });
    expect(proxy.passed(MCP)).toBeGreaterThan(before);
    await auditScreen(page, undefined, { themes: ['light'] });
  });

  it('says the proxy needs a password, naming it and the server, and never shows credentials', async () => {
    const withCreds = new URL(locked.url);
    withCreds.username = 'u';
    withCreds.password = 'wrong-secret';
    const card = await settingsWith(withCreds.href);
    expect(await card.textContent()).not.toContain('wrong-secret');
    await card.getByRole('button', { name: 'Test connection' }).click();
    const host = new URL(rig.mcpUrl).host;
    await card.getByText(`The proxy ${locked.url} refused the user name and password in the proxy URL (HTTP 407) for ${host}.`).waitFor({ timeout: 20_000 });
    expect(await card.textContent()).not.toContain('wrong-secret');
    expect(problems).toEqual([]);
  });
});
