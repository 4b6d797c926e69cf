// Runs the built main process (dist/electron/main.js) under Node with the Electron double, and
// gives the test its control channel and the window's page (over CDP, with Playwright).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { cliEnv, ROOT } from '../integration/cli-helpers.js';
import { resolveBrowser } from '../e2e/browser.js';

export const MAIN = join(ROOT, 'dist/electron/main.js');
export const REGISTER = join(ROOT, 'test/app/double/register.mjs');
/** How the double maps app://renderer/ for Chromium (test/app/double/window.mjs). */
export const RENDERER_ORIGIN = 'https://renderer.app.electron-double.invalid';

export interface MenuItemState {
  type: string;
  label?: string;
  enabled: boolean;
}

export interface DoubleState {
  ready: boolean;
  pid: number;
  cdp: string | null;
  windows: Array<{ id: number; visible: boolean; focused: boolean; destroyed: boolean; focusCount: number; showCount: number; url: string; menuRemoved: boolean }>;
  tray: { image: string; tooltip: string; title: string; items: MenuItemState[] } | null;
  notifications: Array<{ title: string; body: string; shown: boolean }>;
  openedExternal: string[];
  documents: Array<{ url: string; status: number; headers: Record<string, string>; mainFrame: boolean }>;
  blocked: Array<{ url: string; why: string }>;
  secondInstances: string[][];
  errorBoxes: Array<{ title: string; content: string }>;
  errors: string[];
  badgeCount: number;
  ipcChannels: string[];
  protocols: string[];
  /** URLs the app asked session.resolveProxy about. */
  proxyQueries: string[];
}

export interface LaunchOptions {
  home: string;
  /** The main script (a copy of dist/ laid out like a packaged app, for the AppImage case). */
  main?: string;
  args?: string[];
  /** Makes the double a packaged app with this resources folder. */
  resourcesPath?: string;
  env?: Record<string, string>;
}

export interface AppProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  state(): Promise<DoubleState>;
  /** Polls the double's state until `pred` holds (bounded in count and time). */
  until(what: string, pred: (s: DoubleState) => boolean, timeoutMs?: number): Promise<DoubleState>;
  /** The window's page, driven over CDP. */
  page(): Promise<Page>;
  exited: Promise<number | null>;
  /** Disconnects the test's CDP client (the app's Chromium keeps running). */
  detach(): Promise<void>;
}

/** One key per test file: the "keyring" the double's safeStorage stands for, shared by launches. */
export const SAFE_STORAGE_KEY = randomBytes(32).toString('hex');

export function appEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const b = resolveBrowser();
  return { ...cliEnv(home), ELECTRON_DOUBLE_SAFE_STORAGE_KEY: SAFE_STORAGE_KEY, ...('path' in b ? { ELECTRON_DOUBLE_CHROMIUM: b.path } : {}), ...extra };
}

export function launchApp(o: LaunchOptions): AppProcess {
  const env = appEnv(o.home, { ...(o.resourcesPath ? { ELECTRON_DOUBLE_RESOURCES_PATH: o.resourcesPath } : {}), ...o.env });
  const child = spawn(process.execPath, ['--import', REGISTER, o.main ?? MAIN, ...(o.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(new Error(m.error));
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`the app exited\n${out}`));
    pending.clear();
  });
  const call = <T,>(cmd: string, args: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      if (child.exitCode !== null || !child.connected) return reject(new Error(`the app is not running\n${out}`));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the double did not answer ${cmd} in 30 s\n${out}`));
      }, 30_000);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ id, cmd, args });
    });
  const state = () => call<DoubleState>('state');
  async function until(what: string, pred: (s: DoubleState) => boolean, timeoutMs = 60_000): Promise<DoubleState> {
    const deadline = Date.now() + timeoutMs;
    let last: DoubleState | undefined;
    for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
      try {
        last = await state();
      } catch (err) {
        // Still loading under a heavy load: keep polling until the deadline, unless it died.
        if (child.exitCode !== null || Date.now() >= deadline) throw err;
        continue;
      }
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`the app never reached: ${what}\nlast state: ${JSON.stringify(last, null, 1)}\noutput:\n${out}`);
  }
  let browser: Browser | undefined;
  async function page(): Promise<Page> {
    const s = await until('a window with a loaded page and a CDP endpoint', (x) => x.cdp !== null && x.windows.some((w) => !w.destroyed && w.url.startsWith('app://')), 120_000);
    browser ??= await chromium.connectOverCDP(s.cdp!);
    for (let i = 0; i < 100; i++) {
      const p = browser.contexts().flatMap((c) => c.pages()).find((x) => x.url().startsWith(RENDERER_ORIGIN));
      if (p) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the window page was not found over CDP');
  }
  return {
    child,
    pid: child.pid!,
    output: () => out,
    call,
    state,
    until,
    page,
    exited,
    async detach() {
      // A CDP client's close() only disconnects from a browser it did not launch.
      await browser?.close().catch(() => undefined);
      browser = undefined;
    },
  };
}

/** Processes still running whose environment names this data dir (the app, Chromium, daemons, bridges). */
export function processesUsing(home: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${d}/environ`, 'latin1');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (/\) Z /.test(stat)) continue; // a zombie is gone, only not reaped yet
      if (environ.split('\0').includes(`MCP_TOKENS_HOME=${home}`) || cmd.includes(home)) out.push({ pid: Number(d), cmd: cmd.slice(0, 200) });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

export function requireBuilt(): void {
  for (const f of [MAIN, join(ROOT, 'dist/electron/preload.cjs'), join(ROOT, 'dist/renderer/index.html'), join(ROOT, 'dist/cli.js')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first.`);
  }
  const b = resolveBrowser();
  if ('error' in b) throw new Error(b.error);
}
