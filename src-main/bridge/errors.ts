// What goes wrong between the bridge and a server, and the words the client gets for it.
import { BridgeAuthError } from './token-source.js';
import { reauthMessage } from './auth-fetch.js';
import { networkErrorIn } from '../core/platform/network.js';

/** No answer in time; becomes -32000 for the client. */
export class NoAnswer extends Error {}

/** An HTTP answer that is not what the transport needed (4xx/5xx pages, proxies). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The legacy HTTP+SSE event stream failed or ended; `status` when the GET itself was refused. */
export class StreamError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

/** An HTTP answer without a JSON-RPC body, on the 2026-07-28 side. */
export class ModernHttpError extends HttpError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = 'ModernHttpError';
  }
}

/** The server speaks no revision the bridge knows: one message for the person. */
export class ProtocolMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolMismatch';
  }
}

/** JSON-RPC ids 1 and "1" differ. */
export function idKey(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}

export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref(); // stdin keeps the bridge alive; this alone must not
  });
  return Promise.race([p, expiry]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or at once when `signal` aborts; a cancellable wait alone keeps nothing alive. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    if (signal) t.unref();
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

/** The HTTP status in a transport error, where there is one. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof HttpError) return err.status > 0 ? err.status : undefined;
  if (err instanceof StreamError) return err.status;
  return undefined;
}

/** The server's own words from an error body (often a JSON-RPC error), else the text, short. */
export function detail(err: Error): string {
  const text = err.message;
  const brace = text.indexOf('{');
  if (brace !== -1) {
    try {
      const body = JSON.parse(text.slice(brace)) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') return body.error.message;
    } catch {
      // not JSON after all
    }
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Why the legacy event stream ended; a server that just closed it gives no message. */
export function streamReason(err: StreamError): string {
  if (err.status) return `HTTP ${err.status}`;
  return err.message || 'closed by the server';
}

/** Why a fetch failed, from its cause (ECONNREFUSED, ENOTFOUND…) where there is one. */
export function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const net = networkErrorIn(err);
  if (net) return net.message;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return err.message;
}

/** What the client is told, with code: -32001 when only re-authorizing helps, else -32000. */
export function failure(err: unknown, server: { origin: string; displayName: string; serverUrl: string }): { code: number; message: string } {
  if (err instanceof BridgeAuthError) return { code: -32001, message: err.message || reauthMessage(server.displayName, server.serverUrl) };
  if (err instanceof NoAnswer || err instanceof ProtocolMismatch) return { code: -32000, message: err.message };
  const status = httpStatus(err);
  if (status === 401) return { code: -32001, message: reauthMessage(server.displayName, server.serverUrl) };
  if (status !== undefined && err instanceof Error) {
    return { code: status === 403 ? -32001 : -32000, message: `${server.origin} answered HTTP ${status}: ${detail(err)}` };
  }
  if (err instanceof HttpError) return { code: -32000, message: `Unexpected answer from ${server.origin}: ${detail(err)}` };
  const net = networkErrorIn(err);
  if (net) return { code: -32000, message: net.message };
  return { code: -32000, message: `Could not reach ${server.origin}: ${networkReason(err)}` };
}
