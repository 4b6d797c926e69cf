// The typed Api over `mcp-tokens ui`: one POST per call, server-sent events for pushes.
// Same origin; the session cookie set by the server authenticates every request, and calls also
// carry the session token the server wrote into the page (<meta name="mcp-tokens-session">).
import { CHANNEL_NAMES } from '../../src-shared/channels.js';
import type { Api, ApiError, ApiEvents, ApiResults, ArgsOf, Channel, EventName } from '../../src-shared/contract.js';

/** The zod-free mirror of the contract's channels (shared with the preload). */
export const CHANNELS = CHANNEL_NAMES;

/** What an Api call rejects with: the server's message, plus its code and hint. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    message: string,
    readonly code: string,
    readonly hint?: string,
    readonly status?: number,
    /** The technical account, folded behind "Show details". */
    readonly detail?: string,
  ) {
    super(message);
  }
}

interface EventSourceLike {
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void;
  removeEventListener(type: string, fn: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface HttpApiOptions {
  /** Prefix of the API paths; '' means same origin as the page. */
  baseUrl?: string;
  fetch?: typeof fetch;
  eventSource?: (url: string) => EventSourceLike;
  /** Sent as x-mcp-tokens-session; defaults to the page's <meta name="mcp-tokens-session">. */
  sessionToken?: string;
}

function pageSessionToken(): string | undefined {
  return typeof document === 'undefined' ? undefined : (document.querySelector('meta[name="mcp-tokens-session"]')?.getAttribute('content') ?? undefined);
}

function isApiError(v: unknown): v is ApiError {
  return typeof v === 'object' && v !== null && typeof (v as ApiError).message === 'string' && typeof (v as ApiError).code === 'string';
}

export function createHttpApi(opts: HttpApiOptions = {}): Api {
  const base = opts.baseUrl ?? '';
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const openEvents = opts.eventSource ?? ((url: string) => new EventSource(url));
  const session = opts.sessionToken ?? pageSessionToken();

  async function call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ApiResults[C]> {
    let res: Response;
    try {
      res = await doFetch(`${base}/api/call/${encodeURIComponent(channel)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(session ? { 'x-mcp-tokens-session': session } : {}) },
        body: JSON.stringify({ args }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new ApiCallError('Cannot reach MCP Token Manager.', 'unreachable', 'Is `mcp-tokens ui` still running? Start it again and reload this page.');
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    const b = body as { ok?: unknown; result?: unknown; error?: unknown } | undefined;
    if (res.ok && b && b.ok === true) return b.result as ApiResults[C];
    if (b && isApiError(b.error)) {
      throw new ApiCallError(b.error.message, b.error.code, typeof b.error.hint === 'string' ? b.error.hint : undefined, res.status, typeof b.error.detail === 'string' ? b.error.detail : undefined);
    }
    if (res.status === 401 || res.status === 403) {
      throw new ApiCallError('This page is no longer signed in to MCP Token Manager.', 'unauthorized', 'Open the link `mcp-tokens ui` printed again.', res.status);
    }
    throw new ApiCallError(`Unexpected answer from MCP Token Manager (HTTP ${res.status}).`, `http-${res.status}`, undefined, res.status);
  }

  // One EventSource shared by every listener, opened on the first and closed after the last.
  let source: EventSourceLike | undefined;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const bridges = new Map<string, (ev: MessageEvent) => void>();

  function on<E extends EventName>(event: E, fn: (payload: ApiEvents[E]) => void): () => void {
    if (!source) source = openEvents(`${base}/api/events`);
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
      const bridge = (ev: MessageEvent) => {
        let payload: unknown;
        try {
          payload = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        for (const f of [...(listeners.get(event) ?? [])]) f(payload);
      };
      bridges.set(event, bridge);
      source.addEventListener(event, bridge);
    }
    const f = fn as (payload: unknown) => void;
    set.add(f);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const s = listeners.get(event);
      s?.delete(f);
      if (s && s.size === 0) {
        listeners.delete(event);
        const bridge = bridges.get(event);
        bridges.delete(event);
        if (bridge) source?.removeEventListener(event, bridge);
      }
      if (listeners.size === 0) {
        source?.close();
        source = undefined;
      }
    };
  }

  const api: Record<string, unknown> = { on };
  for (const channel of CHANNELS) api[channel] = (...args: unknown[]) => call(channel, args as ArgsOf<typeof channel>);
  return api as Api;
}
