// What every browser test needs: the built app, `mcp-tokens ui`'s URL, and a Chromium (see browser.ts).
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from '../integration/cli-helpers.js';
import { resolveBrowser } from './browser.js';

export const SHOTS = join(ROOT, 'test-results/e2e');

/** Fails with what to do when Chromium or a build is missing; makes the screenshot dir. */
export async function requirePrerequisites(): Promise<void> {
  const b = resolveBrowser();
  if ('error' in b) throw new Error(b.error);
  if (!existsSync(join(ROOT, 'dist/renderer/index.html'))) throw new Error('The renderer is not built: run `npm run build` first.');
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('The CLI is not built: run `npm run build` first.');
  await mkdir(SHOTS, { recursive: true });
}

/** The URL `mcp-tokens ui --json` prints on stdout. */
export function readUrl(child: ChildProcess): Promise<string> {
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcp-tokens ui printed no URL in 15 s\nstderr:\n${err}`)), 15_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`mcp-tokens ui exited with ${code}\nstderr:\n${err}`)));
  });
}

/** The one Chromium launch for browser tests: the browser resolveBrowser() finds, headless. */
export function launchChromium(): Promise<Browser> {
  const b = resolveBrowser();
  if ('error' in b) throw new Error(b.error);
  return chromium.launch({
    executablePath: b.path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Where the screenshots go (each screen at 1280×800, light and dark): the README's own folder
 * only when asked (`UPDATE_SCREENSHOTS=1 npm test`), so a test run leaves the checkout clean.
 */
export const DOC_SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : join(ROOT, 'test-results/screenshots');

export interface UiProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** `mcp-tokens ui --no-open --json` on its own data dir, with the given environment. */
export async function startUi(env: NodeJS.ProcessEnv): Promise<UiProcess> {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../integration/cli-helpers.js');
  const child = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await readUrl(child);
  return {
    child,
    url,
    origin: new URL(url).origin,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

export type Theme = 'light' | 'dark';

/**
 * axe-core on the page as it is, in light and dark: no critical or serious finding. With a
 * name, a 1280×800 screenshot of each theme goes to DOC_SHOTS/<name>-<theme>.png.
 * Returns the findings of lesser impact, for the report.
 */
export async function auditScreen(page: Page, name?: string, opts: { themes?: Theme[]; fullPage?: boolean } = {}): Promise<string[]> {
  const { AxeBuilder } = await import('@axe-core/playwright');
  const minor: string[] = [];
  for (const theme of opts.themes ?? (['light', 'dark'] as Theme[])) {
    await page.emulateMedia({ colorScheme: theme, reducedMotion: 'reduce' });
    // Let transitions and the theme settle before judging contrast.
    await page.waitForTimeout(50);
    const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    const bad = r.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
    if (bad.length) {
      const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n  ')}`).join('\n');
      throw new Error(`axe found ${bad.length} critical/serious problem(s) on ${name ?? page.url()} (${theme}):\n${text}`);
    }
    minor.push(...r.violations.map((v) => `${name ?? ''} ${theme} ${v.impact} ${v.id}`));
    if (name) {
      await mkdir(DOC_SHOTS, { recursive: true });
      await page.screenshot({ path: join(DOC_SHOTS, `${name}-${theme}.png`), fullPage: opts.fullPage ?? false });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return minor;
}

/**
 * Keeps what the page received, for "no secret anywhere" checks: every `/api/call/` answer body
 * (in `apiBodies`; await `pending` before reading) and each server-sent event's data as the
 * renderer's listeners get it (`window.__events`).
 */
export async function recordTraffic(page: Page, apiBodies: string[], pending: Array<Promise<unknown>>): Promise<void> {
  page.on('response', (r) => {
    if (r.url().includes('/api/call/')) pending.push(r.text().then((t) => apiBodies.push(t)));
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __events: string[] };
    w.__events = [];
    const proto = EventSource.prototype;
    const add = proto.addEventListener;
    proto.addEventListener = function (this: EventSource, type: string, fn: EventListenerOrEventListenerObject | null, o?: boolean | AddEventListenerOptions) {
      const wrapped = (e: Event) => {
        if (e instanceof MessageEvent) w.__events.push(String(e.data));
        if (typeof fn === 'function') fn.call(this, e);
        else fn?.handleEvent(e);
      };
      add.call(this, type, wrapped, o);
    } as typeof proto.addEventListener;
  });
}
