// The one audited policy for handing a URL to the operating system (Electron's
// shell.openExternal, the tray, window.open from the renderer, a URL on the command line).
// The OS opens whatever scheme it has a handler for — file:, smb:, custom app schemes — so
// everything except the web is refused here, before anything is launched.
import { UserError } from './errors.js';
import { safeHttpUrl } from './urls.js';

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
