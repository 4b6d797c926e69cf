import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackListener, STRAY_BUDGET, startLoopback } from '../../src-main/core/oauth/loopback.js';

let l: LoopbackListener | undefined;
afterEach(async () => {
  await l?.close();
  l = undefined;
});

describe('loopback redirect listener', () => {
  it('binds 127.0.0.1 on an ephemeral port with path /callback', async () => {
    l = await startLoopback();
    expect(l.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(l.port).toBeGreaterThan(0);
  });

  it('never accepts a wrong state, keeps waiting, then accepts the right one', async () => {
    l = await startLoopback();
    const waiting = l.wait('good-state', { timeoutMs: 5000 });
    const bad = await fetch(`${l.redirectUri}?code=evil&state=bad-state`);
    expect(bad.status).toBe(400);
    const badText = await bad.text();
    expect(badText).not.toContain('evil');
    expect(badText).not.toContain('bad-state');
    const goodP = fetch(`${l.redirectUri}?code=c1&state=good-state&x=%3Cscript%3E`);
    const cb = await waiting;
    expect(cb.url.searchParams.get('code')).toBe('c1');
    cb.finish(true);
    const good = await goodP;
    expect(good.status).toBe(200);
    const text = await good.text();
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('c1');
    expect(good.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('is one shot: after the callback, further hits are not accepted', async () => {
    l = await startLoopback();
    const waiting = l.wait('s', { timeoutMs: 5000 });
    const p = fetch(`${l.redirectUri}?code=c&state=s`);
    (await waiting).finish(true);
    await p;
    const again = await fetch(`${l.redirectUri}?code=c2&state=s`);
    expect(again.status).toBe(400);
  });

  it('times out with a clear error and 404s other paths', async () => {
    l = await startLoopback();
    expect((await fetch(`http://127.0.0.1:${l.port}/other`)).status).toBe(404);
    await expect(l.wait('s', { timeoutMs: 50 })).rejects.toThrow(/No answer from the browser/);
  });

  it('fails clearly when a pinned port is taken', async () => {
    l = await startLoopback();
    await expect(startLoopback({ port: l.port })).rejects.toThrow(/in use/);
  });

  it('hands out one-shot start links: a redirect the first time, 410 after, 404 for unknown ones', async () => {
    l = await startLoopback();
    const start = l.startUrl('https://as.example/authorize?state=s&code_challenge=c');
    expect(start).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]{32}$/);
    expect(start).not.toMatch(/state|challenge|as\.example/);
    const first = await fetch(start, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('https://as.example/authorize?state=s&code_challenge=c');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const second = await fetch(start, { redirect: 'manual' });
    expect(second.status).toBe(410);
    expect(second.headers.get('location')).toBeNull();
    expect(await second.text()).not.toContain('as.example');
    expect((await fetch(`http://127.0.0.1:${l.port}/start/not-a-nonce`, { redirect: 'manual' })).status).toBe(404);
  });

  it('stops a waiting sign-in when its start link is opened a second time', async () => {
    l = await startLoopback();
    const start = l.startUrl('https://as.example/authorize');
    const stopped = expect(l.wait('s', { timeoutMs: 10_000 })).rejects.toThrow(/opened twice/);
    await fetch(start, { redirect: 'manual' });
    await fetch(start, { redirect: 'manual' });
    await stopped;
  });

  it('100 bogus callbacks do not cancel a sign-in; they are answered at a bounded rate; the right one still wins', async () => {
    l = await startLoopback();
    const waiting = l.wait('good', { timeoutMs: 20_000 });
    let settled = false;
    void waiting.then(() => (settled = true), () => (settled = true));
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${l.redirectUri}?code=evil${i}&state=bad${i}`);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(settled).toBe(false);
    expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
    // At most the budget got a page within one window (all 100 may fit in one or a few windows).
    expect(statuses.filter((s) => s === 400).length).toBeLessThan(100);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(STRAY_BUDGET);
    const good = fetch(`${l.redirectUri}?code=c&state=good`);
    const cb = await waiting;
    expect(cb.url.searchParams.get('code')).toBe('c');
    cb.finish(true);
    expect((await good).status).toBe(200);
  });
});
