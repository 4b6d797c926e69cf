// The app's wiring: core objects (vault, manager, broker, API service) plus the Electron pieces,
// each handed in by main.ts as a small interface (window, notification and tray factories,
// shell, ipcMain, safeStorage, electron-store). No decisions here: the tray model, notification
// de-duplication, the start-hidden rule and the URL policy are core functions.
import { findBridgeUsers, type Launcher } from '../core/clients/index.js';
import type { WebFrameMain } from 'electron';
import type { ApiService, ServerSummary } from '../../src-shared/contract.js';
import { createApiService, toApiError } from '../core/api/service.js';
import { Broker } from '../core/broker/broker.js';
import { brokerAddress } from '../core/broker/protocol.js';
import { BrokerAlreadyRunning, type BrokerServer, serveBroker } from '../core/broker/server.js';
import { linkUrlFromArgv } from '../core/platform/opener.js';
import { Manager } from '../core/manager/manager.js';
import { type AppNotification, notificationsFor } from '../core/app-model/notify.js';
import type { BrowserOpener, Cipher, FileSystem, Logger } from '../core/platform/services.js';
import { systemClock } from '../core/platform/services.js';
import { startHidden, type TrayAction } from '../core/app-model/tray.js';
import { Vault } from '../core/vault/vault.js';
import { openAppCipher, type SafeStorageLike } from './cipher.js';
import { forwardEvents, type IpcMainLike, registerIpc } from './ipc.js';
import type { LoginItems } from './login.js';
import { HIDDEN_ARG } from './login.js';
import { STARTED_BY_BRIDGE as STARTED_BY_BRIDGE_ARG } from '../core/app-model/app-launcher.js';
import { electronSettings, type SettingsBackend } from './settings.js';
import { TrayService, type TrayServiceDeps } from './tray.js';

export interface WindowHandle {
  /** Restore, show and focus. */
  show(): void;
  /** Switch the renderer to a hash route, e.g. `/servers/<id>` or `/add?url=…`. */
  route(hash: string): void;
  /** Delivered once the page has loaded (earlier sends are queued, so a consent request that opened the window is not lost). */
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface NotificationHandle {
  show(): void;
  onClick(fn: () => void): void;
}

export interface AppDeps<Icon, Menu> {
  /** How MCP client configs launch the bridge (the packaged app's own binary, or undefined for npx). */
  bridgeLauncher?: Launcher;
  home: string;
  version: string;
  platform: NodeJS.Platform;
  argv: readonly string[];
  logger: Logger;
  fs: FileSystem;
  safeStorage: SafeStorageLike;
  ipcMain: IpcMainLike;
  isTrustedSender: (frame: WebFrameMain | null) => boolean;
  /** The audited opener (externalOpener over shell.openExternal). */
  opener: BrowserOpener;
  /** Creates the window and starts loading the renderer (at a hash route when given). */
  createWindow: (route?: string) => WindowHandle;
  /** Undefined where the system has no notifications. */
  createNotification: (n: { title: string; body: string }) => NotificationHandle | undefined;
  tray: Pick<TrayServiceDeps<Icon, Menu>, 'createTray' | 'buildMenu' | 'icons' | 'setBadgeCount'>;
  settingsBackend: SettingsBackend;
  loginItems: LoginItems;
  quit: () => void;
  /** How often the tray's time-based labels are redrawn. */
  tickMs?: number;
  /** Delay before trying again to host the broker when another process holds the socket. */
  brokerRetryMs?: number;
}

export interface RunningApp {
  service: ApiService;
  cipher: Pick<Cipher, 'kind' | 'description' | 'weak'>;
  showWindow(route?: string): void;
  /** A second launch's argv (single-instance hand-over). */
  handleArgv(argv: readonly string[]): void;
  shutdown(): Promise<void>;
}

export function serverRoute(id: string): string {
  return `/servers/${encodeURIComponent(id)}`;
}

export function addServerRoute(url: string): string {
  return `/add?url=${encodeURIComponent(url)}`;
}

export async function startApp<Icon, Menu>(d: AppDeps<Icon, Menu>): Promise<RunningApp> {
  const clock = systemClock;
  const cipher = await openAppCipher({ home: d.home, fs: d.fs, safeStorage: d.safeStorage, platform: d.platform, logger: d.logger });
  if (cipher.weak) d.logger.log('warn', `secrets are weakly protected: ${cipher.description}`);
  const vault = await Vault.open({ home: d.home, fs: d.fs, cipher, clock, logger: d.logger });
  for (const line of vault.startupReport) d.logger.log('warn', line);
  const manager = new Manager({ vault, cipher, clock, opener: d.opener, logger: d.logger });

  // ------------------------------------------------------------------ window
  let win: WindowHandle | undefined;
  function showWindow(route?: string) {
    if (!win || win.isDestroyed()) win = d.createWindow(route);
    else if (route !== undefined) win.route(route);
    win.show();
  }

  // ------------------------------------------------------------------ service and broker
  // The broker needs the service's consent hook and the service needs the broker.
  const late: { service?: ReturnType<typeof createApiService> } = {};
  const settings = electronSettings({
    backend: d.settingsBackend,
    logger: d.logger,
    apply: async (next, prev) => {
      if (next.launchAtLogin !== prev.launchAtLogin) await d.loginItems.set(next.launchAtLogin);
    },
  });
  const broker = new Broker({
    manager,
    refreshAheadS: async () => (await settings.get()).refreshAheadMinutes * 60,
    clock,
    logger: d.logger,
    vaultStamp: () => vault.stamp(),
    // A bridge asks for an unknown server: the consent card must be in front of the person.
    confirmLink: (url, requestedBy) => {
      if (!late.service) return Promise.resolve({ approve: false });
      showWindow();
      return late.service.confirmLink(url, requestedBy);
    },
    onClientNamed: (url, client) => late.service?.clientNamed(url, client),
  });
  const api = createApiService({
    home: d.home,
    manager,
    broker,
    cipher,
    opener: d.opener,
    settings,
    host: 'electron',
    version: d.version,
    clock,
    logger: d.logger,
    env: process.env,
    usedBy: () => findBridgeUsers(process.env),
    // The packaged app's own bridge (no global Node needed) when it has one; else npx.
    ...(d.bridgeLauncher ? { launcher: d.bridgeLauncher } : {}),
  });
  late.service = api;
  const unregisterIpc = registerIpc(d.ipcMain, api, d.isTrustedSender, d.logger);
  const stopForwarding = forwardEvents(api, (channel, name, payload) => {
    if (win && !win.isDestroyed()) win.send(channel, name, payload);
  });

  let brokerServer: BrokerServer | undefined;
  let brokerRetry: NodeJS.Timeout | undefined;
  let stopped = false;
  const hostBroker = async () => {
    try {
      brokerServer = await serveBroker(broker, { address: brokerAddress(d.home, d.platform), home: d.home, logger: d.logger, version: d.version });
    } catch (err) {
      // A headless `mcp-tokens daemon` holds the socket: one owner of tokens at a time, so
      // wait for it to exit (daemons started by bridges do when idle) and take over then.
      const why = err instanceof BrokerAlreadyRunning ? 'another token broker is running' : `the broker could not start: ${err instanceof Error ? err.message : String(err)}`;
      d.logger.log(err instanceof BrokerAlreadyRunning ? 'info' : 'error', `${why}; trying again later`);
      if (!stopped) brokerRetry = setTimeout(() => void hostBroker(), d.brokerRetryMs ?? 15_000);
    }
  };
  await hostBroker();

  // ------------------------------------------------------------------ tray and notifications
  const tray = new TrayService<Icon, Menu>({ ...d.tray, clock, platform: d.platform, onAction: (a) => void onAction(a) });
  let servers: ServerSummary[] | undefined;
  let notified = new Set<string>();

  function notify(n: Pick<AppNotification, 'title' | 'body'>, onClick: () => void) {
    const h = d.createNotification(n);
    if (!h) return;
    h.onClick(onClick);
    h.show();
  }

  async function onServers(next: ServerSummary[]) {
    const r = notificationsFor(servers, next, notified);
    servers = next;
    notified = r.notified;
    tray.setServers(next);
    if (r.notifications.length === 0) return;
    const { notifyOnReauth } = await settings.get();
    if (!notifyOnReauth) return;
    for (const n of r.notifications) notify(n, () => void onAction(n.action));
  }

  async function reauthorize(id: string) {
    if (tray.isReauthorizing(id)) return;
    const s = servers?.find((x) => x.id === id);
    // The device flow shows a code to type in: that needs the window.
    if (s?.flow === 'device') showWindow(serverRoute(id));
    tray.setReauthorizing(id, true);
    try {
      await api.handlers['servers/reauthorize'](id, {});
    } catch (err) {
      const e = toApiError(err);
      notify({ title: `Signing in to ${s?.name ?? id} again did not finish`, body: e.hint ? `${e.message} ${e.hint}` : e.message }, () => showWindow(serverRoute(id)));
    } finally {
      tray.setReauthorizing(id, false);
    }
  }

  async function onAction(a: TrayAction) {
    switch (a.kind) {
      case 'open':
        showWindow(a.id !== undefined ? serverRoute(a.id) : undefined);
        return;
      case 'reauthorize':
        return reauthorize(a.id);
      case 'quit':
        d.quit();
        return;
    }
  }

  const stopListening = api.on('servers/changed', (list) => void onServers(list));
  const reload = () =>
    api.handlers['servers/list']()
      .then(onServers)
      .catch((err: unknown) => d.logger.log('warn', `could not list servers: ${err instanceof Error ? err.message : String(err)}`));
  await reload();
  // "Expires in 4 min" ages; the list itself is re-read so statuses that change with time move too.
  const ticker = setInterval(() => void reload(), d.tickMs ?? 30_000);

  // ------------------------------------------------------------------ first window
  const initial = await settings.get();
  const url = linkUrlFromArgv(d.argv);
  const hidden = startHidden({ startInTray: initial.startInTray, openedAtLogin: d.loginItems.openedAtLogin(), startedByBridge: d.argv.includes(STARTED_BY_BRIDGE_ARG) });
  if (url !== undefined) showWindow(addServerRoute(url));
  else if (!hidden) showWindow();

  return {
    service: api,
    cipher,
    showWindow,
    handleArgv(argv) {
      const link = linkUrlFromArgv(argv);
      if (link !== undefined) return showWindow(addServerRoute(link));
      // A bridge or the login item starting us again while we run: nothing to show.
      if (argv.includes(STARTED_BY_BRIDGE_ARG) || argv.includes(HIDDEN_ARG)) return;
      showWindow();
    },
    async shutdown() {
      stopped = true;
      clearInterval(ticker);
      clearTimeout(brokerRetry);
      stopListening();
      stopForwarding();
      unregisterIpc();
      tray.destroy();
      await api.close();
      await brokerServer?.close();
      broker.close();
    },
  };
}
