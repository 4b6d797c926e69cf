// RFC 8252 loopback redirect listener: 127.0.0.1, one shot, state checked fail-closed,
// pages that reflect nothing from the request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../platform/errors.js';

export interface CallbackResult {
  url: URL;
  /** Shows the person the outcome; call once the token exchange is done. */
  finish(ok: boolean): void;
}

export interface LoopbackListener {
  readonly port: number;
  readonly redirectUri: string;
  wait(expectedState: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<CallbackResult>;
  close(): Promise<void>;
}

export const CALLBACK_PATH = '/callback';
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const MAX_STRAY_REQUESTS = 50;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

// Fixed texts only: nothing from the request is ever written into a page.
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
    '<style>body{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}</style></head>' +
    `<body><h1>${title}</h1><p>${body}</p></body></html>`;
}

const PAGES = {
  ok: page('Signed in', 'MCP Token Manager received the authorization. You can close this tab.'),
  fail: page('Sign-in failed', 'MCP Token Manager could not complete the sign-in. Return to it for details.'),
  stray: page('Not expected', 'This response does not belong to the sign-in in progress and was ignored.'),
  notFound: page('Not found', 'Nothing here.'),
};


export async function startLoopback(opts: { port?: number; host?: string } = {}): Promise<LoopbackListener> {
  const host = opts.host ?? '127.0.0.1';
  let onCallback: ((req: IncomingMessage, res: ServerResponse, url: URL) => void) | undefined;
  let stray = 0;
  const server = createServer((req, res) => {
    // The base must carry the port: openid-client derives redirect_uri from this URL.
    const addr = server.address();
    const url = new URL(req.url ?? '/', `http://${host}:${addr && typeof addr === 'object' ? addr.port : 0}`);
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404, PAGE_HEADERS).end(PAGES.notFound);
      return;
    }
    if (!onCallback) {
      res.writeHead(400, PAGE_HEADERS).end(PAGES.stray);
      return;
    }
    onCallback(req, res, url);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new UserError('authorization', `Port ${opts.port} on ${host} is in use, and the client registration requires it for the redirect.`, 'Close whatever uses that port, or re-link to register again.')
          : err,
      );
    });
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };

  return {
    port,
    redirectUri: `http://${host}:${port}${CALLBACK_PATH}`,
    close,
    wait(expectedState, wopts = {}) {
      const timeoutMs = wopts.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
      return new Promise<CallbackResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new UserError('timeout', `No answer from the browser within ${Math.round(timeoutMs / 60_000) || 1} min; sign-in cancelled.`, 'Run the command again when you are ready to approve.'));
        }, timeoutMs);
        const onAbort = () => {
          cleanup();
          reject(new UserError('authorization', 'Sign-in cancelled.'));
        };
        wopts.signal?.addEventListener('abort', onAbort, { once: true });
        const cleanup = () => {
          clearTimeout(timer);
          wopts.signal?.removeEventListener('abort', onAbort);
          onCallback = undefined;
        };
        onCallback = (_req, res, url) => {
          // Fail closed: a response without our exact state is never accepted; we keep waiting.
          if (url.searchParams.get('state') !== expectedState) {
            stray++;
            res.writeHead(400, PAGE_HEADERS).end(PAGES.stray);
            if (stray >= MAX_STRAY_REQUESTS) {
              cleanup();
              reject(new UserError('state-mismatch', 'Too many sign-in responses with the wrong state reached the redirect listener; stopped.', 'Something on this machine is interfering; try again.'));
            }
            return;
          }
          cleanup();
          let done = false;
          const finish = (ok: boolean) => {
            if (done) return;
            done = true;
            res.writeHead(ok ? 200 : 400, PAGE_HEADERS).end(ok ? PAGES.ok : PAGES.fail);
          };
          // The person should not stare at a spinner if the exchange hangs.
          setTimeout(() => finish(false), 30_000).unref();
          resolve({ url, finish: (ok) => finish(ok) });
        };
      });
    },
  };
}
