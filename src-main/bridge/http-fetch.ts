// The legacy path's fetch: node:http(s) with the few parts of fetch's Response the transports use
// (status, headers.get, a body read chunk by chunk, text()). Node's own fetch loads undici (its
// JS and a wasm HTTP parser) on first use: measured, that was ~80 ms of a bridge's start and
// about half of its peak RSS, for nothing the transports need. The modern era keeps fetch.
import http from 'node:http';
import https from 'node:https';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { explain, httpTarget, proxyRefused } from '../core/platform/network.js';

const MAX_REDIRECTS = 5;

/** Request headers from any form fetch accepts, with lower-case names. */
export function headerRecord(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (typeof (h as { forEach?: unknown }).forEach === 'function' && !Array.isArray(h)) {
    (h as { forEach(f: (v: string, k: string) => void): void }).forEach((v, k) => (out[k.toLowerCase()] = v));
  } else if (Array.isArray(h)) {
    for (const [k, v] of h as [string, string][]) out[k.toLowerCase()] = v;
  } else {
    for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

interface Reader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
  releaseLock(): void;
}

/** The response, shaped like the parts of fetch's Response the legacy transports read. */
class LeanResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  readonly body: { getReader(): Reader; cancel(): Promise<void> };

  constructor(readonly url: string, private readonly res: http.IncomingMessage) {
    this.status = res.statusCode ?? 0;
    this.statusText = res.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    const raw = res.headers;
    const get = (name: string) => {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    };
    this.headers = { get, has: (name) => get(name) !== null };
    const cancel = async () => {
      // A short, finite body is drained so the kept-alive connection serves the next request;
      // a stream (or a large body) is cut off.
      const length = Number(raw['content-length'] ?? NaN);
      if (res.complete || (length <= 65_536 && !String(raw['content-type'] ?? '').includes('event-stream'))) res.resume();
      else res.destroy();
    };
    this.body = {
      cancel,
      getReader: () => {
        const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        return {
          read: async () => {
            const r = await it.next();
            return r.done ? { done: true } : { done: false, value: r.value };
          },
          cancel,
          releaseLock: () => {},
        };
      },
    };
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const parts: Buffer[] = [];
    for await (const c of this.res) parts.push(c as Buffer);
    const b = Buffer.concat(parts);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

/** One request, direct or through the proxy the network module names for this URL. */
async function once(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
  const { agent, ca, route } = await httpTarget(url);
  let answer: { res: http.IncomingMessage; proxyStatus?: number };
  try {
    answer = await request(url, method, headers, body, signal, agent, ca);
  } catch (err) {
    throw route.kind === 'proxy' || (err as { cause?: unknown }).cause ? await explain(err, url, route, signal) : err;
  }
  const { res } = answer;
  // A tunnel the proxy refused comes back as the proxy's own answer: never the server's.
  const refused = answer.proxyStatus !== undefined && answer.proxyStatus !== 200 ? answer.proxyStatus : route.kind === 'proxy' && res.statusCode === 407 ? 407 : undefined;
  if (route.kind === 'proxy' && refused !== undefined) {
    res.destroy();
    throw proxyRefused(url, route, refused);
  }
  return res;
}

function request(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal | undefined, agent: http.Agent, ca: string[] | undefined): Promise<{ res: http.IncomingMessage; proxyStatus?: number }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const lib = url.protocol === 'https:' ? https : http;
    if (body) headers['content-length'] = String(body.length);
    const req = lib.request(url, { method, headers, agent, ...(ca ? { ca } : {}) });
    let proxyStatus: number | undefined;
    req.once('proxyConnect', (c: { statusCode?: number }) => (proxyStatus = c.statusCode));
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      // An abort later must end the body too, as it does for fetch.
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      resolve(proxyStatus !== undefined ? { res, proxyStatus } : { res });
    });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      // fetch puts the network error under `cause`; callers look there for its code.
      reject(signal?.aborted ? abortError(signal) : Object.assign(new TypeError('fetch failed'), { cause: err }));
    });
    req.end(body);
  });
}

export const leanFetch: FetchLike = async (input, init) => {
  let url = new URL(input instanceof URL ? input.href : String(input));
  let method = (init?.method ?? 'GET').toUpperCase();
  const headers = headerRecord(init?.headers);
  const b = init?.body;
  let body: Buffer | undefined =
    b === undefined || b === null ? undefined : typeof b === 'string' ? Buffer.from(b) : ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : b instanceof ArrayBuffer ? Buffer.from(b) : undefined;
  if (b !== undefined && b !== null && body === undefined) throw new TypeError('leanFetch sends only string and byte bodies');
  const signal = init?.signal ?? undefined;
  for (let hop = 0; ; hop++) {
    const res = await once(url, method, { ...headers }, body, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (init?.redirect === 'manual' || ![301, 302, 303, 307, 308].includes(status) || !location) return new LeanResponse(url.href, res) as unknown as Response;
    res.resume();
    if (init?.redirect === 'error' || hop >= MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error(`redirect (${status}) not followed`) });
    const next = new URL(location, url);
    // As fetch does: credentials stay with their origin; 303 (and 301/302 after a POST) become a GET.
    if (next.origin !== url.origin) delete headers.authorization;
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
    }
    url = next;
  }
};
