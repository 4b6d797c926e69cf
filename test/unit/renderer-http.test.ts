// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { Api } from '../../src-shared/contract.js';
import { chooseApi } from '../../src-renderer/api/index.js';
import { ApiCallError, CHANNELS, createHttpApi } from '../../src-renderer/api/http.js';
import { server } from './renderer-fake-api.js';

type Handler = (ev: MessageEvent) => void;

function fakeEvents() {
  const opened: string[] = [];
  const handlers = new Map<string, Set<Handler>>();
  let closed = 0;
  return {
    opened,
    get closed() {
      return closed;
    },
    handlers,
    factory: (url: string) => {
      opened.push(url);
      return {
        addEventListener: (type: string, fn: Handler) => {
          if (!handlers.has(type)) handlers.set(type, new Set());
          handlers.get(type)!.add(fn);
        },
        removeEventListener: (type: string, fn: Handler) => handlers.get(type)?.delete(fn),
        close: () => void closed++,
      };
    },
    push(type: string, data: string) {
      for (const fn of handlers.get(type) ?? []) fn({ data } as MessageEvent);
    },
  };
}

function recordingFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), init: init ?? {} });
    return answer(String(input), init ?? {});
  }) as typeof fetch;
  return { requests, fetchFn };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('HTTP Api client', () => {
  it('has one method per contract channel, plus on', () => {
    const api = createHttpApi({ fetch: recordingFetch(() => json(200, { ok: true, result: null })).fetchFn });
    for (const c of CHANNELS) expect(typeof api[c]).toBe('function');
    expect(typeof api.on).toBe('function');
  });

  it('POSTs the args as JSON to the URL-encoded channel and returns the result', async () => {
    const { requests, fetchFn } = recordingFetch(() => json(200, { ok: true, result: [server()] }));
    const api = createHttpApi({ fetch: fetchFn });
    const list = await api['servers/list']();
    expect(list[0]?.id).toBe('rig');
    await api['servers/reauthorize']('rig', { flow: 'device' });
    expect(requests[0]?.url).toBe('/api/call/servers%2Flist');
    expect(requests[0]?.init.method).toBe('POST');
    expect(new Headers(requests[0]?.init.headers).get('content-type')).toBe('application/json');
    expect(JSON.parse(String(requests[0]?.init.body))).toEqual({ args: [] });
    expect(requests[1]?.url).toBe('/api/call/servers%2Freauthorize');
    expect(JSON.parse(String(requests[1]?.init.body))).toEqual({ args: ['rig', { flow: 'device' }] });
  });

  it("rejects with the server's message, code and hint", async () => {
    const api = createHttpApi({ fetch: recordingFetch(() => json(422, { ok: false, error: { code: 'denied', message: 'The person declined.', hint: 'Link again.' } })).fetchFn });
    const err = await api['servers/link']({ url: 'https://x.example/mcp' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiCallError);
    expect(err).toMatchObject({ message: 'The person declined.', code: 'denied', hint: 'Link again.', status: 422 });
  });

  it('explains answers that are not the protocol, and an unreachable host', async () => {
    const html = createHttpApi({ fetch: recordingFetch(() => new Response('<h1>Not allowed</h1>', { status: 403 })).fetchFn });
    await expect(html['servers/list']()).rejects.toMatchObject({ code: 'unauthorized' });
    const broken = createHttpApi({ fetch: recordingFetch(() => new Response('oops', { status: 500 })).fetchFn });
    await expect(broken['servers/list']()).rejects.toMatchObject({ code: 'http-500', message: expect.stringContaining('HTTP 500') });
    const down = createHttpApi({
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    await expect(down['app/info']()).rejects.toMatchObject({ code: 'unreachable', hint: expect.stringContaining('mcp-tokens ui') });
  });

  it('shares one EventSource, delivers parsed payloads, skips bad frames, closes after the last listener', () => {
    const ev = fakeEvents();
    const api = createHttpApi({ fetch: recordingFetch(() => json(200, {})).fetchFn, eventSource: ev.factory });
    const got: unknown[] = [];
    const off1 = api.on('servers/changed', (p) => got.push(['a', p]));
    const off2 = api.on('servers/changed', (p) => got.push(['b', p]));
    const off3 = api.on('link/progress', (p) => got.push(['c', p.line]));
    expect(ev.opened).toEqual(['/api/events']);
    ev.push('servers/changed', JSON.stringify([]));
    ev.push('link/progress', '{not json');
    ev.push('link/progress', JSON.stringify({ flowId: 'f', url: 'u', line: 'hello' }));
    expect(got).toEqual([
      ['a', []],
      ['b', []],
      ['c', 'hello'],
    ]);
    off1();
    off1();
    ev.push('servers/changed', '[]');
    expect(got).toHaveLength(4);
    off2();
    expect(ev.handlers.get('servers/changed')?.size).toBe(0);
    expect(ev.closed).toBe(0);
    off3();
    expect(ev.closed).toBe(1);
    api.on('link/done', () => {});
    expect(ev.opened).toHaveLength(2);
  });

  it('uses the preload bridge when Electron provides one, else HTTP', () => {
    const bridge = { on: () => () => {} } as unknown as Api;
    expect(chooseApi({ mcpTokens: bridge })).toBe(bridge);
    expect(window.mcpTokens).toBeUndefined();
    const http = chooseApi();
    expect(http).not.toBe(bridge);
    expect(typeof http['servers/list']).toBe('function');
  });
});
