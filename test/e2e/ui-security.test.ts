// Issue 14, findings 2 and 3: `mcp-tokens ui`'s first link is one-shot, and its session cookie
// stays with its own server: Chromium does not send it to another service on 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, tempHome } from '../integration/cli-helpers.js';
import { launchChromium, readUrl, requirePrerequisites } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function startUi(): Promise<{ url: string; stderr: () => string }> {
  const home = await tempHome();
  const ui: ChildProcess = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  ui.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  cleanups.push(async () => {
    if (ui.exitCode === null) {
      ui.kill('SIGTERM');
      await new Promise((r) => ui.once('exit', r));
    }
    await rm(home, { recursive: true, force: true });
  });
  return { url: await readUrl(ui), stderr: () => err };
}

describe('mcp-tokens ui: who gets a session', () => {
  beforeAll(async () => {
    await requirePrerequisites();
  });

  it('a second process with the first URL gets no session, and the one the browser had is closed', async () => {
    const { url, stderr } = await startUi();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/launch\/[\w-]+$/);
    const nonce = url.split('/').at(-1)!;
    // The browser opens it.
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const setCookie = first.headers.get('set-cookie')!;
    const port = new URL(url).port;
    expect(setCookie).toMatch(new RegExp(`^mt_ui_${port}=`));
    expect(setCookie).toMatch(/Path=\/s\/[\w-]+\//);
    expect(setCookie).not.toContain(nonce);
    const cookie = setCookie.split(';')[0]!;
    const base = new URL(first.headers.get('location')!, url);
    expect(base.href).not.toContain(nonce);
    expect((await fetch(base, { headers: { cookie } })).status).toBe(200);
    // A second process that read the same link (from the browser's arguments).
    const second = await fetch(url, { redirect: 'manual' });
    expect(second.status).toBe(410);
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(second.headers.get('location')).toBeNull();
    // The launch nonce as a key or a cookie opens nothing either.
    expect((await fetch(base, { headers: { cookie: `mt_ui_${port}=${nonce}` } })).status).toBe(403);
    expect((await fetch(new URL(`/?k=${nonce}`, url), { redirect: 'manual' })).status).toBe(403);
    // Whoever came first may not have been the person: that session is closed too.
    expect((await fetch(base, { headers: { cookie } })).status).toBe(403);
    expect(stderr()).toMatch(/opened a second time/);
  });

  it('the session cookie is not sent to another service on 127.0.0.1 (Chromium)', async () => {
    const { url } = await startUi();
    // Another local service the page could be lured to (or that lures the browser).
    const seen: Array<{ path: string; cookie: string }> = [];
    const spy: Server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', cookie: req.headers.cookie ?? '' });
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other</title><p>other service</p>');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => spy.close(r)));
    const spyOrigin = `http://127.0.0.1:${(spy.address() as AddressInfo).port}`;

    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.getByRole('heading', { level: 2, name: 'Servers' }).waitFor({ timeout: 20_000 });
    const appPath = new URL(page.url()).pathname;
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).toEqual([`mt_ui_${new URL(url).port}`]);
    expect(cookies[0]!.httpOnly).toBe(true);

    for (const path of ['/', '/api/events', '/launch/x', '/s/']) await page.goto(`${spyOrigin}${path}`);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const s of seen) expect(s.cookie, `cookie sent to ${s.path}`).not.toMatch(/mt_ui/);
    // The app still works in that browser.
    await page.goto(new URL(appPath, url).href);
    await page.getByRole('heading', { level: 2, name: 'Servers' }).waitFor({ timeout: 20_000 });
  });
});
