// The preload: exposes `window.mcpTokens`, the typed Api, and nothing else — one method per
// contract channel and `on(event, fn)` for the contract's events. There is deliberately no
// generic invoke(channel) or ipcRenderer handle: the page can only make the calls listed here.
// Bundled to CommonJS (sandboxed preloads cannot load modules), so it imports the zod-free
// channel list, never contract.ts at run time.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNEL_NAMES, EVENT_CHANNEL, EVENT_NAMES } from '../../src-shared/channels.js';
import type { Api, ApiError, EventName } from '../../src-shared/contract.js';

type Reply = { ok: true; result: unknown } | { ok: false; error: ApiError };

/**
 * What a failed call rejects with. contextBridge keeps only `message` of an Error, so the
 * rejection is a plain object with the same fields the HTTP client's ApiCallError has.
 */
function failure(error: Partial<ApiError> | undefined): { name: 'ApiCallError'; message: string; code: string; hint?: string; detail?: string } {
  return {
    name: 'ApiCallError',
    message: typeof error?.message === 'string' ? error.message : 'MCP Token Manager did not answer as expected.',
    code: typeof error?.code === 'string' ? error.code : 'internal',
    ...(typeof error?.hint === 'string' ? { hint: error.hint } : {}),
    ...(typeof error?.detail === 'string' ? { detail: error.detail } : {}),
  };
}

async function call(channel: string, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as Reply | undefined;
  if (reply && reply.ok === true) return reply.result;
  throw failure(reply && reply.ok === false ? reply.error : undefined);
}

const known = new Set<string>(EVENT_NAMES);

function on(event: EventName, fn: (payload: unknown) => void): () => void {
  if (!known.has(event)) throw new TypeError(`Unknown event: ${String(event)}`);
  if (typeof fn !== 'function') throw new TypeError('on(event, fn) needs a function');
  const listener = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (name === event) fn(payload);
  };
  ipcRenderer.on(EVENT_CHANNEL, listener);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    ipcRenderer.removeListener(EVENT_CHANNEL, listener);
  };
}

const api: Record<string, unknown> = { on };
for (const channel of CHANNEL_NAMES) api[channel] = (...args: unknown[]) => call(channel, args);

contextBridge.exposeInMainWorld('mcpTokens', Object.freeze(api) as unknown as Api);
