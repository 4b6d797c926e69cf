// Issue 13, per-server headers edited in the app: in real Chromium against `mcp-tokens ui` and the
// rig, add a header with a literal value and one with ${VAR}, save, reload and see them masked,
// edit again without re-typing the secret, then a real bridge for that server sends all of them
// (the ${VAR} from its own environment) to the rig. No answer or event the page received, and no
// file in the data dir, holds the literal value.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBridge, stopBroker, textOf } from '../integration/bridge-helpers.js';
import { allFiles, cliEnv, runCli, tempHome } from '../integration/cli-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { auditScreen, launchChromium, recordTraffic, requirePrerequisites, SHOTS, startUi, type UiProcess } from './helpers.js';

const LITERAL = 'sk-live-E2E-HEADER-7f3a91c2';

let rig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;
let id: string;
let ui: UiProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
/** Console lines for refused calls (the browser logs every 4xx): only the deliberate refusal. */
const refused: string[] = [];
const minor: string[] = [];
/** Every API answer the page received. */
const apiBodies: string[] = [];
const pending: Array<Promise<unknown>> = [];

const card = () => page.getByRole('region', { name: 'Headers', exact: true });

describe('per-server headers in the manager UI (Chromium)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    await requirePrerequisites();
    rig = await startRig('own-as');
    home = await tempHome();
    env = cliEnv(home);
    const r = await runCli(['link', rig.mcpUrl, '--name', 'headers-e2e', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    id = (JSON.parse(r.stdout) as { id: string }).id;
    ui = await startUi(env);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') (/status of 400 \(Bad Request\)/.test(m.text()) ? refused : problems).push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await recordTraffic(page, apiBodies, pending);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    if (home) await stopBroker(home);
    await rig?.close();
    if (home) await rm(home, { recursive: true, force: true });
    if (minor.length) console.log(`axe findings below serious (${minor.length}):\n${[...new Set(minor)].join('\n')}`);
  });

  it('adds a literal and a ${VAR} header, refuses Authorization in UI words, and shows them masked after a reload', async () => {
    await page.goto(ui!.url);
    const appUrl = page.url().split('#')[0]!;
    await page.goto(`${appUrl}#/servers/${encodeURIComponent(id)}`);
    await card().waitFor({ timeout: 15_000 });
    expect(await card().textContent()).toContain('No headers');
    await card().getByRole('button', { name: 'Add a header' }).click();

    // A header the app must set itself: refused, with the reason, and nothing saved.
    await card().getByLabel('Name of header 1').fill('Authorization');
    await card().getByLabel('Value of Authorization').fill('Bearer not-this-way');
    await card().getByRole('button', { name: 'Save headers' }).click();
    const alert = card().getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toContain('The header Authorization cannot be set here: the app sends the sign-in token in it.');

    await card().getByLabel('Name of header 1').fill('X-Api-Key');
    await card().getByLabel('Value of X-Api-Key').fill(LITERAL);
    await card().getByRole('button', { name: 'Add a header' }).click();
    await card().getByLabel('Name of header 2').fill('X-Team');
    await card().getByLabel('Value of X-Team').fill('${TEAM}');
    minor.push(...(await auditScreen(page)));
    await card().screenshot({ path: join(SHOTS, 'headers-edit.png') });
    await card().getByRole('button', { name: 'Save headers' }).click();
    await card().getByText(/^Headers saved\./).waitFor({ timeout: 10_000 });

    await page.reload();
    const list = card().getByRole('definition');
    await expect.poll(() => list.count(), { timeout: 15_000 }).toBe(2);
    expect(await card().getByRole('term').allTextContents()).toEqual(['X-Api-Key', 'X-Team']);
    expect(await list.allTextContents()).toEqual(['••• (value hidden)', '${TEAM}']);
    minor.push(...(await auditScreen(page)));
    expect(await page.content()).not.toContain(LITERAL);
    expect(problems).toEqual([]);
    expect(refused).toHaveLength(1);
    await card().screenshot({ path: join(SHOTS, 'headers-saved.png') });
  });

  it('edits again without re-typing the secret: the saved value is kept, never shown', async () => {
    await card().getByRole('button', { name: 'Edit headers' }).click();
    // The secret's box starts empty (its saved value never reached the page); the ${VAR} one as written.
    expect(await card().getByLabel('Value of X-Api-Key').inputValue()).toBe('');
    expect(await card().getByLabel('Value of X-Api-Key').getAttribute('placeholder')).toMatch(/^••• \(saved; leave empty to keep\)$/);
    expect(await card().getByLabel('Value of X-Team').inputValue()).toBe('${TEAM}');
    await card().screenshot({ path: join(SHOTS, 'headers-edit-again.png') });
    await card().getByRole('button', { name: 'Add a header' }).click();
    await card().getByLabel('Name of header 3').fill('X-Extra');
    await card().getByLabel('Value of X-Extra').fill('extra-1');
    await card().getByRole('button', { name: 'Save headers' }).click();
    await card().getByText(/^Headers saved\./).waitFor({ timeout: 10_000 });
    expect(await card().getByRole('term').allTextContents()).toEqual(['X-Api-Key', 'X-Team', 'X-Extra']);
    expect(problems).toEqual([]);
    expect(refused).toHaveLength(1);
  });

  it('the bridge for that server sends them to the rig, ${TEAM} from its own environment', async () => {
    const from = rig.mcp.requests.length;
    const s = await openBridge({ ...env, TEAM: 'blue' }, id, { name: 'headers-e2e-client' });
    try {
      expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
    } finally {
      await s.close();
    }
    const seen = rig.mcp.requests.slice(from).filter((q) => q.authorized);
    expect(seen.length).toBeGreaterThan(0);
    for (const q of seen) expect([q.headers['x-api-key'], q.headers['x-team'], q.headers['x-extra']]).toEqual([LITERAL, 'blue', 'extra-1']);
  });

  it('no answer or event the page received, and no file in the data dir, holds the literal value', async () => {
    await Promise.allSettled(pending);
    const events = (await page.evaluate(() => (window as unknown as { __events?: string[] }).__events ?? [])) as string[];
    // The saves were answered and pushed: the masked headers are there, the value is not.
    expect(apiBodies.some((b) => b.includes('X-Api-Key'))).toBe(true);
    expect(events.some((e) => e.includes('X-Api-Key'))).toBe(true);
    for (const text of [...apiBodies, ...events, await page.content()]) expect(text).not.toContain(LITERAL);
    for (const f of await allFiles(home)) expect(f.data.toString('latin1').includes(LITERAL), f.path).toBe(false);
  });
});
