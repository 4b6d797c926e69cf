// A scriptable stand-in for the typed Api (the renderer's only dependency): records calls, lets a
// test answer each channel, and pushes events the way a host would.
import type { Api, ApiEvents, ApiHandlers, Channel, EventName, LinkPreview, ServerSummary } from '../../src-shared/contract.js';
import { CHANNELS } from '../../src-renderer/api/http.js';

export interface FakeApi {
  api: Api;
  calls: { channel: Channel; args: unknown[] }[];
  handle<C extends Channel>(channel: C, fn: ApiHandlers[C]): void;
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
  listenerCount(event?: EventName): number;
}

export function fakeApi(): FakeApi {
  const handlers = new Map<string, (...a: unknown[]) => Promise<unknown>>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: FakeApi['calls'] = [];
  const api: Record<string, unknown> = {
    on(event: string, fn: (p: unknown) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      return () => set.delete(fn);
    },
  };
  for (const channel of CHANNELS) {
    api[channel] = (...args: unknown[]) => {
      calls.push({ channel, args });
      const h = handlers.get(channel);
      return h ? h(...args) : Promise.reject(new Error(`no handler for ${channel}`));
    };
  }
  return {
    api: api as Api,
    calls,
    handle(channel, fn) {
      handlers.set(channel, fn as (...a: unknown[]) => Promise<unknown>);
    },
    emit(event, payload) {
      for (const fn of [...(listeners.get(event) ?? [])]) fn(payload);
    },
    listenerCount(event) {
      if (event) return listeners.get(event)?.size ?? 0;
      return [...listeners.values()].reduce((n, s) => n + s.size, 0);
    },
  };
}

export function server(over: Partial<ServerSummary> = {}): ServerSummary {
  return {
    id: 'rig',
    name: 'Rig',
    url: 'https://mcp.example.com/mcp',
    resource: 'https://mcp.example.com/mcp',
    issuer: 'https://mcp.example.com',
    status: 'ok',
    scopes: ['mcp:tools'],
    expiresAt: '2030-01-01T01:00:00.000Z',
    hasRefreshToken: true,
    lastRefreshAt: '2030-01-01T00:00:00.000Z',
    registration: { method: 'dynamic', clientId: 'c1' },
    flow: 'browser',
    activity: [],
    usedBy: [],
    headers: [],
    ...over,
  };
}

export function preview(over: Partial<LinkPreview> = {}): LinkPreview {
  return {
    url: 'https://mcp.example.com/mcp',
    resource: 'https://mcp.example.com/mcp',
    resourceName: 'Example MCP',
    transport: 'streamable-http',
    issuer: 'https://mcp.example.com',
    issuerHost: 'mcp.example.com',
    issuerOtherSite: false,
    insecureHttp: false,
    scopes: ['mcp:tools'],
    registration: 'dynamic',
    flows: ['browser', 'device'],
    defaultFlow: 'browser',
    ...over,
  };
}

/** A promise the test settles by hand. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
