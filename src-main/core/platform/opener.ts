// The one audited way to hand a URL to the browser or the operating system: the CLI's
// $BROWSER/xdg-open launcher and the app's shell.openExternal both go through checkedOpener,
// so both apply checkExternalUrl. The OS opens whatever scheme it has a handler for (file:,
// smb:, custom app schemes), so everything except the web is refused before anything runs.
// Whatever is opened lands in a process's arguments, readable by every local user: callers
// pass one-shot loopback links there, never an authorization URL or a key.
import { spawn } from 'node:child_process';
import { UserError } from './errors.js';
import type { BrowserOpener, Logger } from './services.js';
import { displayUrl, safeHttpUrl } from './urls.js';

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

/** The opener every host uses: checks the URL, logs it without its query, then launches it. */
export function checkedOpener(launch: (url: string) => Promise<void>, logger?: Logger): BrowserOpener {
  return {
    async open(raw: string) {
      const url = checkExternalUrl(raw);
      // Query strings may carry codes or state; the log gets the address without them.
      logger?.log('info', `opening ${displayUrl(url)} in the browser`);
      await launch(url.href);
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
export function createBrowserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, logger?: Logger): BrowserOpener {
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
    logger,
  );
}
