// The tray icon: renders core's trayMenu() model. The tray and menu constructors are injected
// so nothing here needs a display, and so it stays a pure translation of the model.
import type { MenuItemConstructorOptions } from 'electron';
import type { ServerSummary } from '../../src-shared/contract.js';
import type { Clock } from '../core/platform/services.js';
import { menuLabel, type TrayAction, type TrayIconVariant, type TrayItem, type TrayModel, trayMenu } from '../core/app-model/tray.js';

/** A menu template as Menu.buildFromTemplate takes it. */
export type MenuTemplate = MenuItemConstructorOptions[];

/** The part of Electron's Tray this service uses. */
export interface TrayLike<Icon, Menu> {
  setImage(icon: Icon): void;
  setToolTip(text: string): void;
  setContextMenu(menu: Menu): void;
  setTitle(title: string): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayServiceDeps<Icon, Menu> {
  createTray: (icon: Icon) => TrayLike<Icon, Menu>;
  buildMenu: (template: MenuTemplate) => Menu;
  icons: Record<TrayIconVariant, Icon>;
  onAction: (action: TrayAction) => void;
  clock: Clock;
  platform: NodeJS.Platform;
  /** Dock / launcher badge (app.setBadgeCount); optional where there is none. */
  setBadgeCount?: (n: number) => void;
}

export class TrayService<Icon, Menu> {
  private readonly d: TrayServiceDeps<Icon, Menu>;
  private tray: TrayLike<Icon, Menu> | undefined;
  private servers: ServerSummary[] = [];
  private readonly busy = new Set<string>();
  private lastIcon: TrayIconVariant | undefined;
  model: TrayModel | undefined;

  constructor(deps: TrayServiceDeps<Icon, Menu>) {
    this.d = deps;
  }

  setServers(servers: ServerSummary[]): void {
    this.servers = servers;
    // A flow that ended (either way) shows up as a changed server; drop stale busy marks.
    for (const id of this.busy) if (!servers.some((s) => s.id === id)) this.busy.delete(id);
    this.render();
  }

  setReauthorizing(id: string, running: boolean): void {
    if (running) this.busy.add(id);
    else this.busy.delete(id);
    this.render();
  }

  isReauthorizing(id: string): boolean {
    return this.busy.has(id);
  }

  /** Builds the model for now and applies it; call again as time passes ("Expires in 4 min"). */
  render(): void {
    const model = trayMenu({ servers: this.servers, now: this.d.clock.now(), reauthorizing: this.busy });
    this.model = model;
    if (!this.tray) {
      this.tray = this.d.createTray(this.d.icons[model.icon]);
      // Windows users expect a left click to open the window; elsewhere a click opens the menu.
      if (this.d.platform === 'win32') this.tray.on('click', () => this.d.onAction({ kind: 'open' }));
    } else if (this.lastIcon !== model.icon) {
      this.tray.setImage(this.d.icons[model.icon]);
    }
    this.lastIcon = model.icon;
    this.tray.setToolTip(model.tooltip);
    // macOS shows a title beside the menu-bar icon: the count of servers needing attention.
    if (this.d.platform === 'darwin') this.tray.setTitle(model.badge > 0 ? String(model.badge) : '');
    this.d.setBadgeCount?.(model.badge);
    this.tray.setContextMenu(this.d.buildMenu(model.items.map((i) => this.template(i))));
  }

  private template(item: TrayItem): MenuItemConstructorOptions {
    if (item.type === 'separator') return { type: 'separator' };
    const action = item.action;
    return {
      label: menuLabel(item.label, this.d.platform),
      enabled: item.enabled,
      ...(action ? { click: () => this.d.onAction(action) } : {}),
    };
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = undefined;
  }
}
