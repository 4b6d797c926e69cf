// The mcp-remote migration in real Chromium against `mcp-tokens ui`: the Servers banner, the
// review (reached and driven by keyboard), the replacement and its result. HOME is a temp dir
// holding a Claude Desktop config with an mcp-remote entry and a broken Cursor config.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, tempHome } from '../integration/cli-helpers.js';
import { launchChromium, readUrl, requirePrerequisites, SHOTS } from './helpers.js';

const LEGACY_URL = 'https://legacy.example.com/mcp';
const OTHER = { command: 'uvx', args: ['mcp-server-time'] };

let home: string;
let claudeFile: string;
let ui: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let uiUrl: string;
const problems: string[] = [];


describe('mcp-remote migration in Chromium', () => {
  beforeAll(async () => {
    await requirePrerequisites();
    home = await tempHome();
    claudeFile = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await mkdir(dirname(claudeFile), { recursive: true });
    await writeFile(claudeFile, JSON.stringify({ mcpServers: { time: OTHER, legacy: { command: 'npx', args: ['-y', 'mcp-remote', LEGACY_URL, '--transport', 'http-first'] } } }, null, 2));
    const cursorFile = join(home, '.cursor', 'mcp.json');
    await mkdir(dirname(cursorFile), { recursive: true });
    await writeFile(cursorFile, '{ "mcpServers": { "x": { "command": "npx", "args": ["mcp-remote", "https://a.example/mcp"] } ');
    ui = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    uiUrl = await readUrl(ui);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    if (ui && ui.exitCode === null) {
      ui.kill('SIGTERM');
      await new Promise((r) => ui!.once('exit', r));
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('offers the review from the Servers screen, replaces the entry with a backup, and reports it', async () => {
    await page.goto(uiUrl);
    const banner = page.getByRole('region', { name: '1 MCP client entry still uses mcp-remote' });
    await banner.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, '7-migrate-banner.png'), fullPage: true });

    // Keyboard only: focus the banner's button and press Enter.
    await banner.getByRole('button', { name: 'Review' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Entries that use mcp-remote' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/migrate');

    const entry = page.getByRole('article', { name: 'legacy' });
    expect(await entry.textContent()).toContain('Will be replaced');
    expect(await entry.textContent()).toContain(LEGACY_URL);
    expect(await entry.getByRole('list', { name: 'Notes on legacy' }).textContent()).toMatch(/Handled automatically:.*--transport http-first/);
    // The broken Cursor file is named with where it breaks, and left alone.
    const skipped = page.getByRole('alert').filter({ hasText: 'mcp.json' });
    expect(await skipped.textContent()).toMatch(/line 1, column \d+/);
    expect(await skipped.textContent()).toMatch(/mentions mcp-remote/);
    // No saved mcp-remote sign-in here: importing is not offered, nor deleting.
    expect(await page.getByRole('checkbox', { name: 'Import their sign-ins so you don’t sign in again' }).isDisabled()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Delete mcp-remote’s plaintext token files afterwards' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, '8-migrate-review.png'), fullPage: true });

    const replace = page.getByRole('button', { name: 'Replace with MCP Token Manager' });
    await replace.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Next: restart Claude Desktop.').waitFor({ timeout: 15_000 });
    // What comes after: no sign-in was imported, so the server asks on first use and is not in Servers yet.
    expect(await page.getByText(/asks you to sign in the first time the client uses it/).isVisible()).toBe(true);
    expect(await page.getByText(/^Updated Claude Desktop \(.*claude_desktop_config\.json\): legacy\. Backup: /).isVisible()).toBe(true);
    await page.getByText('No MCP client entry uses mcp-remote any more.').waitFor();
    await page.screenshot({ path: join(SHOTS, '9-migrated.png'), fullPage: true });

    const cfg = JSON.parse(await readFile(claudeFile, 'utf8')) as { mcpServers: Record<string, unknown> };
    expect(cfg.mcpServers).toEqual({ time: OTHER, legacy: { command: process.execPath, args: [BIN, 'bridge', LEGACY_URL], env: { MCP_TOKENS_HOME: home } } });
    expect((await readdir(dirname(claudeFile))).some((f) => f.includes('.bak-'))).toBe(true);

    // Back on the Servers screen the banner is gone.
    await page.getByRole('button', { name: '← All servers' }).click();
    await page.getByRole('heading', { level: 2, name: 'Servers' }).waitFor();
    expect(await banner.count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
