import { describe, expect, it } from 'vitest';
import { type BrowserProbe, browserCandidates, resolveBrowser } from '../e2e/browser.js';

/** A machine described by the files it has (the discovery only looks, so a file list is the machine). */
function machine(platform: NodeJS.Platform, files: string[], env: NodeJS.ProcessEnv = {}, home = platform === 'win32' ? 'C:\\Users\\ann' : platform === 'darwin' ? '/Users/ann' : '/home/ann'): BrowserProbe {
  const sep = platform === 'win32' ? '\\' : '/';
  const set = new Set(files);
  return {
    env,
    platform,
    home,
    exists: (p) => set.has(p),
    list: (dir) => [...new Set(files.filter((f) => f.startsWith(dir + sep)).map((f) => f.slice(dir.length + 1).split(sep)[0]!))],
  };
}

describe('browser discovery', () => {
  it('takes $CHROME_PATH, then $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, before anything installed', () => {
    const files = ['/usr/bin/chromium', '/opt/a/chrome', '/opt/b/chrome'];
    expect(resolveBrowser(machine('linux', files, { CHROME_PATH: '/opt/a/chrome', PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: '/opt/b/chrome' }))).toEqual({ path: '/opt/a/chrome' });
    expect(resolveBrowser(machine('linux', files, { PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: '/opt/b/chrome' }))).toEqual({ path: '/opt/b/chrome' });
  });
  it('refuses a variable that names a missing file instead of quietly using another browser', () => {
    const r = resolveBrowser(machine('linux', ['/usr/bin/chromium'], { CHROME_PATH: '/nope/chrome' }));
    expect(r).toEqual({ error: expect.stringContaining('CHROME_PATH is set to /nope/chrome, which does not exist') });
  });
  it('finds the usual installs on Linux, macOS and Windows', () => {
    expect(resolveBrowser(machine('linux', ['/usr/bin/google-chrome-stable']))).toEqual({ path: '/usr/bin/google-chrome-stable' });
    expect(resolveBrowser(machine('linux', ['/snap/bin/chromium']))).toEqual({ path: '/snap/bin/chromium' });
    const mac = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    expect(resolveBrowser(machine('darwin', [mac]))).toEqual({ path: mac });
    const win = 'C:\\Users\\ann\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe';
    expect(resolveBrowser(machine('win32', [win], { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }))).toEqual({ path: win });
    const pf = 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe';
    expect(resolveBrowser(machine('win32', [pf], {}))).toEqual({ path: pf });
  });
  it("prefers the system's browser, then Playwright's newest full build, and its headless shell last", () => {
    const cache = '/home/ann/.cache/ms-playwright';
    const files = [`${cache}/chromium-1100/chrome-linux/chrome`, `${cache}/chromium-1200/chrome-linux64/chrome`, `${cache}/chromium_headless_shell-1300/chrome-headless-shell-linux64/chrome-headless-shell`];
    expect(resolveBrowser(machine('linux', files))).toEqual({ path: `${cache}/chromium-1200/chrome-linux64/chrome` });
    expect(resolveBrowser(machine('linux', [files[2]!]))).toEqual({ path: files[2] });
    expect(resolveBrowser(machine('linux', [...files, '/usr/bin/chromium']))).toEqual({ path: '/usr/bin/chromium' });
  });
  it("looks in Playwright's cache on each platform, and in $PLAYWRIGHT_BROWSERS_PATH when set", () => {
    const mac = '/Users/ann/Library/Caches/ms-playwright/chromium-1200/chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing';
    expect(resolveBrowser(machine('darwin', [mac]))).toEqual({ path: mac });
    const win = 'C:\\Users\\ann\\AppData\\Local\\ms-playwright\\chromium-1200\\chrome-win64\\chrome.exe';
    expect(resolveBrowser(machine('win32', [win], { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }))).toEqual({ path: win });
    const custom = '/srv/pw/chromium-1200/chrome-linux64/chrome';
    expect(resolveBrowser(machine('linux', [custom], { PLAYWRIGHT_BROWSERS_PATH: '/srv/pw' }))).toEqual({ path: custom });
  });
  it('with none found, says in one message what to install, per platform', () => {
    const linux = resolveBrowser(machine('linux', []));
    expect(linux).toEqual({ error: expect.stringContaining('apt-get install chromium') });
    expect((linux as { error: string }).error).not.toContain('\n');
    expect(resolveBrowser(machine('darwin', []))).toEqual({ error: expect.stringContaining('brew install --cask chromium') });
    expect(resolveBrowser(machine('win32', []))).toEqual({ error: expect.stringContaining('install Google Chrome') });
    // Bounded: a fixed list plus three layouts per Playwright build found.
    expect(browserCandidates(machine('linux', [])).length).toBeLessThan(20);
  });
});
