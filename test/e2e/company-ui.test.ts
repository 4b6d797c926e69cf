// Issue 25 in the app, in real Chromium against `mcp-tokens ui` and the company rig: Settings →
// Company sign-in adds the company's IdP and signs the person in (the browser played by the
// scripted person); "Add a server" offers "Sign in with acme" for a server whose AS takes the
// JWT bearer grant, and the server's page says how it is signed in; a real bridge then works.
// When the company ends the session, Settings says so and one sign-in brings the server back.
// No answer or event the page received holds the client secret or a token.
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBridge, stopBroker, textOf } from '../integration/bridge-helpers.js';
import { cliEnv, runCli, tempHome } from '../integration/cli-helpers.js';
import { type Company, startCompany } from '../rig/company.js';
import { auditScreen, launchChromium, recordTraffic, requirePrerequisites, startUi, type UiProcess } from './helpers.js';

const SECRET = 'desktop-secret-E2E-0123456789';

let c: Company;
let home: string;
let env: NodeJS.ProcessEnv;
let ui: UiProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let appUrl: string;
let serverId: string;
const problems: string[] = [];
const minor: string[] = [];
const apiBodies: string[] = [];
const pending: Array<Promise<unknown>> = [];

const section = () => page.getByRole('region', { name: 'Company sign-in', exact: true });

describe('company sign-in in the manager UI (Chromium)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    await requirePrerequisites();
    c = await startCompany({ accessTokenTtl: 2, idTokenTtl: 2, asClients: { 'company-desktop': { secret: SECRET, grants: [] } } });
    home = await tempHome();
    env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    ui = await startUi(env);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await recordTraffic(page, apiBodies, pending);
    await page.goto(ui.url);
    appUrl = page.url().split('#')[0]!;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    if (home) await stopBroker(home);
    await c?.close();
    if (home) await rm(home, { recursive: true, force: true });
    if (minor.length) console.log(`axe findings below serious (${minor.length}):\n${[...new Set(minor)].join('\n')}`);
  });

  it('adds the company IdP in Settings and signs in through the browser', async () => {
    await page.goto(`${appUrl}#/settings`);
    await section().waitFor({ timeout: 15_000 });
    // Checked in the window's words before anything is sent.
    await section().getByRole('button', { name: 'Add and sign in' }).click();
    expect(await section().getByRole('alert').textContent()).toContain('Give it a short name');
    await section().getByLabel('Name').fill('acme');
    await section().getByLabel('Identity provider address (issuer)').fill(c.idp.issuer);
    await section().getByLabel('Client ID for this app').fill(c.idp.clientId);
    await section().getByRole('button', { name: 'Add and sign in' }).click();
    await section().getByText('Signed in as ALICE (alice@company.example)').first().waitFor({ timeout: 30_000 });
    expect(await section().getByRole('listitem', { name: 'Identity provider acme' }).textContent()).toContain('No server uses it yet.');
    minor.push(...(await auditScreen(page, undefined, { fullPage: true })));
    expect(problems).toEqual([]);
  });

  it('"Add a server" offers "Sign in with acme" where the AS takes the JWT bearer grant; the server page says how it is signed in', async () => {
    await page.goto(`${appUrl}#/add`);
    await page.getByLabel('MCP server URL').fill(c.mcpUrl);
    await page.getByRole('button', { name: 'Continue' }).click();
    const offer = page.getByRole('region', { name: 'Company sign-in' });
    await offer.waitFor({ timeout: 20_000 });
    await offer.getByRole('button', { name: 'Sign in with acme' }).click();
    expect(await offer.getByRole('alert').textContent()).toContain('Enter the client ID');
    await offer.getByLabel('Client ID for this app at the server').fill('company-desktop');
    await offer.getByLabel('Client secret (if your administrator gave one)').fill(SECRET);
    minor.push(...(await auditScreen(page)));
    await offer.getByRole('button', { name: 'Sign in with acme' }).click();
    await page.getByText('Company sign-in through acme').first().waitFor({ timeout: 30_000 });
    serverId = decodeURIComponent(page.url().split('#/servers/')[1] ?? '');
    expect(serverId).not.toBe('');
    const st = JSON.parse((await runCli(['status', serverId, '--json'], env)).stdout) as { grant: { label: string } };
    expect(st.grant.label).toBe('Company sign-in through acme');
    const s = await openBridge(env, serverId);
    try {
      expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
    } finally {
      await s.close();
    }
  });

  it('when the company ends the session, Settings says so, and one sign-in brings the server back', async () => {
    c.idp.endSession();
    await new Promise((r) => setTimeout(r, 2500)); // the access token and the ID token expire
    const refresh = await runCli(['refresh', serverId], env);
    expect(refresh.code).toBe(1);
    expect(refresh.stderr).toContain('Your sign-in to acme has ended');
    await page.goto(`${appUrl}#/settings`);
    const row = section().getByRole('listitem', { name: 'Identity provider acme' });
    await row.getByText(/^Not signed in: acme refused to renew the sign-in/).waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: 'Sign in to acme' }).click();
    await section().getByText(/^Signed in to acme as ALICE/).waitFor({ timeout: 30_000 });
    const ok = await runCli(['refresh', serverId], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(problems).toEqual([]);
  });

  it('no answer or event the page received holds the client secret or a token', async () => {
    await Promise.allSettled(pending);
    const events = (await page.evaluate(() => (window as unknown as { __events?: string[] }).__events ?? [])) as string[];
    expect(apiBodies.some((b) => b.includes('alice@company.example'))).toBe(true);
    for (const text of [...apiBodies, ...events, await page.content()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    }
  });
});
