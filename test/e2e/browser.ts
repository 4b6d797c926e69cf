// Finds a Chromium-family browser for the browser tests where people usually have one.
// Pure over (env, platform, file system) so every platform's list is tested here.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BrowserProbe {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  home: string;
  exists(p: string): boolean;
  /** Entries of a directory; empty when it does not exist. */
  list(dir: string): string[];
}

export const realProbe = (): BrowserProbe => ({
  env: process.env,
  platform: process.platform,
  home: os.homedir(),
  exists: existsSync,
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
});

/** Playwright's browser cache for this platform (PLAYWRIGHT_BROWSERS_PATH wins). */
function playwrightCache(p: BrowserProbe, join: (...s: string[]) => string): string {
  const set = p.env.PLAYWRIGHT_BROWSERS_PATH;
  if (set && set !== '0') return set;
  if (p.platform === 'win32') return join(p.env.LOCALAPPDATA ?? join(p.home, 'AppData', 'Local'), 'ms-playwright');
  if (p.platform === 'darwin') return join(p.home, 'Library', 'Caches', 'ms-playwright');
  return join(p.env.XDG_CACHE_HOME ?? join(p.home, '.cache'), 'ms-playwright');
}

/** Executables inside one installed Playwright browser directory, newest layouts first. */
function playwrightExecutables(platform: NodeJS.Platform, dir: string, join: (...s: string[]) => string): string[] {
  if (platform === 'win32') {
    return [join(dir, 'chrome-win64', 'chrome.exe'), join(dir, 'chrome-win', 'chrome.exe'), join(dir, 'chrome-headless-shell-win64', 'chrome-headless-shell.exe')];
  }
  if (platform === 'darwin') {
    const cft = 'Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing';
    return [
      join(dir, 'chrome-mac-arm64', cft),
      join(dir, 'chrome-mac-x64', cft),
      join(dir, 'chrome-mac', cft),
      join(dir, 'chrome-mac', 'Chromium.app/Contents/MacOS/Chromium'),
      join(dir, 'chrome-headless-shell-mac-arm64', 'chrome-headless-shell'),
      join(dir, 'chrome-headless-shell-mac-x64', 'chrome-headless-shell'),
    ];
  }
  return [join(dir, 'chrome-linux64', 'chrome'), join(dir, 'chrome-linux', 'chrome'), join(dir, 'chrome-headless-shell-linux64', 'chrome-headless-shell'), join(dir, 'chrome-linux', 'headless_shell')];
}

/** Every place looked at, in order: the variables, the system's installs, then Playwright's. */
export function browserCandidates(p: BrowserProbe): string[] {
  const join = p.platform === 'win32' ? path.win32.join : path.posix.join;
  const out: string[] = [];
  for (const v of ['CHROME_PATH', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH']) {
    const value = p.env[v]?.trim();
    if (value) out.push(value);
  }
  if (p.platform === 'win32') {
    const roots = [p.env.PROGRAMFILES ?? 'C:\\Program Files', p.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)', p.env.LOCALAPPDATA ?? join(p.home, 'AppData', 'Local')];
    for (const r of roots) {
      out.push(join(r, 'Chromium', 'Application', 'chrome.exe'), join(r, 'Google', 'Chrome', 'Application', 'chrome.exe'));
    }
  } else if (p.platform === 'darwin') {
    for (const apps of ['/Applications', join(p.home, 'Applications')]) {
      out.push(join(apps, 'Chromium.app/Contents/MacOS/Chromium'), join(apps, 'Google Chrome.app/Contents/MacOS/Google Chrome'));
    }
  } else {
    for (const bin of ['/usr/bin', '/usr/local/bin', '/snap/bin']) {
      out.push(...['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].map((n) => join(bin, n)));
    }
    out.push('/opt/google/chrome/chrome');
  }
  const cache = playwrightCache(p, join);
  // chromium-1200 before chromium-1190; the headless shell only when no full build is there.
  const dirs = p
    .list(cache)
    .filter((d) => /^chromium(_headless_shell)?-\d+$/.test(d))
    .sort((a, b) => Number(a.includes('headless')) - Number(b.includes('headless')) || Number(b.split('-')[1]) - Number(a.split('-')[1]));
  for (const d of dirs) out.push(...playwrightExecutables(p.platform, join(cache, d), join));
  return out;
}

/**
 * The browser to use, or one message saying what to install. A variable naming a file
 * that is not there is an error, not a reason to quietly pick another browser.
 */
export function resolveBrowser(p: BrowserProbe = realProbe()): { path: string } | { error: string } {
  for (const v of ['CHROME_PATH', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH']) {
    const value = p.env[v]?.trim();
    if (value && !p.exists(value)) return { error: `${v} is set to ${value}, which does not exist: point it at a Chromium or Chrome executable, or unset it.` };
  }
  const found = browserCandidates(p).find((c) => p.exists(c));
  return found ? { path: found } : { error: noBrowserMessage(p.platform) };
}

/** One message for people: what was looked for and what to install. */
export function noBrowserMessage(platform: NodeJS.Platform = process.platform): string {
  const install =
    platform === 'darwin'
      ? 'install Google Chrome or Chromium (brew install --cask chromium)'
      : platform === 'win32'
        ? 'install Google Chrome'
        : 'install Chromium (Debian/Ubuntu: sudo apt-get install chromium; Fedora: sudo dnf install chromium)';
  return (
    'The browser tests need Chromium or Chrome, and none was found ($CHROME_PATH, $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, ' +
    `the usual install places, Playwright's browser cache). To run \`npm test\`, ${install}, or set CHROME_PATH to one.`
  );
}
