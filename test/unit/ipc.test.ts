import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, EVENT_CHANNEL, EVENT_NAMES } from '../../src-shared/channels.js';
import { type ApiEvents, type ApiHandlers, type ApiService, CHANNELS, type EventName, EVENTS } from '../../src-shared/contract.js';
import { UserError } from '../../src-main/core/platform/errors.js';
import { forwardEvents, type InvokeEvent as IpcMainInvokeEvent, type IpcMainLike, type IpcResult, registerIpc, type SenderFrame, trustedRendererFrame } from '../../src-main/electron/ipc.js';

const INDEX = 'app://renderer/index.html';
const trusted = trustedRendererFrame(INDEX);

type Listener = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  const ipc = {
    handle(channel: string, listener: Listener) {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
  };
  return { ipc: ipc as unknown as IpcMainLike, handlers };
}

function eventFrom(frame: SenderFrame | null): IpcMainInvokeEvent {
  return { senderFrame: frame } as unknown as IpcMainInvokeEvent;
}
const fromRenderer = (hash = '') => eventFrom({ url: `${INDEX}${hash}`, parent: null });

const SETTINGS = { launchAtLogin: false, startInTray: true, refreshAheadMinutes: 5, notifyOnReauth: true };

function fakeService() {
  const calls: { channel: string; args: unknown[] }[] = [];
  const impl: Partial<Record<keyof ApiHandlers, (...args: unknown[]) => Promise<unknown>>> = {
    'app/info': async () => ({ version: '1.2.3', host: 'electron', secrets: { kind: 'safe-storage', description: 'Keychain', weak: false }, dataDir: '/d' }),
    'servers/list': async () => [],
    'servers/get': async (id) => {
      throw new UserError('not-found', `No linked server "${String(id)}".`, 'Link it first.');
    },
    'settings/set': async (p) => ({ ...SETTINGS, ...(p as object) }),
    'servers/refresh': async () => {
      const e = new Error('socket hang up at /home/me/.config/secret eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
      throw e;
    },
    'servers/revoke': async () => {
      throw new UserError('token', 'The AS answered: {"error":"invalid_grant","refresh_token":"rt-very-secret-value"} with Bearer abcdefghijklmnop');
    },
  };
  const handlers = new Proxy({} as ApiHandlers, {
    get(_t, channel: string) {
      return async (...args: unknown[]) => {
        calls.push({ channel, args });
        const f = impl[channel as keyof ApiHandlers];
        return f ? f(...args) : { echoed: channel, args };
      };
    },
  });
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const service: ApiService = {
    handlers,
    on(event, fn) {
      let s = listeners.get(event);
      if (!s) listeners.set(event, (s = new Set()));
      s.add(fn as (p: unknown) => void);
      return () => s.delete(fn as (p: unknown) => void);
    },
    close: async () => undefined,
  };
  const emit = <E extends EventName>(event: E, payload: ApiEvents[E]) => {
    for (const fn of listeners.get(event) ?? []) fn(payload);
  };
  return { service, calls, emit, listeners };
}

function setup() {
  const { ipc, handlers } = fakeIpcMain();
  const svc = fakeService();
  const logged: string[] = [];
  const unregister = registerIpc(ipc, svc.service, trusted, { log: (level, m) => logged.push(`${level} ${m}`) });
  const invoke = async (channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<IpcResult> => {
    const h = handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return (await h(event, ...args)) as IpcResult;
  };
  return { handlers, invoke, unregister, logged, ...svc };
}

describe('channel lists', () => {
  it('the zod-free lists the preload uses equal the contract', () => {
    expect([...CHANNEL_NAMES].sort()).toEqual([...CHANNELS].sort());
    expect([...EVENT_NAMES].sort()).toEqual([...EVENTS].sort());
    expect(EVENT_CHANNEL).toBe('event');
  });
});

describe('registerIpc', () => {
  it('registers exactly one handler per contract channel and removes them all', () => {
    const t = setup();
    expect([...t.handlers.keys()].sort()).toEqual([...CHANNELS].sort());
    t.unregister();
    expect(t.handlers.size).toBe(0);
  });

  it('passes validated arguments through and results back unchanged', async () => {
    const t = setup();
    expect(await t.invoke('app/info', fromRenderer())).toEqual({
      ok: true,
      result: { version: '1.2.3', host: 'electron', secrets: { kind: 'safe-storage', description: 'Keychain', weak: false }, dataDir: '/d' },
    });
    expect(await t.invoke('settings/set', fromRenderer('#/settings'), { launchAtLogin: true })).toEqual({ ok: true, result: { ...SETTINGS, launchAtLogin: true } });
    const r = await t.invoke('servers/reauthorize', fromRenderer(), 'github', { flow: 'device' });
    expect(r).toEqual({ ok: true, result: { echoed: 'servers/reauthorize', args: ['github', { flow: 'device' }] } });
    const link = { url: 'https://mcp.example.com/mcp', name: 'Example', scopes: ['read', 'write'] };
    await t.invoke('servers/link', fromRenderer(), link);
    expect(t.calls.at(-1)).toEqual({ channel: 'servers/link', args: [link] });
  });

  it('rejects bad arguments with a plain message, before the service sees them', async () => {
    const t = setup();
    const bad: [string, unknown[]][] = [
      ['servers/get', []],
      ['servers/get', ['']],
      ['servers/get', [42]],
      ['app/info', ['extra']],
      ['servers/link', [{ url: 'file:///etc/passwd' }]],
      ['servers/link', [{ url: 'https://x.example/', evil: true }]],
      ['settings/set', [{ launchAtLogin: 'yes' }]],
      ['settings/set', [{ refreshAheadMinutes: 0 }]],
      ['servers/clientConfig', ['gh', 'notepad']],
      ['consent/answer', ['not-a-uuid', { approve: true }]],
      ['shell/openExternal', ['javascript:alert(1)']],
      ['servers/preview', [null]],
    ];
    for (const [channel, args] of bad) {
      const r = await t.invoke(channel, fromRenderer(), ...args);
      expect(r.ok, `${channel} ${JSON.stringify(args)}`).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('usage');
      expect(r.error.message).toContain(`Invalid arguments for ${channel}`);
    }
    expect(t.calls).toEqual([]);
    const r = await t.invoke('settings/set', fromRenderer(), { launchAtLogin: 'yes' });
    expect(r.ok === false && r.error.message).toMatch(/0\.launchAtLogin: .*boolean/);
  });

  it('refuses senders other than our renderer top frame', async () => {
    const t = setup();
    const untrusted = [
      eventFrom(null),
      eventFrom({ url: 'https://evil.example/index.html', parent: null }),
      eventFrom({ url: 'file:///tmp/index.html', parent: null }),
      eventFrom({ url: 'file:///opt/MCP%20Token%20Manager/resources/app.asar/dist/renderer/index.html', parent: null }),
      eventFrom({ url: 'app://renderer/other.html', parent: null }),
      eventFrom({ url: 'app://other/index.html', parent: null }),
      eventFrom({ url: 'https://renderer/index.html', parent: null }),
      eventFrom({ url: INDEX, parent: { url: INDEX } }), // an iframe inside our page
      eventFrom({ url: 'not a url', parent: null }),
      eventFrom({ url: 'app://renderer.evil.example/index.html', parent: null }),
    ];
    for (const ev of untrusted) {
      const r = await t.invoke('servers/list', ev);
      expect(r).toEqual({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/refused/) } });
    }
    expect(t.calls).toEqual([]);
    expect(t.logged.filter((l) => l.startsWith('warn refused servers/list'))).toHaveLength(untrusted.length);
  });

  it('treats a frame that throws on access as gone', async () => {
    const t = setup();
    const ev = {
      get senderFrame(): never {
        throw new Error('Render frame was disposed');
      },
    } as unknown as IpcMainInvokeEvent;
    expect(await t.invoke('servers/list', ev)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('errors carry code, message and hint — never a stack, an internal message or a secret', async () => {
    const t = setup();
    const notFound = await t.invoke('servers/get', fromRenderer(), 'nope');
    // In UI words (core/api/words.ts), core's own text kept as the folded detail.
    expect(notFound).toEqual({
      ok: false,
      error: { code: 'not-found', message: 'This server is not in the list any more.', hint: 'It may have been removed in another window or from the command line.', detail: 'No linked server "nope".\nLink it first.' },
    });

    const internal = await t.invoke('servers/refresh', fromRenderer(), 'gh');
    expect(internal.ok).toBe(false);
    if (internal.ok) return;
    expect(Object.keys(internal.error).sort()).toEqual(['code', 'message']);
    expect(internal.error.code).toBe('internal');
    const text = JSON.stringify(internal);
    expect(text).not.toMatch(/socket hang up|\/home\/me|eyJ|stack|at Object/);
    // The detail goes to the log, redacted.
    expect(t.logged.some((l) => l.startsWith('error servers/refresh failed: socket hang up'))).toBe(true);

    const userErr = await t.invoke('servers/revoke', fromRenderer(), 'gh');
    expect(userErr.ok).toBe(false);
    const s = JSON.stringify(userErr);
    expect(s).not.toContain('rt-very-secret-value');
    expect(s).not.toContain('abcdefghijklmnop');
    expect(s).not.toContain('stack');
    expect(userErr.ok === false && userErr.error.code).toBe('token');
  });
});

describe('forwardEvents', () => {
  it('sends every contract event on the one event channel, and stops when unsubscribed', () => {
    const { service, emit, listeners } = fakeService();
    const sent: unknown[][] = [];
    const stop = forwardEvents(service, (...a) => sent.push(a));
    expect([...listeners.keys()].sort()).toEqual([...EVENTS].sort());
    emit('servers/changed', []);
    emit('link/progress', { flowId: 'f', url: 'https://x.example', line: 'Discovering…' });
    expect(sent).toEqual([
      ['event', 'servers/changed', []],
      ['event', 'link/progress', { flowId: 'f', url: 'https://x.example', line: 'Discovering…' }],
    ]);
    stop();
    emit('servers/changed', []);
    expect(sent).toHaveLength(2);
    expect([...listeners.values()].every((s) => s.size === 0)).toBe(true);
  });
});

describe('trustedRendererFrame', () => {
  it('accepts the index page with any hash route or query, and nothing else', () => {
    expect(trusted({ url: INDEX, parent: null })).toBe(true);
    expect(trusted({ url: `${INDEX}#/servers/github`, parent: null })).toBe(true);
    expect(trusted({ url: `${INDEX}?x=1`, parent: null })).toBe(true);
    expect(trusted({ url: INDEX.replace('index.html', 'index.html/..'), parent: null })).toBe(false);
    expect(trusted({ url: 'app://renderer/assets/../index.html', parent: null })).toBe(true); // normalized by URL
    expect(trusted({ url: 'devtools://devtools/bundled/index.html', parent: null })).toBe(false);
    expect(trusted(null)).toBe(false);
  });
});
