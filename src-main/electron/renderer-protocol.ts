// The app:// handler: serves the built renderer's files, and nothing else, each with the strict
// CSP and nosniff. No electron import, so it runs under plain Node in the unit tests.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { APP_HOST, CONTENT_SECURITY_POLICY } from './security.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const HEADERS = { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

function refuse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' } });
}

/** Answers one app:// request from the files under `rendererDir`. */
export async function serveRenderer(rendererDir: string, request: Pick<Request, 'url' | 'method'>): Promise<Response> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return refuse(400, 'Bad request');
  }
  if (url.host !== APP_HOST) return refuse(404, 'Not found');
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'Method not allowed');
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    return refuse(400, 'Bad request');
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${rel}`);
  // URL parsing already folds "..", but a decoded %2e%2e or a backslash must not climb out either.
  if (!file.startsWith(root + path.sep) || rel.includes('\\') || rel.includes('\0')) return refuse(404, 'Not found');
  const type = TYPES[path.extname(file).toLowerCase()];
  if (!type) return refuse(404, 'Not found');
  let body: Buffer;
  try {
    body = await fsp.readFile(file);
  } catch {
    return refuse(404, 'Not found');
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers: { ...HEADERS, 'content-type': type } });
}
