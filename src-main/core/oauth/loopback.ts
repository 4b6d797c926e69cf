// RFC 8252 loopback redirect listener: 127.0.0.1, one shot, state checked fail-closed,
// pages that reflect nothing from the request. The browser is never given the authorization
// URL itself (a process's arguments are readable by every local user): it gets a one-shot
// /start/<nonce> URL here, which redirects to the AS once and answers 410 after (and not even
// that on its command line: the opener hands it over through a private file:// page).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../platform/errors.js';
import { redirectPageUsed } from '../platform/opener.js';

export interface CallbackResult {
  url: URL;
  /** Shows the person the outcome; call once the token exchange is done. */
  finish(ok: boolean): void;
}

export interface LoopbackListener {
  readonly port: number;
  readonly redirectUri: string;
  /** A one-shot `http://127.0.0.1:<port>/start/<nonce>` that redirects to `target` the first time, 410 after. */
  startUrl(target: string): string;
  wait(expectedState: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<CallbackResult>;
  close(): Promise<void>;
}

export const CALLBACK_PATH = '/callback';
export const START_PATH = '/start/';
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
/** Bad callbacks answered per window; beyond that they get a bare 429 (never a cancelled sign-in). */
export const STRAY_BUDGET = 20;
export const STRAY_WINDOW_MS = 10_000;

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
  used: page('Link already used', 'This sign-in link works once and was already opened. If that was not you, something else on this machine read it: the sign-in was stopped; start it again in MCP Token Manager.'),
  notFound: page('Not found', 'Nothing here.'),
};

function sameNonce(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startLoopback(opts: { port?: number; host?: string } = {}): Promise<LoopbackListener> {
  const host = opts.host ?? '127.0.0.1';
  let onCallback: ((req: IncomingMessage, res: ServerResponse, url: URL) => void) | undefined;
  let onReuse: (() => void) | undefined;
  // One-shot start links: nonce -> target until used; used nonces are remembered to answer 410.
  const starts = new Map<string, string>();
  const used = new Set<string>();
  let strayWindowStart = 0;
  let strayInWindow = 0;
  const strayAllowed = () => {
    const now = Date.now();
    if (now - strayWindowStart >= STRAY_WINDOW_MS) {
      strayWindowStart = now;
      strayInWindow = 0;
    }
    return ++strayInWindow <= STRAY_BUDGET;
  };

  const server = createServer((req, res) => {
    // The base must carry the port: openid-client derives redirect_uri from this URL.
    const addr = server.address();
    const url = new URL(req.url ?? '/', `http://${host}:${addr && typeof addr === 'object' ? addr.port : 0}`);
    if (req.method === 'GET' && url.pathname.startsWith(START_PATH)) {
      const nonce = url.pathname.slice(START_PATH.length);
      const hit = [...starts.keys()].find((k) => sameNonce(k, nonce));
      if (hit !== undefined) {
        const target = starts.get(hit)!;
        starts.delete(hit);
        used.add(hit);
        redirectPageUsed(`http://${host}:${port}${START_PATH}${hit}`);
        res.writeHead(303, { ...PAGE_HEADERS, location: target }).end();
        return;
      }
      if ([...used].some((k) => sameNonce(k, nonce))) {
        // Opened twice: whoever came second may be the person's browser, so the first was not.
        res.writeHead(410, PAGE_HEADERS).end(PAGES.used);
        onReuse?.();
        return;
      }
      res.writeHead(404, PAGE_HEADERS).end(PAGES.notFound);
      return;
    }
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
    startUrl(target) {
      const nonce = randomBytes(24).toString('base64url');
      starts.set(nonce, target);
      return `http://${host}:${port}${START_PATH}${nonce}`;
    },
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
          onReuse = undefined;
        };
        onReuse = () => {
          cleanup();
          reject(new UserError('authorization', 'The sign-in link was opened twice, so something besides your browser may have read it; sign-in stopped and nothing was stored.', 'Start the sign-in again.'));
        };
        onCallback = (_req, res, url) => {
          // Fail closed: a response without our exact state is never accepted. It is ignored,
          // never fatal (anything that guesses the port could otherwise cancel the sign-in),
          // and answered at a bounded rate.
          if (url.searchParams.get('state') !== expectedState) {
            if (strayAllowed()) res.writeHead(400, PAGE_HEADERS).end(PAGES.stray);
            else res.writeHead(429, { 'cache-control': 'no-store', connection: 'close' }).end();
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
