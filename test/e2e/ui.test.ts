// The renderer in real Chromium against `mcp-tokens ui` and the real rig: add a server through
// the consent card (the scripted person completes the browser step), then see it Connected.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, tempHome } from '../integration/cli-helpers.js';
import { launchChromium, readUrl, recordTraffic, requirePrerequisites, SHOTS } from './helpers.js';
import { type Rig, startRig } from '../rig/index.js';


let rig: Rig;
let home: string;
let ui: ChildProcess | undefined;
let uiUrl: string;
/** The session's page the launch link redirects to. */
let appUrl: string;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
/** Every API answer and every event the renderer received, to prove none carries a token. */
const apiBodies: string[] = [];
const pending: Array<Promise<unknown>> = [];

async function everythingTheRendererSaw(): Promise<string> {
  await Promise.allSettled(pending);
  const events = (await page.evaluate(() => (window as unknown as { __events?: string[] }).__events ?? [])) as string[];
  expect(apiBodies.length).toBeGreaterThan(5);
  expect(events.length).toBeGreaterThan(0);
  return [...apiBodies, ...events, await page.content()].join('\n');
}


describe('manager UI in Chromium', () => {
  beforeAll(async () => {
    await requirePrerequisites();
    rig = await startRig('own-as');
    home = await tempHome();
    ui = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    uiUrl = await readUrl(ui);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    // CSP refusals and script errors would mean the strict policy and the bundle disagree.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await recordTraffic(page, apiBodies, pending);
  });

  afterAll(async () => {
    await browser?.close();
    if (ui && ui.exitCode === null) {
      ui.kill('SIGTERM');
      await new Promise((r) => ui!.once('exit', r));
    }
    await rig?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('adds a server through the consent card and lists it Connected', async () => {
    // The one-shot launch link opens a session and redirects to the session's page.
    await page.goto(uiUrl);
    expect(new URL(page.url()).pathname).toMatch(/^\/s\/[\w-]+\/$/);
    appUrl = page.url().split('#')[0]!;
    await expect.poll(() => page.getByRole('heading', { level: 2, name: 'Servers' }).isVisible()).toBe(true);
    await page.getByRole('heading', { name: 'No servers yet: three steps to get going' }).waitFor();
    await page.screenshot({ path: join(SHOTS, '1-servers-empty.png'), fullPage: true });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Add a server' }).click();
    await page.getByLabel('MCP server URL').fill(rig.mcpUrl);
    await page.getByRole('button', { name: 'Continue' }).click();

    const card = page.getByRole('article').filter({ has: page.getByRole('heading', { name: /^Add .+\?$/ }) });
    await card.waitFor({ timeout: 20_000 });
    const issuerHost = new URL(rig.as.issuer).host;
    await expect.poll(() => card.textContent()).toContain(issuerHost);
    expect(await card.textContent()).toContain('Dynamic registration');
    expect(await card.textContent()).toContain('mcp:tools');
    expect(await card.textContent()).toContain('Use the server’s tools');
    // Plain http on 127.0.0.1: the card says so.
    expect(await card.textContent()).toContain('Not encrypted.');
    const browserChoice = card.getByRole('radio', { name: /Browser/ });
    if (await browserChoice.count()) await browserChoice.check();
    await page.screenshot({ path: join(SHOTS, '2-consent-card.png'), fullPage: true });

    await card.getByRole('button', { name: 'Approve and sign in' }).click();
    await page.getByRole('heading', { name: /^Added / }).waitFor({ timeout: 45_000 });
    // The button writes Claude Desktop's config (under the test's HOME) and says where; then it
    // reads "In Claude Desktop ✓ · Remove".
    await page.getByRole('button', { name: 'Add to Claude Desktop' }).click();
    await page.getByText(/^Added to Claude Desktop \(.*claude_desktop_config\.json, a new file\); restart Claude Desktop to use it\.$/).waitFor({ timeout: 10_000 });
    await page.getByText('In Claude Desktop ✓').waitFor({ timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'Add to Claude Desktop' }).count()).toBe(0);
    // Keyboard focus moved to the button that replaced the one pressed, not to the page.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName)).toBe('Take it out of Claude Desktop');
    // Copying the entry by hand stays possible; it is the entry written, env included, and
    // the step does not ask to add what was just added.
    await page.getByRole('button', { name: 'Show the config to copy' }).click();
    const snippet = page.locator('pre.code').filter({ hasText: 'bridge' }).first();
    await snippet.waitFor();
    const shownText = (await page.locator('pre.code').textContent()) ?? '';
    expect(shownText).toMatch(/mcp-tokens[\s\S]*bridge/);
    const written = JSON.parse(await readFile(join(home, '.config', 'Claude', 'claude_desktop_config.json'), 'utf8')) as { mcpServers: Record<string, unknown> };
    expect(JSON.parse(shownText)).toEqual({ mcpServers: written.mcpServers });
    expect(JSON.stringify(written.mcpServers)).toContain('MCP_TOKENS_HOME');
    expect(await page.getByText(/^Add this to/).count()).toBe(0);
    expect(await page.getByText('This is the entry now in', { exact: false }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, '3-linked.png'), fullPage: true });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Servers' }).click();
    const list = page.getByRole('list', { name: 'Linked servers' });
    await list.waitFor();
    const item = list.getByRole('listitem').filter({ hasText: 'Rig MCP server (own-as)' });
    await expect.poll(() => item.getByText('Connected', { exact: true }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await item.textContent()).toContain(new URL(rig.mcpUrl).host);
    await page.screenshot({ path: join(SHOTS, '4-servers-connected.png'), fullPage: true });

    // The detail screen shows the grant's facts and never a token.
    await item.getByRole('button').first().click();
    await page.getByRole('heading', { level: 3, name: 'Token' }).waitFor();
    expect(await page.getByText('present', { exact: true }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, '5-server-detail.png'), fullPage: true });
    const html = await page.content();
    const issued = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    expect(issued.length).toBeGreaterThan(0);
    for (const t of issued) expect(html).not.toContain(t);

    // The hand-over route main uses for a link opened with the app: discovery starts by itself,
    // and the card knows the server is linked already.
    await page.goto(`${appUrl}#/add?url=${encodeURIComponent(rig.mcpUrl)}`);
    await page.getByRole('heading', { name: /^Add .+\?$/ }).waitFor({ timeout: 20_000 });
    expect(await page.getByText(/already in your list as/).isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('#/add');

    expect(problems).toEqual([]);
  });

  it('refreshes, signs out, re-authorizes and removes from the detail screen, checked at the AS', async () => {
    await page.goto(appUrl);
    const list = page.getByRole('list', { name: 'Linked servers' });
    const item = list.getByRole('listitem').filter({ hasText: 'Rig MCP server (own-as)' });
    await item.waitFor();
    await item.getByRole('button').first().click();
    await page.getByRole('heading', { level: 3, name: 'Actions' }).waitFor();

    const refreshesBefore = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token' && t.status === 200).length;
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect.poll(() => rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token' && t.status === 200).length, { timeout: 10_000 }).toBe(refreshesBefore + 1);
    await page.getByRole('button', { name: 'Refresh now' }).waitFor();

    // Sign out asks first; Cancel changes nothing.
    await page.getByRole('button', { name: 'Sign out' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(rig.as.revocations).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => rig.as.revocations.length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.getByText('Signed out', { exact: true }).first().isVisible(), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: join(SHOTS, '6-revoked.png'), fullPage: true });

    // Re-authorize runs the browser flow (the scripted person approves) and the server is back.
    const codesBefore = rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code' && t.status === 200).length;
    await page.getByRole('button', { name: 'Sign in again' }).click();
    await expect.poll(() => rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code' && t.status === 200).length, { timeout: 30_000 }).toBe(codesBefore + 1);
    await expect.poll(() => page.getByText('Connected', { exact: true }).first().isVisible(), { timeout: 10_000 }).toBe(true);

    // Remove forgets it (and, as offered, its Claude Desktop entry).
    await page.getByRole('button', { name: 'Remove server', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('heading', { name: 'No servers yet: three steps to get going' }).waitFor({ timeout: 10_000 });
    const seen = await everythingTheRendererSaw();
    const issued = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    expect(issued.length).toBeGreaterThanOrEqual(4);
    for (const t of issued) expect(seen).not.toContain(t);
    expect(problems).toEqual([]);
  });
});
