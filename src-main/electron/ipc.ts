// IPC handlers derived from the typed contract: one `handle` per channel, each checking the
// sender frame and the arguments before the service sees them. Only `import type` from
// electron here, so the unit tests can drive it with a fake ipcMain under plain Node.
import type { IpcMain, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { EVENT_CHANNEL } from '../../src-shared/channels.js';
import { type ApiError, type ApiEvents, type ApiService, CHANNELS, type EventName, EVENTS, checkCallArgs } from '../../src-shared/contract.js';
import { toApiError } from '../core/api/service.js';
import type { Logger } from '../core/platform/services.js';
import { displayUrl } from '../core/platform/urls.js';

export type IpcResult<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiError };

/** The part of a frame the sender check reads; WebFrameMain has it. */
export type SenderFrame = Pick<WebFrameMain, 'url'> & { readonly parent?: unknown };

export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;
/** The event a handler receives (re-exported so tests need no electron import). */
export type InvokeEvent = IpcMainInvokeEvent;

const FORBIDDEN: ApiError = { code: 'forbidden', message: 'This request did not come from the MCP Token Manager window; it was refused.' };

/**
 * The sender check for the app: the top frame of our own renderer page (app://renderer/index.html,
 * any hash route). Anything else — a navigated-away page, an iframe, another file — is refused.
 */
export function trustedRendererFrame(indexUrl: string): (frame: SenderFrame | null) => boolean {
  const index = new URL(indexUrl);
  return (frame) => {
    if (!frame) return false;
    if (frame.parent !== null && frame.parent !== undefined) return false;
    let u: URL;
    try {
      u = new URL(frame.url);
    } catch {
      return false;
    }
    return u.protocol === index.protocol && u.host === index.host && u.pathname === index.pathname;
  };
}

function frameOf(event: IpcMainInvokeEvent): WebFrameMain | null {
  try {
    return event.senderFrame;
  } catch {
    return null; // older Electron threw when the frame was gone
  }
}

/**
 * Registers a handler per contract channel. Returns a function that removes them all.
 * Every answer is `{ ok: true, result }` or `{ ok: false, error: { code, message, hint? } }`:
 * a thrown error would reach the renderer with Electron's own wrapping and, for unknown
 * errors, text we do not control.
 */
export function registerIpc(ipcMain: IpcMainLike, service: ApiService, isTrustedSender: (frame: WebFrameMain | null) => boolean, logger?: Logger): () => void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<IpcResult> => {
      const frame = frameOf(event);
      if (!isTrustedSender(frame)) {
        logger?.log('warn', `refused ${channel} from an untrusted frame (${frame ? displayUrl(frame.url) : 'gone'})`);
        return { ok: false, error: FORBIDDEN };
      }
      try {
        const parsed = checkCallArgs(channel, args);
        const handler = service.handlers[channel] as (...a: unknown[]) => Promise<unknown>;
        return { ok: true, result: await handler(...(parsed as unknown[])) };
      } catch (err) {
        const error = toApiError(err);
        if (error.code === 'internal') logger?.log('error', `${channel} failed: ${err instanceof Error ? err.message : String(err)}`);
        return { ok: false, error };
      }
    });
  }
  return () => {
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Forwards every contract event as `send('event', name, payload)`. Returns the unsubscribe. */
export function forwardEvents(service: Pick<ApiService, 'on'>, send: (channel: typeof EVENT_CHANNEL, name: EventName, payload: unknown) => void): () => void {
  const offs = EVENTS.map((name) => service.on(name, (payload: ApiEvents[typeof name]) => send(EVENT_CHANNEL, name, payload)));
  return () => {
    for (const off of offs) off();
  };
}

