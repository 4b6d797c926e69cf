// The Electron double: what `import … from 'electron'` gives the built main process when the
// app tests run it under Node (see register.mjs). It mirrors the part of Electron 41's main-
// process API the app uses; anything else throws "not supported by the double: …".
// The test drives it over the Node IPC channel (control.mjs) and the window over CDP.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startControl } from './control.mjs';
import { electronEvent, notSupported, registry, strict } from './strict.mjs';
import { BrowserWindow as DoubleWindow, closeBrowser } from './window.mjs';

process.type = 'browser';
// ELECTRON_DOUBLE_RESOURCES_PATH makes a packaged app: its resources folder (new per AppImage launch).
const resourcesPath = process.env.ELECTRON_DOUBLE_RESOURCES_PATH;
if (resourcesPath) process.resourcesPath = resourcesPath;

function appPackage() {
  let dir = path.dirname(path.resolve(process.argv[1] ?? '.'));
  for (;;) {
    const p = path.join(dir, 'package.json');
    if (existsSync(p)) return { dir, json: JSON.parse(readFileSync(p, 'utf8')) };
    const up = path.dirname(dir);
    if (up === dir) throw notSupported('an app without a package.json above its main script');
    dir = up;
  }
}
const pkg = appPackage();

// Electron keeps running until quit, whatever handles Node has: so does the double.
const keepAlive = setInterval(() => undefined, 1 << 30);

// ------------------------------------------------------------------ app
class App extends EventEmitter {
  constructor() {
    super();
    this.isPackaged = Boolean(resourcesPath);
    this.name = pkg.json.productName ?? pkg.json.name;
    this.paths = new Map();
    this.quitting = false;
    this.lock = undefined;
    this.exiting = false;
    this.sandboxed = false;
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
  }
  whenReady() {
    return this.readyPromise;
  }
  isReady() {
    return registry.ready;
  }
  getName() {
    return this.name;
  }
  getVersion() {
    return pkg.json.version;
  }
  getAppPath() {
    return pkg.dir;
  }
  getPath(name) {
    if (this.paths.has(name)) return this.paths.get(name);
    const appData = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
    switch (name) {
      case 'home':
        return os.homedir();
      case 'appData':
        return appData;
      case 'userData':
        return path.join(appData, this.name);
      case 'temp':
        return os.tmpdir();
      case 'exe':
        return process.execPath;
      case 'logs':
        return path.join(this.getPath('userData'), 'logs');
      default:
        throw notSupported(`app.getPath('${name}')`);
    }
  }
  setPath(name, value) {
    if (!path.isAbsolute(value)) throw new Error(`Path must be absolute: ${value}`);
    this.paths.set(name, value);
  }
  enableSandbox() {
    if (registry.ready) throw new Error('app.enableSandbox() can only be called before app is ready');
    this.sandboxed = true;
  }
  setBadgeCount(n) {
    registry.badgeCount = n;
    return true;
  }
  setLoginItemSettings(s) {
    registry.loginItemSettings = { ...s };
  }
  getLoginItemSettings() {
    return { openAtLogin: Boolean(registry.loginItemSettings.openAtLogin), wasOpenedAtLogin: false, openAsHidden: false, restoreState: false, executableWillLaunchAtLogin: Boolean(registry.loginItemSettings.openAtLogin), launchItems: [] };
  }
  focus() {
    BrowserWindow.getAllWindows()[0]?.focus();
  }

  /**
   * The lock is per userData, as Electron's: a lock file naming the holder's pid, and a socket the
   * holder listens on. A second instance hands its argv over synchronously (as Electron does
   * before returning false), through a short child process, since Node has no sync sockets.
   */
  requestSingleInstanceLock(additionalData) {
    if (this.lock) return true;
    const dir = this.getPath('userData');
    mkdirSync(dir, { recursive: true });
    const lockFile = path.join(dir, 'electron-double.lock');
    const socket = path.join(dir, 'electron-double.sock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        closeSync(openSync(lockFile, 'wx', 0o600));
        writeFileSync(lockFile, String(process.pid));
        rmSync(socket, { force: true });
        const server = net.createServer((c) => {
          let text = '';
          c.setEncoding('utf8').on('data', (d) => (text += d));
          c.on('end', () => {
            c.end();
            const msg = JSON.parse(text);
            registry.secondInstances.push(msg.argv);
            this.emit('second-instance', electronEvent(), msg.argv, msg.cwd, msg.additionalData);
          });
        });
        server.listen(socket);
        server.unref();
        this.lock = { lockFile, socket, server };
        process.on('exit', () => this.releaseSingleInstanceLock());
        return true;
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        const pid = Number(readFileSync(lockFile, 'utf8')) || 0;
        let alive = pid > 0;
        try {
          if (alive) process.kill(pid, 0);
        } catch {
          alive = false;
        }
        if (!alive) {
          rmSync(lockFile, { force: true });
          continue;
        }
        const msg = JSON.stringify({ argv: process.argv, cwd: process.cwd(), additionalData: additionalData ?? null });
        const client = `const s=require('net').connect(process.argv[1]);s.end(process.argv[2]);s.resume();s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(3));setTimeout(()=>process.exit(4),5000);`;
        spawnSync(process.execPath, ['-e', client, socket, msg], { stdio: 'ignore', timeout: 6000 });
        return false;
      }
    }
    return false;
  }
  hasSingleInstanceLock() {
    return Boolean(this.lock);
  }
  releaseSingleInstanceLock() {
    if (!this.lock) return;
    this.lock.server.close();
    try {
      unlinkSync(this.lock.lockFile);
    } catch {
      /* gone */
    }
    rmSync(this.lock.socket, { force: true });
    this.lock = undefined;
    this.exiting = false;
    this.sandboxed = false;
  }

  /** Electron's order: before-quit, close every window (any may cancel), will-quit, quit, exit. */
  quit() {
    if (this.exiting) return;
    const before = electronEvent();
    this.emit('before-quit', before);
    if (before.defaultPrevented) return;
    for (const w of BrowserWindow.getAllWindows()) {
      w.close();
      if (!w.isDestroyed()) return;
    }
    const will = electronEvent();
    this.emit('will-quit', will);
    if (will.defaultPrevented) return;
    this.emit('quit', electronEvent(), 0);
    void this.finish(0);
  }
  exit(code = 0) {
    if (this.exiting) return;
    for (const w of BrowserWindow.getAllWindows()) w.destroy();
    void this.finish(code);
  }
  async finish(code) {
    this.exiting = true;
    const guard = setTimeout(() => process.exit(code), 10_000);
    await closeBrowser();
    clearTimeout(guard);
    clearInterval(keepAlive);
    process.exit(code);
  }
}

export const app = strict(new App(), 'app');
registry.app = app;

setImmediate(() => {
  app.emit('will-finish-launching');
  registry.ready = true;
  app.emit('ready', electronEvent(), {});
  app.resolveReady();
});

export const BrowserWindow = DoubleWindow;

// ------------------------------------------------------------------ ipcMain
class IpcMain extends EventEmitter {
  handle(channel, fn) {
    if (registry.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    registry.handlers.set(channel, fn);
  }
  handleOnce(channel, fn) {
    this.handle(channel, async (...a) => {
      this.removeHandler(channel);
      return fn(...a);
    });
  }
  removeHandler(channel) {
    registry.handlers.delete(channel);
  }
}
export const ipcMain = strict(new IpcMain(), 'ipcMain');

// ------------------------------------------------------------------ protocol and session
export const protocol = strict(
  {
    registerSchemesAsPrivileged(schemes) {
      if (registry.ready) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
      for (const s of schemes) registry.privileged.set(s.scheme, { ...s.privileges });
    },
    handle(scheme, handler) {
      if (!registry.ready) throw new Error('protocol.handle can only be used after app is ready');
      if (['http', 'https', 'file'].includes(scheme)) throw notSupported(`protocol.handle('${scheme}') (intercepting a built-in scheme)`);
      if (registry.protocols.has(scheme)) throw new Error(`Failed to register protocol: ${scheme}`);
      registry.protocols.set(scheme, handler);
    },
    unhandle(scheme) {
      registry.protocols.delete(scheme);
    },
    isProtocolHandled(scheme) {
      return registry.protocols.has(scheme);
    },
  },
  'protocol',
);

// The double records the permission handlers; Chromium under the double does not consult them.
const defaultSession = strict(
  {
    protocol,
    setPermissionRequestHandler(fn) {
      registry.permissionHandlers.request = fn;
    },
    setPermissionCheckHandler(fn) {
      registry.permissionHandlers.check = fn;
    },
    // The system's proxy for a URL, as Chromium gives it (PAC/WPAD result syntax). The double's
    // "system settings" are ELECTRON_DOUBLE_PAC (e.g. "PROXY 127.0.0.1:3128; DIRECT"); none: DIRECT.
    async resolveProxy(url) {
      if (typeof url !== 'string' || !/^[a-z]+:\/\//i.test(url)) throw new TypeError('resolveProxy: url must be a string URL');
      registry.proxyQueries.push(url);
      return process.env.ELECTRON_DOUBLE_PAC || 'DIRECT';
    },
  },
  'session.defaultSession',
);
export const session = strict(
  {
    get defaultSession() {
      if (!registry.ready) throw new Error('session module can only be used when app is ready');
      return defaultSession;
    },
  },
  'session',
);

// ------------------------------------------------------------------ tray, menu, images
export const nativeImage = strict(
  {
    createFromPath(p) {
      return strict({ path: p, template: false, isEmpty: () => !existsSync(p), setTemplateImage(b) { this.template = b; }, isTemplateImage() { return this.template; } }, 'NativeImage');
    },
  },
  'nativeImage',
);

export class Menu {
  static buildFromTemplate(template) {
    for (const item of template) {
      if (item.role) throw notSupported(`menu items with a role (${item.role})`);
      if (item.submenu && !Array.isArray(item.submenu)) throw notSupported('submenus given as Menu objects');
    }
    const m = new Menu();
    m.items = template.map((i) => ({ type: 'normal', enabled: true, visible: true, ...i }));
    return strict(m, 'Menu');
  }
  static setApplicationMenu(menu) {
    registry.applicationMenu = menu;
  }
}

export class Tray extends EventEmitter {
  constructor(image) {
    super();
    if (!registry.ready) throw new Error('Cannot create Tray before app is ready');
    this.image = image;
    this.tooltip = '';
    this.title = '';
    this.menu = null;
    this.destroyed = false;
    const self = strict(this, 'Tray');
    registry.trays.push(self);
    return self;
  }
  setImage(image) {
    this.image = image;
  }
  setToolTip(t) {
    this.tooltip = t;
  }
  setTitle(t) {
    this.title = t;
  }
  setContextMenu(menu) {
    this.menu = menu;
  }
  destroy() {
    this.destroyed = true;
  }
  isDestroyed() {
    return this.destroyed;
  }
}

// ------------------------------------------------------------------ notifications, shell, dialog
export class Notification extends EventEmitter {
  static isSupported() {
    return true;
  }
  constructor(options = {}) {
    super();
    this.title = options.title ?? '';
    this.body = options.body ?? '';
    this.shown = false;
    const self = strict(this, 'Notification');
    registry.notifications.push(self);
    return self;
  }
  show() {
    this.shown = true;
    this.emit('show', electronEvent());
  }
  close() {
    this.emit('close', electronEvent());
  }
}

export const shell = strict(
  {
    async openExternal(url) {
      new URL(url); // Electron rejects what is not a URL
      registry.openedExternal.push(url);
    },
    async openPath(p) {
      registry.openedPaths.push(p);
      return '';
    },
  },
  'shell',
);

export const dialog = strict(
  {
    showErrorBox(title, content) {
      registry.errorBoxes.push({ title, content });
      process.stderr.write(`[electron-double] error box: ${title}: ${content}\n`);
    },
  },
  'dialog',
);

// ------------------------------------------------------------------ safeStorage
// Stands in for the OS keyring: AES-256-GCM under a key the test passes in the environment, so
// several launches of one test share it, as they would share a keyring. Never a real keyring.
function storageKey() {
  const hex = process.env.ELECTRON_DOUBLE_SAFE_STORAGE_KEY ?? '';
  if (!/^[0-9a-f]{64}$/.test(hex)) throw notSupported('safeStorage without ELECTRON_DOUBLE_SAFE_STORAGE_KEY (64 hex digits, the keyring it stands for)');
  return Buffer.from(hex, 'hex');
}
export const safeStorage = strict(
  {
    isEncryptionAvailable: () => registry.ready,
    getSelectedStorageBackend: () => (registry.ready ? 'electron_double' : 'unknown'),
    setUsePlainTextEncryption() {
      throw notSupported('safeStorage.setUsePlainTextEncryption');
    },
    encryptString(plain) {
      if (!registry.ready) throw new Error('safeStorage cannot be used before app is ready');
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', storageKey(), iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([Buffer.from('dbl1'), iv, c.getAuthTag(), ct]);
    },
    decryptString(sealed) {
      if (!registry.ready) throw new Error('safeStorage cannot be used before app is ready');
      try {
        if (sealed.subarray(0, 4).toString() !== 'dbl1') throw new Error('bad header');
        const d = createDecipheriv('aes-256-gcm', storageKey(), sealed.subarray(4, 16));
        d.setAuthTag(sealed.subarray(16, 32));
        return Buffer.concat([d.update(sealed.subarray(32)), d.final()]).toString('utf8');
      } catch (err) {
        if (err.code === 'ERR_ELECTRON_DOUBLE') throw err;
        throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.', { cause: err });
      }
    },
  },
  'safeStorage',
  // Electron 41 has no async safeStorage API; the app probes for it.
  ['isAsyncEncryptionAvailable', 'encryptStringAsync', 'decryptStringAsync'],
);

const electron = strict({ app, BrowserWindow, ipcMain, protocol, session, nativeImage, Menu, Tray, Notification, shell, dialog, safeStorage }, 'electron', ['ipcRenderer']);
export default electron;

startControl();
