// `mcp-tokens ui`: the renderer served on 127.0.0.1 with the typed API over HTTP + server-sent
// events, for machines where the desktop app can't run. The browser is given a one-shot launch
// link (/launch/<nonce>, through the opener's private file:// page: a process's arguments are
// readable by every local user), which opens a
// session: a random cookie named with the port and scoped to a random path, so the browser does
// not send it to other services on 127.0.0.1 (cookies ignore ports, not paths), plus a token the
// page reads from its own HTML and must send as a header on every API call. Host and Origin are
// checked so other sites and DNS rebinding get nothing.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { type ApiService, EVENTS, isChannel, checkCallArgs } from '../../src-shared/contract.js';
import { toApiError } from '../core/api/service.js';
import type { Logger } from '../core/platform/services.js';
import { redirectPageUsed } from '../core/platform/opener.js';

/** The header state-changing calls carry; its value is in the page's <meta name="mcp-tokens-session">. */
export const SESSION_HEADER = 'x-mcp-tokens-session';
export const SESSION_META = 'mcp-tokens-session';
const MAX_BODY = 1024 * 1024;
export const UI_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface UiServer {
  /** The one-shot launch link (works once; a second use closes the session it opened). */
  url: string;
  /** The URL without the secret (for messages). */
  origin: string;
  close(): Promise<void>;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const SECURITY_HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function page(title: string, text: string) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY) throw new Error('too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface Session {
  /** The cookie's value: random, never the launch nonce. */
  id: string;
  /** What the page sends in SESSION_HEADER. */
  token: string;
  /** The path the UI and the cookie live under: /s/<random>/. */
  base: string;
}

const newSecret = (n = 32) => randomBytes(n).toString('base64url');
const html = 'text/html; charset=utf-8';

export async function startUiServer(o: { service: ApiService; staticDir: string; logger: Logger; port?: number; onWarning?: (line: string) => void }): Promise<UiServer> {
  const launchNonce = newSecret();
  let launchUsed = false;
  let session: Session | undefined;
  let port = 0;
  const cookieName = () => `mt_ui_${port}`;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);
  const streams = new Set<ServerResponse>();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on another name resolving to 127.0.0.1 sends its own Host.
    if (!allowedHosts().includes(req.headers.host ?? '')) return send(res, 421, 'text/plain', 'Wrong Host.');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname.startsWith('/launch/')) {
      if (req.method !== 'GET' || !sameSecret(url.pathname.slice('/launch/'.length), launchNonce)) {
        return send(res, 404, html, page('Not found', 'This link is not valid. Run <code>mcp-tokens ui</code> again.'));
      }
      if (launchUsed) {
        // Used twice: whoever came second may be the person's browser, so the first may not
        // have been. Close that session; the person starts again.
        if (session) {
          session = undefined;
          for (const st of streams) st.end();
          o.onWarning?.('The UI link was opened a second time; the session it opened is closed. Run `mcp-tokens ui` again.');
        }
        return send(res, 410, html, page('Link already used', 'This link works once and was already opened. If that was not you, something else on this machine read it: the session is closed. Run <code>mcp-tokens ui</code> again.'));
      }
      launchUsed = true;
      redirectPageUsed(`${origin}/launch/${launchNonce}`);
      session = { id: newSecret(), token: newSecret(), base: `/s/${newSecret(16)}/` };
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'set-cookie': `${cookieName()}=${session.id}; HttpOnly; SameSite=Strict; Path=${session.base}`,
        location: session.base,
      });
      return res.end();
    }
    // Browsers ask for an icon at the root, where the session cookie is not sent: nothing to hide there.
    if (url.pathname === '/favicon.ico') return res.writeHead(204, SECURITY_HEADERS).end();
    const s = session;
    const cookie = cookieOf(req, cookieName());
    if (!s || !url.pathname.startsWith(s.base) || !cookie || !sameSecret(cookie, s.id)) {
      return send(res, 403, html, page('Not allowed', 'Open the link that <code>mcp-tokens ui</code> printed; it works once, in one browser.'));
    }
    const rel = url.pathname.slice(s.base.length - 1);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Cross-site requests: the Origin must be this server (a missing Origin is refused too),
      // and the page's own token must ride along (a form or a cookie alone gets nothing).
      if (!allowedOrigins().includes(req.headers.origin ?? '')) return sendJson(res, 403, { ok: false, error: { code: 'forbidden', message: 'Cross-origin request refused.' } });
      const token = req.headers[SESSION_HEADER];
      if (typeof token !== 'string' || !sameSecret(token, s.token)) return sendJson(res, 403, { ok: false, error: { code: 'forbidden', message: 'This page is not signed in to MCP Token Manager.' } });
    }

    if (rel.startsWith('/api/call/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'usage', message: 'Use POST.' } });
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { ok: false, error: { code: 'usage', message: 'Send JSON.' } });
      let channel: string;
      try {
        channel = decodeURIComponent(rel.slice('/api/call/'.length));
      } catch {
        channel = '';
      }
      if (!isChannel(channel)) return sendJson(res, 404, { ok: false, error: { code: 'usage', message: 'Unknown API call.' } });
      let args: unknown;
      try {
        const body = JSON.parse(await readBody(req)) as { args?: unknown };
        args = body.args ?? [];
      } catch {
        return sendJson(res, 400, { ok: false, error: { code: 'usage', message: 'The request body must be JSON like {"args": [...]}.' } });
      }
      try {
        const parsed = checkCallArgs(channel, args);
        const fn = o.service.handlers[channel] as (...a: unknown[]) => Promise<unknown>;
        const result = await fn(...(parsed as unknown[]));
        return sendJson(res, 200, { ok: true, result });
      } catch (err) {
        const e = toApiError(err);
        if (e.code === 'internal') o.logger.log('error', `ui ${channel} failed: ${err instanceof Error ? err.message : String(err)}`);
        return sendJson(res, e.code === 'usage' ? 400 : e.code === 'not-found' ? 404 : 422, { ok: false, error: e });
      }
    }

    if (rel === '/api/events') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      const offs = EVENTS.map((name) =>
        o.service.on(name, (payload) => {
          res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
        }),
      );
      const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(beat);
        for (const off of offs) off();
        streams.delete(res);
      });
      return;
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method not allowed.');
    // Static files of the built renderer; anything unknown gets the app shell.
    const relFile = normalize(decodeURIComponent(rel)).replace(/^([/\\])+/, '');
    let file = join(o.staticDir, relFile || 'index.html');
    if (!file.startsWith(o.staticDir + sep) && file !== o.staticDir) return send(res, 404, 'text/plain', 'Not found.');
    let st = await stat(file).catch(() => undefined);
    if (!st || st.isDirectory()) {
      file = join(o.staticDir, 'index.html');
      st = await stat(file).catch(() => undefined);
      if (!st) return send(res, 503, 'text/html; charset=utf-8', page('Not built', 'The UI is not built here yet: run <code>npm run build</code>.'));
    }
    if (file === join(o.staticDir, 'index.html')) {
      // The page learns its session token from its own HTML, which only a holder of the cookie gets.
      const shell = (await readFile(file, 'utf8')).replace(/<head>/i, `<head><meta name="${SESSION_META}" content="${s.token}">`);
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': html, 'content-length': Buffer.byteLength(shell) });
      return res.end(req.method === 'HEAD' ? undefined : shell);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': st.size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      o.logger.log('error', `ui request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: 'Internal error.' } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/launch/${launchNonce}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
