// The system proxy answer is asked once per origin and kept; a resolver that failed (a broker
// still starting) is asked again after a short while instead of sending everything direct for
// minutes. Loopback is never asked about.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { routeFor, setSystemProxyResolver, systemProxyAnswer } from '../../src-main/core/platform/network.js';

const noProxyEnv = {} as NodeJS.ProcessEnv;

afterEach(() => {
  setSystemProxyResolver(undefined);
  vi.useRealTimers();
});

describe('system proxy answers', () => {
  it('asks once per origin and keeps a real answer; loopback is never asked', async () => {
    const asked: string[] = [];
    setSystemProxyResolver(async (u) => {
      asked.push(u);
      return 'PROXY proxy.corp:3128; DIRECT';
    });
    const r1 = await routeFor(new URL('https://a.example/x'), noProxyEnv);
    const r2 = await routeFor(new URL('https://a.example/y'), noProxyEnv);
    expect(r1).toEqual({ kind: 'proxy', proxy: new URL('http://proxy.corp:3128') });
    expect(r2).toEqual(r1);
    await routeFor(new URL('https://b.example/'), noProxyEnv);
    expect(await routeFor(new URL('http://127.0.0.1:5/'), noProxyEnv)).toEqual({ kind: 'direct' });
    expect(asked).toEqual(['https://a.example/x', 'https://b.example/']);
  });

  it('after a failure goes direct, and asks again 10 s later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    let calls = 0;
    setSystemProxyResolver(async () => {
      calls++;
      if (calls === 1) throw new Error('broker still starting');
      return 'PROXY proxy.corp:3128';
    });
    const u = new URL('https://c.example/');
    expect(await systemProxyAnswer(u)).toBeNull();
    expect(await routeFor(u, noProxyEnv)).toEqual({ kind: 'direct' });
    expect(calls).toBe(1);
    vi.setSystemTime(1_000_000 + 10_001);
    expect(await systemProxyAnswer(u)).toBe('PROXY proxy.corp:3128');
    expect(calls).toBe(2);
    // A real answer is kept for minutes.
    vi.setSystemTime(1_000_000 + 120_000);
    expect(await systemProxyAnswer(u)).toBe('PROXY proxy.corp:3128');
    expect(calls).toBe(2);
  });

  it('keeps "none known" (a headless broker) as long as a real answer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(2_000_000);
    let calls = 0;
    setSystemProxyResolver(async () => {
      calls++;
      return undefined;
    });
    const u = new URL('https://d.example/');
    expect(await systemProxyAnswer(u)).toBeNull();
    vi.setSystemTime(2_000_000 + 60_000);
    expect(await systemProxyAnswer(u)).toBeNull();
    expect(calls).toBe(1);
  });
});
