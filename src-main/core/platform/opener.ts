// The one audited way to open a URL in the person's browser: only https, or http to loopback.
import { spawn } from 'node:child_process';
import type { BrowserOpener } from './services.js';
import { safeHttpUrl } from './urls.js';

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

export function createBrowserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserOpener {
  return {
    async open(raw: string) {
      const url = safeHttpUrl(raw, 'URL to open').href;
      const [cmd, ...args] = browserCommand(url, env, platform);
      await new Promise<void>((resolve, reject) => {
        const child = spawn(cmd!, args, { stdio: 'ignore', detached: platform !== 'win32', shell: false });
        child.once('error', (err) => reject(new Error(`Could not start the browser (${cmd}): ${err.message}`)));
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      });
    },
  };
}
