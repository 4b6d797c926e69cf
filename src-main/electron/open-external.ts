// The app's only way to hand a URL to the operating system. Everything that opens a link —
// the authorization step, the renderer's "open" buttons, window.open, a clicked <a> — goes
// through core's checkedOpener, the same audited path the CLI uses.
import { checkedOpener } from '../core/platform/opener.js';
import type { BrowserOpener, Logger } from '../core/platform/services.js';

/** `pagesDir`: where links to this machine get their private redirect page (see checkedOpener). */
export function externalOpener(openExternal: (url: string) => Promise<void>, logger?: Logger, pagesDir?: string): BrowserOpener {
  return checkedOpener(openExternal, { ...(logger ? { logger } : {}), ...(pagesDir ? { pagesDir } : {}) });
}
