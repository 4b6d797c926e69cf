// The one audited way to hand a URL to the browser or the operating system: the CLI's
// $BROWSER/xdg-open launcher and the app's shell.openExternal both go through checkedOpener,
// so both apply checkExternalUrl. The OS opens whatever scheme it has a handler for (file:,
// smb:, custom app schemes), so everything except the web is refused before anything runs.
// Whatever is opened lands in a process's arguments, readable by every local user, so a link to
// this machine (the one-shot /start/ and /launch/ links carry their secret in the path) is never
// put there: the browser gets a file:// page of ours, 0600 in a 0700 directory, that redirects to
// it. Other users can read the page's name, not its content.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { readdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePrivateDir } from '../vault/fs.js';
import { UserError } from './errors.js';
import type { BrowserOpener, Logger } from './services.js';
import { displayUrl, isLoopbackHost, safeHttpUrl } from './urls.js';

export const MAX_EXTERNAL_URL = 2048;

/** https anywhere, or http to this machine only; no user:password@; throws UserError otherwise. */
export function checkExternalUrl(raw: string): URL {
  if (typeof raw !== 'string') throw new UserError('unsafe-url', 'The link is not a string; nothing was opened.');
  if (raw.length > MAX_EXTERNAL_URL) throw new UserError('unsafe-url', `The link is longer than ${MAX_EXTERNAL_URL} characters; nothing was opened.`);
  // new URL() trims and drops tabs/newlines; a link that needs that was built to confuse.
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(raw)) throw new UserError('unsafe-url', 'The link contains spaces or control characters; nothing was opened.');
  const url = safeHttpUrl(raw, 'link');
  if (url.username !== '' || url.password !== '') {
    // Credentials in a link would be sent to the site and shown in the browser's history.
    throw new UserError('unsafe-url', `The link to ${url.host} carries a user name or password; nothing was opened.`, 'Open the site without credentials in the address.');
  }
  return url;
}

/**
 * A server URL handed to the app on its command line (a second launch, or a desktop link),
 * e.g. `mcp-token-manager https://mcp.example.com/mcp`. Switches and anything that is not an
 * acceptable URL are skipped; the first acceptable one wins.
 */
export function linkUrlFromArgv(argv: readonly string[]): string | undefined {
  for (const arg of argv) {
    if (arg.startsWith('-') || !/^https?:\/\//i.test(arg)) continue;
    try {
      return checkExternalUrl(arg).href;
    } catch {
      // not acceptable: look further
    }
  }
  return undefined;
}

/** Where a data dir's redirect pages go: its private run/ dir. */
export function redirectPagesDir(home: string): string {
  return path.join(home, 'run', 'open');
}

/** How long a redirect page is kept for a browser that starts slowly; gone with the process anyway. */
export const REDIRECT_PAGE_TTL_MS = 2 * 60_000;
const livePages = new Set<string>();
/** Each live page by the link it leads to, so the link's server can remove it once used. */
const pageFor = new Map<string, string>();
let exitHookSet = false;

function htmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page's text: an immediate redirect to `target`, and a link for a browser that ignores it. */
export function redirectPageHtml(target: string): string {
  const t = htmlAttr(target);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${t}"><title>MCP Token Manager</title></head><body><p>Opening MCP Token Manager&hellip; If nothing happens, <a href="${t}">continue here</a>.</p></body></html>\n`;
}

/**
 * Writes a redirect page for `target` in `dir` (made 0700 and checked to be ours), 0600, and
 * returns its path. Pages are removed after REDIRECT_PAGE_TTL_MS, at exit, and (left by a process
 * that died) when the next one is written.
 */
export async function writeRedirectPage(dir: string, target: string): Promise<string> {
  await ensurePrivateDir(dir);
  await sweepPages(dir);
  const file = path.join(dir, `open-${randomBytes(12).toString('hex')}.html`);
  await writeFile(file, redirectPageHtml(target), { mode: 0o600, flag: 'wx' });
  livePages.add(file);
  pageFor.set(target, file);
  if (!exitHookSet) {
    exitHookSet = true;
    process.once('exit', () => {
      for (const f of livePages) {
        try {
          unlinkSync(f); // at exit nothing can be awaited
        } catch {
          // already gone
        }
      }
    });
  }
  setTimeout(() => void removePage(file), REDIRECT_PAGE_TTL_MS).unref();
  return file;
}

/**
 * The link `target` was just used (its one-shot server saw it): its page has done its job and is
 * removed now rather than at its timeout. A no-op for links opened by another process.
 */
export function redirectPageUsed(target: string): void {
  const file = pageFor.get(target);
  if (file !== undefined) void removePage(file);
}

async function removePage(file: string): Promise<void> {
  livePages.delete(file);
  for (const [t, f] of pageFor) if (f === file) pageFor.delete(t);
  await unlink(file).catch(() => {});
}

async function sweepPages(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => /^open-[0-9a-f]+\.html$/.test(n))
      .map(async (n) => {
        const f = path.join(dir, n);
        const st = await stat(f).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > REDIRECT_PAGE_TTL_MS) await unlink(f).catch(() => {});
      }),
  );
}

export interface OpenerOptions {
  logger?: Logger;
  /**
   * A private directory for redirect pages: links to this machine are opened through a page
   * there, never on the browser's command line. Without it they are refused.
   */
  pagesDir?: string;
}

/**
 * The opener every host uses: checks the URL, logs it without its query, then launches it; a
 * link to this machine goes through a private redirect page (see the top of this file).
 */
export function checkedOpener(launch: (url: string) => Promise<void>, o: OpenerOptions | Logger = {}): BrowserOpener {
  const { logger, pagesDir } = 'log' in o ? { logger: o, pagesDir: undefined } : o;
  return {
    async open(raw: string) {
      const url = checkExternalUrl(raw);
      // Query strings may carry codes or state; the log gets the address without them.
      logger?.log('info', `opening ${displayUrl(url)} in the browser`);
      if (!isLoopbackHost(url.hostname)) return launch(url.href);
      if (!pagesDir) throw new UserError('unsafe-url', 'A link to this machine can only be opened through a private page, and none is set up; nothing was opened.', 'Open the link printed by MCP Token Manager yourself.');
      const page = await writeRedirectPage(pagesDir, url.href);
      await launch(pathToFileURL(page).href);
    },
  };
}

/** Splits a command line on spaces, honouring simple single/double quotes (no shell). */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === ' ' || ch === '\t') {
      if (cur || has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (cur || has) out.push(cur);
  return out;
}

/** The argv that opens `url`: $BROWSER (first entry of a colon list; %s replaced or URL appended), else the platform opener. */
export function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const b = env.BROWSER?.split(':').find((s) => s.trim());
  if (b) {
    const argv = splitCommand(b.trim());
    return argv.some((a) => a.includes('%s')) ? argv.map((a) => a.replace(/%s/g, url)) : [...argv, url];
  }
  if (platform === 'darwin') return ['open', url];
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url];
  return ['xdg-open', url];
}

/** The headless opener: $BROWSER or the platform's opener, no shell. */
export function createBrowserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, logger?: Logger, pagesDir?: string): BrowserOpener {
  return checkedOpener(
    (url) =>
      new Promise<void>((resolve, reject) => {
        const [cmd, ...args] = browserCommand(url, env, platform);
        const child = spawn(cmd!, args, { stdio: 'ignore', detached: platform !== 'win32', shell: false });
        child.once('error', (err) => reject(new Error(`Could not start the browser (${cmd}): ${err.message}`)));
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      }),
    { ...(logger ? { logger } : {}), ...(pagesDir ? { pagesDir } : {}) },
  );
}
