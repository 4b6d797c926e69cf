import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackListener, startLoopback } from '../../src-main/core/oauth/loopback.js';

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
});
