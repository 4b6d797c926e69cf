// What every browser test needs: the built app, `mcp-tokens ui`'s URL, and a Chromium (see browser.ts).
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ROOT } from '../integration/cli-helpers.js';
import { resolveBrowser } from './browser.js';

export const SHOTS = join(ROOT, 'test-results/e2e');

/** Fails with what to do when Chromium or a build is missing; makes the screenshot dir. */
export async function requirePrerequisites(): Promise<void> {
  const b = resolveBrowser();
  if ('error' in b) throw new Error(b.error);
  if (!existsSync(join(ROOT, 'dist/renderer/index.html'))) throw new Error('The renderer is not built: run `npm run build` first.');
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('The CLI is not built: run `npm run build` first.');
  await mkdir(SHOTS, { recursive: true });
}

/** The URL `mcp-tokens ui --json` prints on stdout. */
export function readUrl(child: ChildProcess): Promise<string> {
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcp-tokens ui printed no URL in 15 s\nstderr:\n${err}`)), 15_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`mcp-tokens ui exited with ${code}\nstderr:\n${err}`)));
  });
}

/** The one Chromium launch for browser tests: the browser resolveBrowser() finds, headless. */
export function launchChromium(): Promise<Browser> {
  const b = resolveBrowser();
  if ('error' in b) throw new Error(b.error);
  return chromium.launch({
    executablePath: b.path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
