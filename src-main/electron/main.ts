// Electron entry. Builds the real Electron objects — window, tray, notifications, shell,
// safeStorage, electron-store — and hands them to startApp (app.ts). The window's security
// settings live here, where a reviewer looks for them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, protocol, safeStorage, session, shell, Tray, type WebContents } from 'electron';
import ElectronStore from 'electron-store';
import { DEFAULT_SETTINGS, type Settings } from '../../src-shared/contract.js';
import { APP_LAUNCHER_FILE, type AppLauncher } from '../core/app-model/app-launcher.js';
import { isUserError } from '../core/platform/errors.js';
import { nodeFileSystem } from '../core/vault/fs.js';
import { createLogger } from '../core/platform/log.js';
import { preferSystemCa, setSystemProxyResolver } from '../core/platform/network.js';
import { dataHome } from '../core/vault/paths.js';
import { APP_TITLE } from '../core/app-model/tray.js';
import { type NotificationHandle, type RunningApp, startApp, type WindowHandle } from './app.js';
import { installBridge } from './bridge-install.js';
import { appExecutable } from '../core/app-model/bridge-install.js';
import { trustedRendererFrame } from './ipc.js';
import { createLoginItems } from './login.js';
import { externalOpener } from './open-external.js';
import { redirectPagesDir } from '../core/platform/opener.js';
import { serveRenderer } from './renderer-protocol.js';
import { ALLOWED_PERMISSIONS, APP_SCHEME, RENDERER_URL } from './security.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(here, '..');
const RENDERER_DIR = path.join(DIST, 'renderer');
const PRELOAD = path.join(here, 'preload.cjs');
const ASSETS = path.join(here, 'assets');

const home = dataHome(process.env);
// Chromium's profile (cache, local storage) stays inside the data dir, and the single-instance
// lock is per data dir, so separate MCP_TOKENS_HOMEs (tests, profiles) never collide.
app.setPath('userData', path.join(home, 'electron'));
// Every renderer sandboxed, whatever a BrowserWindow says.
app.enableSandbox();
// The renderer's origin: a standard, secure scheme (relative URLs, 'self' and the clipboard work
// as on https), served only by our handler. Must be declared before 'ready'.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

const logger = createLogger({ home, stderr: !app.isPackaged || Boolean(process.env.MCP_TOKENS_DEBUG), level: process.env.MCP_TOKENS_DEBUG ? 'debug' : 'info' });
const isTrustedFrame = trustedRendererFrame(RENDERER_URL);
const opener = externalOpener((url) => shell.openExternal(url), logger, redirectPagesDir(home));
let running: RunningApp | undefined;
let quitting = false;
// Electron drops a Notification's click handler when the object is collected: keep them.
const liveNotifications = new Set<Notification>();

function openOutside(url: string) {
  if (!/^https?:/i.test(url)) return;
  opener.open(url).catch((err: unknown) => logger.log('warn', `refused to open a link: ${err instanceof Error ? err.message : String(err)}`));
}

/** Applied to every web contents: no navigation away, no new windows, no webviews. */
function harden(contents: WebContents) {
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    openOutside(event.url);
  });
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function createWindow(initialRoute?: string): WindowHandle {
  const win = new BrowserWindow({
    title: APP_TITLE,
    width: 1040,
    height: 720,
    minWidth: 720,
    minHeight: 480,
    show: false,
    icon: path.join(ASSETS, 'icon.png'),
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win.removeMenu();
  // Closing the window keeps the app in the tray, where re-authorization lives; Quit quits.
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    win.hide();
  });
  // Events sent before the renderer has subscribed would be lost: hold them until it has loaded.
  let pending: unknown[][] | undefined = [];
  win.webContents.once('did-finish-load', () => {
    const queued = pending ?? [];
    pending = undefined;
    for (const [channel, ...args] of queued) win.webContents.send(channel as string, ...args);
  });
  void win.loadURL(rendererUrl(initialRoute)).catch((err: unknown) => logger.log('error', `could not load the window: ${String(err)}`));
  return {
    show() {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
    },
    route(hash) {
      void win.loadURL(rendererUrl(hash)).catch((err: unknown) => logger.log('warn', `could not open ${hash}: ${String(err)}`));
    },
    send(channel, ...args) {
      if (win.isDestroyed()) return;
      if (pending) pending.push([channel, ...args]);
      else win.webContents.send(channel, ...args);
    },
    isDestroyed: () => win.isDestroyed(),
  };
}

function createNotification(n: { title: string; body: string }): NotificationHandle | undefined {
  if (!Notification.isSupported()) return undefined;
  const note = new Notification({ title: n.title, body: n.body, icon: path.join(ASSETS, 'icon.png') });
  liveNotifications.add(note);
  const forget = () => liveNotifications.delete(note);
  note.on('close', forget);
  return {
    show: () => note.show(),
    onClick(fn) {
      note.on('click', () => {
        forget();
        fn();
      });
    },
  };
}

function trayIcons() {
  // macOS menu bars want monochrome template images (the system tints them); others get colour.
  const mac = process.platform === 'darwin';
  const load = (name: string) => {
    const img = nativeImage.createFromPath(path.join(ASSETS, name));
    if (mac) img.setTemplateImage(true);
    return img;
  };
  return mac ? { normal: load('trayTemplate.png'), attention: load('trayAttentionTemplate.png') } : { normal: load('tray.png'), attention: load('tray-attention.png') };
}

function rendererUrl(route?: string): string {
  return route !== undefined ? `${RENDERER_URL}#${route}` : RENDERER_URL;
}

function secureSession() {
  const ses = session.defaultSession;
  // Every response of the renderer's origin carries the strict CSP header (renderer-protocol.ts).
  protocol.handle(APP_SCHEME, (request) => serveRenderer(RENDERER_DIR, request));
  const trustedUrl = (url: string | undefined) => url !== undefined && isTrustedFrame({ url });
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && details.isMainFrame && trustedUrl(details.requestingUrl));
  });
  ses.setPermissionCheckHandler((_contents, permission, _origin, details) => ALLOWED_PERMISSIONS.has(permission) && details.isMainFrame && trustedUrl(details.requestingUrl));
}

async function main() {
  await app.whenReady();
  secureSession();
  // The system's proxy settings (PAC, WPAD, per-URL) for this process's requests and, through the
  // broker, for bridges that MCP clients start without them; the OS trust store where the runtime reads it.
  setSystemProxyResolver((url) => session.defaultSession.resolveProxy(url));
  preferSystemCa();
  const settingsBackend = new ElectronStore<Settings>({ name: 'settings', cwd: home, defaults: DEFAULT_SETTINGS, clearInvalidConfig: false });
  // Inside an AppImage, process.execPath is under a mount renamed at every launch.
  const executable = appExecutable(process.execPath, process.env, path.sep);
  const loginItems = createLoginItems({
    platform: process.platform,
    env: process.env,
    argv: process.argv,
    executable,
    setLoginItemSettings: (s) => app.setLoginItemSettings(s),
    getLoginItemSettings: () => app.getLoginItemSettings(),
  });
  try {
    // Client configs run the app's own copy of the bridge from the data dir, with the app's own
    // binary as Node: a path that stays valid after the app quits or updates (AppImage mounts move).
    const bridge = await installBridge({ home, distDir: DIST, logger }).catch((err: unknown) => {
      logger.log('error', `could not install the bridge: ${err instanceof Error ? err.message : String(err)}; client configs will use npx`);
      return undefined;
    });
    running = await startApp({
      home,
      ...(bridge ? { bridgeLauncher: { command: executable, args: [bridge.entry], env: { ELECTRON_RUN_AS_NODE: '1' } } } : {}),
      version: app.getVersion(),
      platform: process.platform,
      argv: process.argv,
      logger,
      fs: nodeFileSystem,
      safeStorage,
      ipcMain,
      isTrustedSender: isTrustedFrame,
      opener,
      createWindow,
      createNotification,
      tray: {
        createTray: (icon) => new Tray(icon),
        buildMenu: (template) => Menu.buildFromTemplate(template),
        icons: trayIcons(),
        setBadgeCount: (n) => void app.setBadgeCount(n),
      },
      settingsBackend,
      loginItems,
      quit: () => app.quit(),
    });
    // How a bridge starts this app when no broker answers (only the app can unseal its vault).
    const launcher: AppLauncher = { command: executable, args: app.isPackaged ? [] : [app.getAppPath()] };
    await nodeFileSystem.writeFileAtomic(path.join(home, APP_LAUNCHER_FILE), JSON.stringify(launcher), 0o600).catch((e: Error) => logger.log('warn', `could not record the app launcher: ${e.message}`));
  } catch (err) {
    logger.log('error', `could not start: ${err instanceof Error ? err.message : String(err)}`);
    const detail = isUserError(err) ? `${err.message}${err.hint ? `\n\n${err.hint}` : ''}` : 'An unexpected error stopped MCP Token Manager; see the log in the data folder.';
    dialog.showErrorBox(`${APP_TITLE} could not start`, detail);
    quitting = true;
    app.exit(1);
  }
}

if (!app.requestSingleInstanceLock()) {
  // The running instance got our argv through 'second-instance' and acts on it.
  app.exit(0);
} else {
  app.on('second-instance', (_event, argv) => running?.handleArgv(argv));
  app.on('web-contents-created', (_event, contents) => harden(contents));
  // A tray app: closing every window is not quitting.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => running?.showWindow());
  let shutDown = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown || !running) return;
    // Let the broker close its socket and in-flight work settle before the process ends.
    event.preventDefault();
    shutDown = true;
    void running
      .shutdown()
      .catch((err: unknown) => logger.log('warn', `shutdown: ${String(err)}`))
      .finally(() => app.quit());
  });
  process.on('uncaughtException', (err) => logger.log('error', `uncaught: ${err.message}`));
  process.on('unhandledRejection', (err) => logger.log('error', `unhandled rejection: ${err instanceof Error ? err.message : String(err)}`));
  void main();
}
