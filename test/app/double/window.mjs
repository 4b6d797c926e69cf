// BrowserWindow and webContents, backed by a real Chromium page through playwright-core. The
// page loads the renderer through the app's own protocol.handle handler, runs the real preload
// against a contextBridge/ipcRenderer emulation, and its invoke() calls reach the real ipcMain
// handlers with the sender frame they check.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { electronEvent, notSupported, registry, strict } from './strict.mjs';

// Chromium cannot load an unknown scheme, so app://renderer/x is shown to it as
// https://renderer.app.electron-double.invalid/x, intercepted before any network, and every URL
// the app sees (frames, navigations, requests) is translated back.
const SUFFIX = '.electron-double.invalid';

export function toChromiumUrl(electronUrl) {
  const u = new URL(electronUrl);
  const scheme = u.protocol.slice(0, -1);
  if (scheme === 'file') throw notSupported('loading file:// pages (serve them with protocol.handle)');
  if (scheme === 'http' || scheme === 'https') throw notSupported('loading remote pages in a window');
  if (!registry.protocols.has(scheme)) throw notSupported(`loading ${scheme}: without a protocol.handle handler`);
  const p = registry.privileged.get(scheme);
  if (!p?.standard || !p?.secure) throw notSupported(`custom scheme ${scheme}: not registered as standard and secure (the double maps it to an https origin)`);
  return `https://${u.host}.${scheme}${SUFFIX}${u.pathname}${u.search}${u.hash}`;
}

export function toElectronUrl(chromiumUrl) {
  let u;
  try {
    u = new URL(chromiumUrl);
  } catch {
    return chromiumUrl;
  }
  if (u.protocol !== 'https:' || !u.hostname.endsWith(SUFFIX)) return chromiumUrl;
  const parts = u.hostname.slice(0, -SUFFIX.length).split('.');
  const scheme = parts.pop();
  return `${scheme}://${parts.join('.')}${u.pathname}${u.search}${u.hash}`;
}

// ------------------------------------------------------------------ Chromium
const owners = new Map(); // page -> WebContents
let contextPromise;

function browserContext() {
  contextPromise ??= (async () => {
    const profile = path.join(registry.app.getPath('userData'), 'electron-double-chromium');
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.ELECTRON_DOUBLE_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await ctx.route(() => true, (route) => onRoute(route).catch((err) => {
      registry.blocked.push({ url: route.request().url(), why: `double error: ${err.message}` });
      return route.abort('failed').catch(() => undefined);
    }));
    // The test drives the same pages over CDP (chromium.connectOverCDP).
    const portFile = path.join(profile, 'DevToolsActivePort');
    for (let i = 0; i < 100 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 100));
    registry.cdp = `http://127.0.0.1:${readFileSync(portFile, 'utf8').split('\n')[0]}`;
    return ctx;
  })();
  return contextPromise;
}

export async function closeBrowser() {
  if (!contextPromise) return;
  const ctx = await contextPromise.catch(() => undefined);
  await ctx?.close().catch(() => undefined);
}

async function onRoute(route) {
  const req = route.request();
  const url = req.url();
  const electronUrl = toElectronUrl(url);
  const frame = req.frame();
  const page = frame.page();
  const wc = owners.get(page);
  if (!wc) {
    // A page our window opened (window.open, target=_blank): Electron asks the open handler first.
    const opener = await page.opener();
    owners.get(opener)?.windowOpen(electronUrl);
    await route.abort('aborted');
    await page.close().catch(() => undefined);
    return;
  }
  const isMain = frame === page.mainFrame();
  if (req.isNavigationRequest() && !(isMain && wc.expected === url.split('#')[0])) {
    // Renderer-initiated: the app's will-navigate / will-frame-navigate handlers decide.
    const ev = electronEvent({ url: electronUrl, isMainFrame: isMain });
    wc.emit('will-frame-navigate', ev);
    if (isMain) wc.emit('will-navigate', ev, electronUrl);
    if (ev.defaultPrevented) {
      registry.blocked.push({ url: electronUrl, why: 'navigation prevented by the app' });
      await route.abort('aborted');
      return;
    }
  }
  if (electronUrl === url) {
    registry.blocked.push({ url, why: 'the double serves no network' });
    await route.abort('blockedbyclient');
    return;
  }
  const handler = registry.protocols.get(new URL(electronUrl).protocol.slice(0, -1));
  const method = req.method();
  const body = method === 'GET' || method === 'HEAD' ? undefined : (req.postDataBuffer() ?? undefined);
  const response = await handler(new Request(electronUrl.split('#')[0], { method, body }));
  const headers = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  const data = Buffer.from(await response.arrayBuffer());
  if (req.isNavigationRequest()) registry.documents.push({ url: electronUrl, status: response.status, headers, mainFrame: isMain });
  await route.fulfill({ status: response.status, headers, body: data });
}

// ------------------------------------------------------------------ preload
function preloadScript(source) {
  return `(() => {
  if (window.top !== window) return; // Electron runs the preload in the main frame only
  const no = (what) => { throw new Error('not supported by the double: ' + what); };
  const listeners = new Map();
  const ipcRenderer = new Proxy({
    invoke: (channel, ...args) => window.__electronDoubleInvoke(channel, args),
    on(channel, fn) { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel).add(fn); return ipcRenderer; },
    removeListener(channel, fn) { listeners.get(channel)?.delete(fn); return ipcRenderer; },
    off(channel, fn) { listeners.get(channel)?.delete(fn); return ipcRenderer; },
  }, { get: (t, p) => (typeof p === 'symbol' || p in t ? t[p] : no('ipcRenderer.' + String(p))) });
  const contextBridge = new Proxy({
    exposeInMainWorld(key, api) { Object.defineProperty(window, key, { value: api, enumerable: true, configurable: false, writable: false }); },
  }, { get: (t, p) => (typeof p === 'symbol' || p in t ? t[p] : no('contextBridge.' + String(p))) });
  Object.defineProperty(window, '__electronDoubleEmit', { value: (channel, args) => { for (const fn of [...(listeners.get(channel) ?? [])]) fn({ sender: ipcRenderer }, ...args); } });
  const require = (name) => (name === 'electron' ? { contextBridge, ipcRenderer } : no("require('" + name + "') in a sandboxed preload"));
  const module = { exports: {} };
  (function (require, module, exports) {
${source}
  })(require, module, module.exports);
})();`;
}

function frameMain(frame) {
  const parent = frame.parentFrame();
  const url = toElectronUrl(frame.url());
  let origin = 'null';
  try {
    origin = new URL(url).origin;
  } catch {
    /* about:blank */
  }
  return strict({ url, origin, name: frame.name(), parent: parent ? frameMain(parent) : null, detached: frame.isDetached() }, 'WebFrameMain');
}

// ------------------------------------------------------------------ webContents
let nextId = 1;

export class WebContents extends EventEmitter {
  constructor(options) {
    super();
    this.id = nextId++;
    this.destroyed = false;
    this.expected = null;
    this.openHandler = null;
    this.sendQueue = Promise.resolve();
    this.page = null;
    this.pageReady = this.setUp(options);
    this.pageReady.catch((err) => {
      registry.errors.push(`window: ${err.message}`);
      process.stderr.write(`[electron-double] the window could not be set up: ${err.stack}\n`);
    });
  }

  async setUp(options) {
    const prefs = options.webPreferences ?? {};
    const preload = prefs.preload ? await readFile(prefs.preload, 'utf8') : undefined;
    const ctx = await browserContext();
    const free = ctx.pages().find((p) => !owners.has(p) && p.url() === 'about:blank');
    const page = free ?? (await ctx.newPage());
    owners.set(page, this);
    this.page = page;
    await page.setViewportSize({ width: options.width ?? 800, height: options.height ?? 600 });
    await page.exposeBinding('__electronDoubleInvoke', (source, channel, args) => this.invoke(source.frame, channel, args));
    if (preload !== undefined) await page.addInitScript({ content: preloadScript(preload) });
    page.on('domcontentloaded', () => this.emit('dom-ready', electronEvent()));
    page.on('load', () => this.emit('did-finish-load', electronEvent()));
    return page;
  }

  async invoke(frame, channel, args) {
    const handler = registry.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    const event = electronEvent({ sender: this, senderFrame: frameMain(frame), frameId: 0, processId: 0, type: 'frame' });
    return handler(event, ...args);
  }

  windowOpen(url) {
    const r = this.openHandler ? this.openHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } }) : { action: 'allow' };
    if (r?.action !== 'deny') registry.blocked.push({ url, why: 'not supported by the double: a window opened by the page' });
  }

  setWindowOpenHandler(fn) {
    this.openHandler = fn;
  }

  async loadURL(url) {
    const target = toChromiumUrl(url);
    const page = await this.pageReady;
    this.expected = target.split('#')[0];
    try {
      await page.goto(target, { waitUntil: 'load', timeout: 30_000 });
    } finally {
      this.expected = null;
    }
  }

  loadFile() {
    throw notSupported('webContents.loadFile (file:// pages)');
  }

  /** Browser-initiated, like loadURL: no will-navigate. */
  async reload() {
    const page = await this.pageReady;
    this.expected = page.url().split('#')[0];
    try {
      await page.reload({ waitUntil: 'load', timeout: 30_000 });
    } finally {
      this.expected = null;
    }
  }

  getURL() {
    return this.page ? toElectronUrl(this.page.url()) : '';
  }

  send(channel, ...args) {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sendQueue = this.sendQueue.then(() => this.page?.evaluate(([c, a]) => globalThis.__electronDoubleEmit?.(c, a), [channel, args]).catch(() => undefined));
  }

  isDestroyed() {
    return this.destroyed;
  }

  async destroyPage() {
    this.destroyed = true;
    const page = await this.pageReady.catch(() => undefined);
    await page?.close().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ BrowserWindow
export class BrowserWindow extends EventEmitter {
  static getAllWindows() {
    return registry.windows.filter((w) => !w.isDestroyed());
  }

  constructor(options = {}) {
    super();
    if (!registry.ready) throw new Error('Cannot create BrowserWindow before app is ready');
    const prefs = options.webPreferences ?? {};
    if (prefs.nodeIntegration === true || prefs.contextIsolation === false || prefs.sandbox === false) {
      throw notSupported('windows without contextIsolation and sandbox, or with nodeIntegration');
    }
    if (prefs.preload !== undefined && !existsSync(prefs.preload)) throw new Error(`Unable to load preload script: ${prefs.preload}`);
    this.id = registry.windows.length + 1;
    this.title = options.title ?? '';
    this.visible = options.show !== false;
    this.focused = this.visible;
    this.minimized = false;
    this.destroyed = false;
    this.menuRemoved = false;
    this.focusCount = 0;
    this.showCount = 0;
    this.size = { width: options.width ?? 800, height: options.height ?? 600 };
    this.webContents = strict(new WebContents(options), 'webContents');
    const self = strict(this, 'BrowserWindow');
    registry.windows.push(self);
    registry.app.emit('browser-window-created', electronEvent(), self);
    registry.app.emit('web-contents-created', electronEvent(), this.webContents);
    return self;
  }

  loadURL(url) {
    return this.webContents.loadURL(url);
  }
  loadFile() {
    throw notSupported('BrowserWindow.loadFile (file:// pages)');
  }
  removeMenu() {
    this.menuRemoved = true;
  }
  show() {
    this.visible = true;
    this.focused = true;
    this.showCount++;
    this.emit('show');
  }
  hide() {
    this.visible = false;
    this.focused = false;
    this.emit('hide');
  }
  focus() {
    this.focused = true;
    this.focusCount++;
    this.emit('focus');
  }
  minimize() {
    this.minimized = true;
    this.emit('minimize');
  }
  restore() {
    this.minimized = false;
    this.emit('restore');
  }
  isVisible() {
    return this.visible;
  }
  isFocused() {
    return this.focused;
  }
  isMinimized() {
    return this.minimized;
  }
  isDestroyed() {
    return this.destroyed;
  }
  getTitle() {
    return this.title;
  }
  setTitle(t) {
    this.title = t;
  }
  /** The person closes the window: the app may prevent it (Electron's 'close'). */
  close() {
    if (this.destroyed) return;
    const ev = electronEvent();
    this.emit('close', ev);
    if (!ev.defaultPrevented) this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    void this.webContents.destroyPage();
    this.emit('closed');
  }
  snapshot() {
    return { id: this.id, title: this.title, visible: this.visible, focused: this.focused, minimized: this.minimized, destroyed: this.destroyed, focusCount: this.focusCount, showCount: this.showCount, menuRemoved: this.menuRemoved, url: this.webContents.getURL(), size: this.size };
  }
}
