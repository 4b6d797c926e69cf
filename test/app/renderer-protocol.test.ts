// The app:// handler on the built renderer: the strict CSP on every answer, refusals included,
// and nothing outside the renderer folder.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveRenderer } from '../../src-main/electron/renderer-protocol.js';
import { CONTENT_SECURITY_POLICY } from '../../src-main/electron/security.js';
import { ROOT } from '../integration/cli-helpers.js';

const DIR = join(ROOT, 'dist/renderer');
const get = (url: string, method = 'GET') => serveRenderer(DIR, { url, method });

describe('serveRenderer', () => {
  it('serves the index and its assets with the CSP header and the right types', async () => {
    const index = await get('app://renderer/index.html');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    expect((await get('app://renderer/')).status).toBe(200);
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      const r = await get(`app://renderer/${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('refuses anything else, still with the CSP', async () => {
    const refused = [
      await get('app://renderer/../electron/main.js'),
      await get('app://renderer/%2e%2e/electron/main.js'),
      await get('app://renderer/..%2felectron%2fmain.js'),
      await get('app://renderer/..%5celectron%5cmain.js'),
      await get('app://renderer/missing.js'),
      await get('app://renderer/index.html%00.js'),
      await get('app://other/index.html'),
      await get('app://renderer/index.html', 'POST'),
      await get('not a url'),
    ];
    for (const r of refused) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await r.text()).not.toMatch(/import|electron/);
    }
  });
});
