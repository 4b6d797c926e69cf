// The app's only way to hand a URL to the operating system. Everything that opens a link —
// the authorization step, the renderer's "open" buttons, window.open, a clicked <a> — goes
// through here, and so through core's checkExternalUrl policy.
import { checkExternalUrl } from '../core/platform/external.js';
import type { BrowserOpener, Logger } from '../core/platform/services.js';
import { displayUrl } from '../core/platform/urls.js';

export function externalOpener(openExternal: (url: string) => Promise<void>, logger?: Logger): BrowserOpener {
  return {
    async open(raw: string) {
      const url = checkExternalUrl(raw);
      // Query strings may carry codes or state; the log gets the address without them.
      logger?.log('info', `opening ${displayUrl(url)} in the browser`);
      await openExternal(url.href);
    },
  };
}
