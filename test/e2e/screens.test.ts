// Issue 19 in real Chromium against `mcp-tokens ui` and the real rig: the first-run guide, two
// windows while a server is added, the Servers rows (badge, countdown, last used after a real
// bridge call, search, filter), a bridge's consent dialog naming its client at 800×600, the
// Clients page writing Claude Desktop's config (checked on disk), Remove with entry removal,
// Activity, Settings kept in the data dir, and a denied sign-in worded for the UI. axe-core
// runs on every screen in light and dark; each screen is photographed (into docs/screenshots with UPDATE_SCREENSHOTS=1).
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, cliEnv, tempHome } from '../integration/cli-helpers.js';
import { openBridge, textOf, type BridgeSession } from '../integration/bridge-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { auditScreen, launchChromium, requirePrerequisites, startUi, type UiProcess } from './helpers.js';

const CLI_WORDS = /mcp-tokens|Run the command|Ctrl-C|--flow|--client-id|tray →/;

let rig: Rig;
let rig2: Rig;
let home: string;
let claudeFile: string;
let ui: UiProcess;
let browser: Browser | undefined;
let context: BrowserContext;
let a: Page;
let b: Page;
/** The session's page (the launch link is one-shot). */
let appUrl: string;
const problems: string[] = [];
const minor: string[] = [];
const bridges: BridgeSession[] = [];

function watch(p: Page, label: string, expected?: RegExp) {
  p.on('console', (m) => {
    if (m.type() === 'error' && !(expected && expected.test(m.text()))) problems.push(`${label}: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
}

const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true }).click();
const rows = (p: Page) => p.getByRole('list', { name: 'Linked servers' }).getByRole('listitem');
const row = (p: Page, text: string | RegExp) => rows(p).filter({ hasText: text });
/** A port nothing listens on (bound, then closed). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A bridge whose client sends its initialize only `delayMs` after starting it (a slow client). */
async function openSlowBridge(env: NodeJS.ProcessEnv, target: string, name: string, delayMs: number): Promise<BridgeSession> {
  const real = new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', target], env: env as Record<string, string>, stderr: 'pipe' });
  const slow = new Proxy(real, {
    get(t, k) {
      if (k === 'start') return async () => (await t.start(), await new Promise((r) => setTimeout(r, delayMs)));
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(slow);
  return { client, stderr: () => '', close: () => client.close() };
}

const claudeConfig = async () => JSON.parse(await readFile(claudeFile, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> };

// axe-core in Chromium takes seconds per run on a busy 2-core machine: generous per-test bounds.
describe('manager UI screens (issue 19) in Chromium', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    await requirePrerequisites();
    [rig, rig2] = await Promise.all([startRig('own-as'), startRig('legacy-sse')]);
    home = await tempHome();
    // Claude Desktop looks installed: its config folder exists, with no file yet.
    claudeFile = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await mkdir(dirname(claudeFile), { recursive: true });
    // No demo server answers here (a closed port): none is offered.
    ui = await startUi(cliEnv(home, { MCP_TOKENS_DEMO_URL: 'http://127.0.0.1:9/mcp' }));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    a = await context.newPage();
    b = await context.newPage();
    watch(a, 'window A');
    watch(b, 'window B');
  });

  afterAll(async () => {
    for (const s of bridges) await s.close().catch(() => undefined);
    await browser?.close();
    await ui?.close();
    await Promise.all([rig?.close(), rig2?.close()]);
    if (home) await rm(home, { recursive: true, force: true });
    if (minor.length) console.log(`axe findings below serious (${minor.length}):\n${[...new Set(minor)].join('\n')}`);
  });

  it('first run: the empty state guides, and two windows stay consistent while a server is added', async () => {
    await a.goto(ui.url);
    appUrl = a.url().split('#')[0]!;
    await b.goto(appUrl);
    for (const p of [a, b]) await p.getByRole('heading', { name: 'No servers yet: three steps to get going' }).waitFor({ timeout: 15_000 });
    expect(await a.getByRole('button', { name: 'Try the demo server' }).count()).toBe(0);
    // No mcp-remote anywhere: no import offered.
    expect(await a.getByRole('button', { name: 'Import from mcp-remote' }).count()).toBe(0);
    minor.push(...(await auditScreen(a, 'servers-empty')));

    await nav(a, 'Add a server');
    // Where the person approves, the weak key storage is said (the tests run with no keyring).
    expect(await a.getByRole('note', { name: 'Weak protection of tokens' }).isVisible()).toBe(true);
    // A port out of range is refused in the field, in words for it.
    const field = a.getByLabel('MCP server URL');
    await field.fill('http://127.0.0.1:99999/mcp');
    await a.getByRole('button', { name: 'Continue' }).click();
    await a.getByRole('alert').filter({ hasText: 'The port must be a number from 1 to 65535; this address has “99999”.' }).waitFor();
    // Nothing listening is told apart from a timeout or an unknown name, without terminal words.
    const closed = await freePort();
    await field.fill(`http://127.0.0.1:${closed}/mcp`);
    await a.getByRole('button', { name: 'Continue' }).click();
    const refused = a.getByRole('alert').filter({ hasText: 'Could not set up this server' });
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.textContent()).toContain(`Nothing is listening at 127.0.0.1:${closed}`);
    expect(await refused.textContent()).not.toMatch(CLI_WORDS);
    // The refused discovery answers 422, which Chromium logs: that one is expected.
    await expect.poll(() => problems.findIndex((p) => /^window A: .*status of 422/.test(p))).toBeGreaterThanOrEqual(0);
    problems.splice(problems.findIndex((p) => /^window A: .*status of 422/.test(p)), 1);
    minor.push(...(await auditScreen(a, 'add-error')));
    await a.getByLabel('MCP server URL').fill(rig.mcpUrl);
    minor.push(...(await auditScreen(a, 'add')));
    await a.getByRole('button', { name: 'Continue' }).click();
    const card = a.getByRole('article').filter({ has: a.getByRole('heading', { name: /^Add .+\?$/ }) });
    await card.waitFor({ timeout: 20_000 });
    // Scopes in plain words, the raw name beside.
    expect(await card.getByRole('list', { name: 'Scopes' }).textContent()).toMatch(/Use the server’s tools\s*mcp:tools/);
    minor.push(...(await auditScreen(a, 'consent-card', { fullPage: true })));
    // At 800×600 "Approve and sign in" is in view without scrolling (the card's buttons stick to the bottom).
    await a.setViewportSize({ width: 800, height: 600 });
    const approveBox = await card.getByRole('button', { name: 'Approve and sign in' }).boundingBox();
    expect(approveBox).not.toBeNull();
    expect(approveBox!.y + approveBox!.height).toBeLessThanOrEqual(600);
    expect(approveBox!.y).toBeGreaterThanOrEqual(0);
    minor.push(...(await auditScreen(a, 'consent-card-800x600', { themes: ['light'] })));
    await a.setViewportSize({ width: 1280, height: 800 });
    // Window B saw the discovery's progress events: none may leave a card behind.
    await b.waitForTimeout(300);
    expect(await b.getByRole('heading', { name: 'Sign-ins in progress' }).count()).toBe(0);

    await card.getByRole('button', { name: 'Approve and sign in' }).click();
    await a.getByRole('heading', { name: /^Added / }).waitFor({ timeout: 45_000 });
    // The server's own name (RFC 9728 resource_name), not local-<port>.
    expect(await a.getByRole('heading', { name: /^Added / }).textContent()).toBe('Added Rig MCP server (own-as)');
    minor.push(...(await auditScreen(a, 'linked')));

    // Window B: the new row is there (pushed), and no "in progress" card is stuck.
    await row(b, 'Rig MCP server (own-as)').waitFor({ timeout: 10_000 });
    await b.waitForTimeout(500);
    expect(await b.getByRole('heading', { name: 'Sign-ins in progress' }).count()).toBe(0);
    expect(await b.getByText('Working…').count()).toBe(0);
    await nav(a, 'Servers');
    expect(await a.getByRole('heading', { name: 'Sign-ins in progress' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('Servers rows: badge, countdown, last used after a bridge call, search and filter', async () => {
    const r = row(a, 'Rig MCP server (own-as)');
    await r.waitFor();
    expect(await r.getByText('Connected', { exact: true }).isVisible()).toBe(true);
    expect(await r.textContent()).toMatch(/Expires in (59|60) min/);
    expect(await r.textContent()).toContain('Not used yet');
    // A healthy row asks for nothing: no sign-in button, and the countdown says it renews by itself.
    expect(await r.getByRole('button', { name: /Sign in again|Re-authorize/ }).count()).toBe(0);
    expect(await r.textContent()).toContain('renews by itself');

    // A real bridge, as Claude Desktop launches it, calls a tool: the row says who, and when.
    // Its id comes from the name approved on the card.
    const s = await openBridge(cliEnv(home), 'rig-mcp-server-own-as', { name: 'e2e-desktop' });
    bridges.push(s);
    await s.client.listTools();
    await expect.poll(() => r.textContent(), { timeout: 10_000 }).toMatch(/Last used by e2e-desktop just now/);

    // The detail screen counts down to the second.
    await r.getByRole('button', { name: 'Rig MCP server (own-as)', exact: true }).click();
    const countdown = a.locator('.countdown').first();
    const first = await countdown.textContent();
    await expect.poll(() => countdown.textContent(), { timeout: 5000 }).not.toBe(first);
    expect(first).toMatch(/^expires in \d+ min( \d+ s)?$/);
    // "Added to" (client configs) and "Used by" (clients that used it) from one record: no contradiction.
    const facts = a.locator('dl.facts');
    expect(await facts.textContent()).toMatch(/Added tono client’s config yet/);
    expect(await facts.textContent()).toMatch(/Used bye2e-desktop \(just now\)/);
    expect(await facts.textContent()).not.toContain('Not used yet');
    expect(await a.getByRole('region', { name: 'Token' }).getByRole('note', { name: 'Weak protection of tokens' }).isVisible()).toBe(true);
    minor.push(...(await auditScreen(a, 'server-detail', { fullPage: true })));
    // At 800×600 the audience URL wraps after a slash, never inside the host.
    await a.setViewportSize({ width: 800, height: 600 });
    const host = new URL(rig.mcpUrl).host;
    const hostLines = await a
      .getByRole('region', { name: 'Token' })
      .locator('.url-wrap')
      .first()
      .evaluate((el, h) => {
        // The line boxes the host's characters sit on: one when it is not broken.
        const text = el.textContent ?? '';
        const at = text.indexOf(h);
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        const tops = new Set<number>();
        let offset = 0;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const len = n.textContent?.length ?? 0;
          for (let i = 0; i < len; i++) {
            if (offset + i >= at && offset + i < at + h.length) {
              const r = document.createRange();
              r.setStart(n, i);
              r.setEnd(n, i + 1);
              tops.add(Math.round(r.getBoundingClientRect().top));
            }
          }
          offset += len;
        }
        return tops.size;
      }, host);
    expect(hostLines).toBe(1);
    minor.push(...(await auditScreen(a, 'server-detail-800x600', { themes: ['light'], fullPage: true })));
    await a.setViewportSize({ width: 1280, height: 800 });
    await a.getByRole('button', { name: '← All servers' }).click();

    // A second server, linked by a bridge started with its URL: the app asks first, naming the client.
    await a.setViewportSize({ width: 800, height: 600 });
    // This client is slow to start: its initialize comes 4 s after the bridge (which waits 2 s for it).
    const pending = openSlowBridge(cliEnv(home), rig2.mcpUrl, 'e2e-cursor', 4000);
    const dialog = a.getByRole('dialog');
    await dialog.waitFor({ timeout: 20_000 });
    // The dialog takes the client's name whenever it comes; this legacy server publishes no name, so its address stands in.
    await expect.poll(() => dialog.getByRole('heading').first().textContent(), { timeout: 20_000 }).toMatch(/^e2e-cursor wants to connect to 127\.0\.0\.1:\d+$/);
    expect(await dialog.textContent()).toContain('e2e-cursor then uses it');
    await dialog.getByLabel('Name in your list').fill('Legacy rig');
    const approve = dialog.getByRole('button', { name: 'Approve and sign in' });
    // At 800×600 the buttons are in view without scrolling.
    const box = await approve.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(600);
    expect(box!.y).toBeGreaterThanOrEqual(0);
    minor.push(...(await auditScreen(a, 'bridge-consent-800x600', { themes: ['light'] })));
    await a.setViewportSize({ width: 1280, height: 800 });
    // At 1280×800 the dialog's Name field is in view, not below the fold of its body.
    const nameBox = await dialog.getByLabel('Name in your list').boundingBox();
    expect(nameBox).not.toBeNull();
    expect(nameBox!.y + nameBox!.height).toBeLessThanOrEqual(800);
    minor.push(...(await auditScreen(a, 'bridge-consent')));
    await approve.click();
    await a.getByText(/^Approved\. Signing in to/).waitFor();
    const s2 = await pending;
    bridges.push(s2);
    await s2.client.listTools();
    const r2 = row(a, 'Legacy rig');
    await r2.waitFor({ timeout: 20_000 });
    await expect.poll(() => r2.textContent(), { timeout: 10_000 }).toMatch(/Last used by e2e-cursor/);
    // The "signing in" message went once the sign-in showed in the list.
    await expect.poll(() => a.getByText(/^Approved\. Signing in/).count(), { timeout: 10_000 }).toBe(0);

    // Search and filter.
    expect(await rows(a).count()).toBe(2);
    const search = a.getByRole('searchbox', { name: 'Search servers' });
    await search.fill('legacy');
    await expect.poll(() => rows(a).count()).toBe(1);
    expect(await rows(a).first().textContent()).toContain('Legacy rig');
    await search.fill('e2e-desktop');
    await expect.poll(() => rows(a).count()).toBe(1);
    expect(await rows(a).first().textContent()).toContain('Rig MCP server (own-as)');
    await search.fill('nothing like this');
    await a.getByText('No server matches.').waitFor();
    await search.fill('');
    await a.getByLabel('Show').selectOption('attention');
    await a.getByText('No server matches.').waitFor();
    await a.getByLabel('Show').selectOption('all');
    await expect.poll(() => rows(a).count()).toBe(2);
    // The overflow menu opens by keyboard and closes with Escape.
    const more = r2.getByRole('button', { name: 'More actions for Legacy rig' });
    await more.focus();
    await a.keyboard.press('Enter');
    expect(await r2.getByRole('button', { name: 'Sign out…' }).isVisible()).toBe(true);
    // Said once on the Servers screen, not per row.
    expect(await a.getByRole('note', { name: 'Weak protection of tokens' }).count()).toBe(1);
    minor.push(...(await auditScreen(a, 'servers')));
    await a.keyboard.press('Escape');
    expect(await r2.getByRole('button', { name: 'Sign out…' }).isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it('Clients page: a switch adds and removes the server in Claude Desktop’s config, on disk', async () => {
    await nav(a, 'Clients');
    const claude = a.getByRole('region', { name: 'Claude Desktop' });
    await claude.waitFor({ timeout: 10_000 });
    expect(await claude.textContent()).toContain('Found');
    // Claude Code's file would sit in the home folder, which exists everywhere: not "Found" for that.
    expect(await a.getByRole('region', { name: 'Claude Code' }).textContent()).toContain('Not found on this machine');
    const sw = claude.getByRole('switch', { name: 'Rig MCP server (own-as) in Claude Desktop' });
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    await sw.click();
    await expect.poll(() => sw.getAttribute('aria-checked'), { timeout: 10_000 }).toBe('true');
    await claude.getByText('restart Claude Desktop to use it.', { exact: false }).waitFor();
    const cfg = await claudeConfig();
    const entries = Object.values(cfg.mcpServers);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.args.slice(-2)).toEqual(['bridge', 'rig-mcp-server-own-as']);
    minor.push(...(await auditScreen(a, 'clients', { fullPage: true })));

    await sw.click();
    await expect.poll(() => sw.getAttribute('aria-checked'), { timeout: 10_000 }).toBe('false');
    await claude.getByText('Taken out of Claude Desktop; restart Claude Desktop to apply.').waitFor();
    expect((await claudeConfig()).mcpServers).toEqual({});
    // A backup was kept before the change.
    expect((await readdir(dirname(claudeFile))).some((f) => f.includes('.bak-'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('detail: "In Claude Desktop ✓ · Take out"; Remove server offers to take the entry out too, and does', async () => {
    await nav(a, 'Servers');
    await row(a, 'Legacy rig').getByRole('button', { name: 'Legacy rig', exact: true }).click();
    await a.getByRole('button', { name: 'Add to Claude Desktop' }).click();
    await a.getByText('In Claude Desktop ✓').waitFor({ timeout: 10_000 });
    expect(Object.values((await claudeConfig()).mcpServers).map((e) => e.args.at(-1))).toEqual(['legacy-rig']);

    await a.getByRole('button', { name: 'Remove server', exact: true }).click();
    const dialog = a.getByRole('dialog', { name: 'Remove Legacy rig?' });
    await dialog.waitFor();
    const also = dialog.getByRole('checkbox', { name: 'Also take it out of Claude Desktop' });
    expect(await also.isChecked()).toBe(true);
    expect(await dialog.textContent()).toContain('In OAuth terms');
    minor.push(...(await auditScreen(a, 'remove-dialog')));
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await a.getByText('Removed Legacy rig. Also taken out of Claude Desktop; restart it to apply.').waitFor({ timeout: 15_000 });
    expect((await claudeConfig()).mcpServers).toEqual({});
    expect(await rows(a).count()).toBe(1);
    expect(rig2.as.revocations.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('Sign out is calm, Activity lists everything newest first with the client, Settings persist', async () => {
    const r = row(a, 'Rig MCP server (own-as)');
    await r.getByRole('button', { name: 'More actions for Rig MCP server (own-as)' }).click();
    await r.getByRole('button', { name: 'Sign out…' }).click();
    await a.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => r.getByText('Signed out', { exact: true }).isVisible(), { timeout: 10_000 }).toBe(true);
    // Nobody else did it: no alarm banner.
    expect(await a.getByRole('status').filter({ hasText: 'sign in again' }).count()).toBe(0);
    minor.push(...(await auditScreen(a, 'servers-signed-out')));

    await nav(a, 'Activity');
    const list = a.getByRole('list', { name: 'Activity, newest first' });
    await list.waitFor({ timeout: 10_000 });
    const items = await list.getByRole('listitem').allTextContents();
    expect(items[0]).toMatch(/Signed out/);
    expect(items.some((t) => /Used.*Rig MCP server \(own-as\).*by e2e-desktop/.test(t))).toBe(true);
    expect(items.some((t) => /Signed in.*Rig MCP server \(own-as\)/.test(t))).toBe(true);
    const times = await list.locator('time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    minor.push(...(await auditScreen(a, 'activity', { fullPage: true })));

    await nav(a, 'Settings');
    const tray = a.getByRole('checkbox', { name: 'Start in the tray' });
    await tray.waitFor();
    expect(await tray.isDisabled()).toBe(true);
    expect(await a.getByText('Only the desktop app has this', { exact: false }).first().isVisible()).toBe(true);
    const minutes = a.getByLabel('Refresh tokens this many minutes before they expire');
    await minutes.fill('9');
    await minutes.press('Enter');
    await a.getByText('Saved.').waitFor();
    expect(JSON.parse(await readFile(join(home, 'ui-settings.json'), 'utf8'))).toMatchObject({ refreshAheadMinutes: 9 });
    minor.push(...(await auditScreen(a, 'settings', { fullPage: true })));
    await a.goto(`${appUrl}#/migrate`);
    await a.getByRole('heading', { level: 2 }).first().waitFor();
    minor.push(...(await auditScreen(a, 'migrate')));
    expect(problems).toEqual([]);
  });

  it('settings survive a restart of mcp-tokens ui', async () => {
    // Neither window may keep trying the stopped server.
    await b.close();
    await a.goto('about:blank');
    await ui.close();
    ui = await startUi(cliEnv(home, { MCP_TOKENS_DEMO_URL: 'http://127.0.0.1:9/mcp' }));
    await a.goto(ui.url);
    appUrl = a.url().split('#')[0]!;
    await nav(a, 'Settings');
    await expect.poll(() => a.getByLabel('Refresh tokens this many minutes before they expire').inputValue(), { timeout: 10_000 }).toBe('9');
  });

  it('a denied sign-in is told in UI words, with the technical account folded', async () => {
    // A person who presses "Deny" at the authorization server.
    const denyHome = await tempHome();
    // Here a "demo" answers (the rig stands in for `npm run demo`): the first-run guide offers it.
    const denyUi = await startUi(cliEnv(denyHome, { PERSON_DENY: '1', MCP_TOKENS_DEMO_URL: rig.mcpUrl }));
    const p = await context.newPage();
    // The refused link call answers 422, which Chromium logs; that is the point of this test.
    watch(p, 'deny window', /status of 422/);
    try {
      await p.goto(denyUi.url);
      await p.getByRole('button', { name: 'Try the demo server' }).waitFor({ timeout: 15_000 });
      await nav(p, 'Add a server');
      await p.getByLabel('MCP server URL').fill(rig.mcpUrl);
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.getByRole('button', { name: 'Approve and sign in' }).click({ timeout: 20_000 });
      const alert = p.getByRole('alert').filter({ hasText: 'Sign-in did not complete' });
      await alert.waitFor({ timeout: 30_000 });
      const shown = await alert.evaluate((el) => {
        // What a person sees without opening "Show details".
        const clone = el.cloneNode(true) as HTMLElement;
        clone.querySelectorAll('details').forEach((d) => d.remove());
        return clone.textContent ?? '';
      });
      expect(shown).toContain('You declined the sign-in in the browser, so nothing was saved.');
      expect(shown).not.toMatch(CLI_WORDS);
      const summary = alert.getByText('Show details');
      await summary.click();
      expect(await alert.locator('.details-text').textContent()).toContain('You declined the authorization in the browser.');
      // The steps taken are folded too, and no line of them says Ctrl-C.
      const steps = p.getByText('Show the steps taken');
      await steps.click();
      expect(await p.getByRole('log', { name: 'What happened' }).textContent()).not.toMatch(/Ctrl-C/);
      minor.push(...(await auditScreen(p, 'denied', { fullPage: true })));
      // Nothing is left spinning.
      await nav(p, 'Servers');
      expect(await p.getByRole('heading', { name: 'Sign-ins in progress' }).count()).toBe(0);
    } finally {
      await p.close();
      await denyUi.close();
      await rm(denyHome, { recursive: true, force: true });
    }
    expect(problems).toEqual([]);
  });

  it('two accounts on one server: "Add another account" signs in as the chosen person into a row of its own; signing one out leaves the other', async () => {
    await nav(a, 'Servers');
    const own = row(a, 'Rig MCP server (own-as)');
    await own.waitFor({ timeout: 10_000 });
    // Signed out earlier: the row's one button is "Sign in again", and after it, none.
    await own.getByRole('button', { name: 'Sign in again to Rig MCP server (own-as)' }).click();
    await expect.poll(() => own.getByText('Connected', { exact: true }).isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await own.getByRole('button', { name: /Sign in again/ }).count()).toBe(0);

    await own.getByRole('button', { name: 'Rig MCP server (own-as)', exact: true }).click();
    await a.getByRole('button', { name: 'Add another account…' }).click();
    const dialog = a.getByRole('dialog', { name: 'Add another account to Rig MCP server (own-as)' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Name in your list').inputValue()).toBe('Rig MCP server (own-as) (2)');
    await dialog.getByLabel('Name in your list').fill('Rig (work)');
    await dialog.getByLabel('Account to sign in with (optional)').fill('bob');
    minor.push(...(await auditScreen(a, 'add-account')));
    const asked = rig.as.authorizationRequests.length;
    const registered = rig.as.registrations.length;
    await dialog.getByRole('button', { name: 'Sign in with another account' }).click();
    // The new account's own page opens when the sign-in is done.
    await a.getByRole('heading', { level: 2, name: 'Rig (work)' }).waitFor({ timeout: 45_000 });
    const req = rig.as.authorizationRequests.slice(asked).at(-1)!;
    expect(req.prompt?.split(' ')).toEqual(['select_account', 'consent']);
    expect(req.login_hint).toBe('bob');
    expect(await a.getByText('Other account on this server:').isVisible()).toBe(true);

    // Each account is its own row, named by the person, each signed in as its own person.
    await nav(a, 'Servers');
    const work = row(a, 'Rig (work)');
    await work.waitFor();
    expect(await rows(a).count()).toBe(2);
    for (const r of [own, work]) expect(await r.getByText('Connected', { exact: true }).isVisible()).toBe(true);
    minor.push(...(await auditScreen(a, 'two-accounts')));
    for (const [id, who] of [
      ['rig-mcp-server-own-as', 'alice'],
      ['rig-work', 'bob'],
    ] as const) {
      const s = await openBridge(cliEnv(home), id, { name: `e2e-${who}` });
      bridges.push(s);
      expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe(who);
    }
    // The first account's registration serves the second: none was made for it.
    expect(rig.as.registrations.length).toBe(registered);

    // Signing the work account out leaves the other connected.
    await work.getByRole('button', { name: 'More actions for Rig (work)' }).click();
    await work.getByRole('button', { name: 'Sign out…' }).click();
    await a.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => work.getByText('Signed out', { exact: true }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await own.getByText('Connected', { exact: true }).isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });
});
