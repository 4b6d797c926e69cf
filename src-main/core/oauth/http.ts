// Bounded HTTP for discovery: every request has a timeout and a size cap, never follows
// redirects silently, and reports failures in words.
import { UserError } from '../platform/errors.js';
import { errorCode, netFetch, networkErrorIn } from '../platform/network.js';
import { displayUrl } from '../platform/urls.js';

export type FetchFn = typeof fetch;

export interface HttpGetResult {
  status: number;
  headers: Headers;
  text: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_DOC_BYTES = 1_000_000;

export async function httpRequest(
  url: URL,
  init: RequestInit & { timeoutMs?: number; fetchFn?: FetchFn } = {},
): Promise<HttpGetResult> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, fetchFn = netFetch, ...rest } = init;
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetchFn(url, { redirect: 'manual', ...rest, signal });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new UserError('timeout', `No answer from ${displayUrl(url)} within ${Math.round(timeoutMs / 1000)} s.`, 'Check the URL and your connection, then try again.');
    }
    const net = networkErrorIn(err);
    if (net) throw new UserError('network', net.message, 'Nothing was stored.', { cause: err });
    const sys = errorCode(err);
    const code = sys ? ` (${sys})` : '';
    throw new UserError('network', `Could not reach ${displayUrl(url)}${code}.`, 'Check the URL and that the server is up, then try again.', { cause: err });
  }
  const text = await readCapped(res, MAX_DOC_BYTES, url);
  return { status: res.status, headers: res.headers, text };
}

async function readCapped(res: Response, max: number, url: URL): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new UserError('discovery', `The response from ${displayUrl(url)} is larger than ${max} bytes; refusing to read it.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON object body or explains what was wrong with it. */
export function parseJsonObject(text: string, what: string, url: URL): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UserError('discovery', `The ${what} at ${displayUrl(url)} is not valid JSON.`, 'The server is misconfigured; contact its operator.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UserError('discovery', `The ${what} at ${displayUrl(url)} is not a JSON object.`, 'The server is misconfigured; contact its operator.');
  }
  return v as Record<string, unknown>;
}
