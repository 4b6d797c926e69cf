// Issue 23: a sign-in that asked for offline_access and got no refresh token says so at once in
// the add wizard's result, in Chromium against `mcp-tokens ui` and a rig AS that gives none.
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, tempHome } from '../integration/cli-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { launchChromium, readUrl, requirePrerequisites } from './helpers.js';

let rig: Rig | undefined;
let home: string | undefined;
let ui: ChildProcess | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  if (ui && ui.exitCode === null) {
    ui.kill('SIGTERM');
    await new Promise((r) => ui!.once('exit', r));
  }
  await rig?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('the add wizard and a grant that cannot renew itself', () => {
  it('says at once that the server will need a new sign-in every N minutes', async () => {
    await requirePrerequisites();
    rig = await startRig('own-as', { noRefreshTokens: true, accessTokenTtl: 1200 });
    home = await tempHome();
    ui = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    const uiUrl = await readUrl(ui);
    browser = await launchChromium();
    const page = await (await browser.newContext()).newPage();
    await page.goto(uiUrl);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Add a server' }).click();
    await page.getByLabel('MCP server URL').fill(rig.mcpUrl);
    await page.getByRole('button', { name: 'Continue' }).click();
    const card = page.getByRole('article').filter({ has: page.getByRole('heading', { name: /^Add .+\?$/ }) });
    await card.waitFor({ timeout: 20_000 });
    const browserChoice = card.getByRole('radio', { name: /Browser/ });
    if (await browserChoice.count()) await browserChoice.check();
    await card.getByRole('button', { name: 'Approve and sign in' }).click();
    await page.getByRole('heading', { name: /^Added / }).waitFor({ timeout: 45_000 });
    const note = page.getByRole('note');
    await note.waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toBe('The authorization server gave no refresh token although offline access was asked for: this server will need a new sign-in every 20 minutes.');
  }, 180_000);
});
