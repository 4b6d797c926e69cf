import { describe, expect, it } from 'vitest';
import type { ServerSummary } from '../../src-shared/contract.js';
import { displayName, MAX_TRAY_SERVERS, menuLabel, startHidden, statusLabel, type TrayAction, type TrayItem, trayIcon, trayMenu } from '../../src-main/core/app-model/tray.js';
import { type MenuTemplate, TrayService } from '../../src-main/electron/tray.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function server(id: string, over: Partial<ServerSummary> = {}): ServerSummary {
  return {
    id,
    name: id[0]!.toUpperCase() + id.slice(1),
    url: `https://${id}.example/mcp`,
    resource: `https://${id}.example/mcp`,
    issuer: `https://auth.${id}.example`,
    status: 'ok',
    scopes: ['read'],
    expiresAt: new Date(NOW + 3600_000).toISOString(),
    hasRefreshToken: true,
    registration: { method: 'dynamic' },
    flow: 'browser',
    activity: [],
    usedBy: [],
    headers: [],
    ...over,
  };
}

const labels = (items: TrayItem[]) => items.map((i) => (i.type === 'separator' ? '---' : i.label));
const actionOf = (items: TrayItem[], label: string) => {
  const i = items.find((x) => x.type === 'item' && x.label === label);
  return i && i.type === 'item' ? i.action : undefined;
};

describe('statusLabel', () => {
  it('uses the same words as the status chips', () => {
    expect(statusLabel(server('a'), NOW)).toBe('Connected');
    expect(statusLabel(server('a', { status: 'expiring', expiresAt: new Date(NOW + 4 * 60_000 - 500).toISOString() }), NOW)).toBe('Expires in 4 min');
    expect(statusLabel(server('a', { status: 'expiring', expiresAt: new Date(NOW + 30_000).toISOString() }), NOW)).toBe('Expires in under a minute');
    expect(statusLabel(server('a', { status: 'expiring', expiresAt: new Date(NOW - 1).toISOString() }), NOW)).toBe('Expired');
    expect(statusLabel(server('a', { status: 'expiring', expiresAt: new Date(NOW + 3 * 3600_000).toISOString() }), NOW)).toBe('Expires in 3 h');
    expect(statusLabel(server('a', { status: 'expiring', expiresAt: 'garbage' }), NOW)).toBe('Expiring');
    expect(statusLabel(server('a', { status: 'needs-reauth', reason: 'revoked' }), NOW)).toBe('Signed out');
    expect(statusLabel(server('a', { status: 'needs-reauth', reason: 'expired' }), NOW)).toBe('Needs sign-in');
    expect(statusLabel(server('a', { status: 'needs-reauth' }), NOW)).toBe('Needs sign-in');
  });
});

describe('trayMenu', () => {
  it('with no servers: says so, normal icon, no badge, Open and Quit', () => {
    const m = trayMenu({ servers: [], now: NOW });
    expect(m.badge).toBe(0);
    expect(m.icon).toBe('normal');
    expect(m.tooltip).toBe('MCP Token Manager — no servers yet');
    expect(labels(m.items)).toEqual(['No servers yet', '---', 'Open MCP Token Manager', 'Quit']);
    expect(m.items[0]).toMatchObject({ enabled: false });
    expect(actionOf(m.items, 'Quit')).toEqual({ kind: 'quit' });
    expect(actionOf(m.items, 'Open MCP Token Manager')).toEqual({ kind: 'open' });
  });

  it('lists servers with status, then one Sign in again item per server needing it', () => {
    const m = trayMenu({
      servers: [
        server('linear'),
        server('github', { status: 'needs-reauth', reason: 'revoked' }),
        server('notion', { status: 'expiring', expiresAt: new Date(NOW + 4 * 60_000).toISOString() }),
        server('sentry', { status: 'needs-reauth', reason: 'expired' }),
      ],
      now: NOW,
    });
    expect(labels(m.items)).toEqual([
      'Github — Signed out',
      'Sentry — Needs sign-in',
      'Linear — Connected',
      'Notion — Expires in 4 min',
      '---',
      'Sign in again to Github',
      'Sign in again to Sentry',
      '---',
      'Open MCP Token Manager',
      'Quit',
    ]);
    expect(m.badge).toBe(2);
    expect(m.icon).toBe('attention');
    expect(m.tooltip).toBe('MCP Token Manager — 2 servers need you to sign in again');
    expect(actionOf(m.items, 'Sign in again to Github')).toEqual({ kind: 'reauthorize', id: 'github' });
    expect(actionOf(m.items, 'Linear — Connected')).toEqual({ kind: 'open', id: 'linear' });
  });

  it('tooltip counts connected servers when all is well', () => {
    expect(trayMenu({ servers: [server('a')], now: NOW }).tooltip).toBe('MCP Token Manager — 1 server connected');
    expect(trayMenu({ servers: [server('a'), server('b')], now: NOW }).tooltip).toBe('MCP Token Manager — 2 servers connected');
    expect(trayMenu({ servers: [server('a', { status: 'needs-reauth' })], now: NOW }).tooltip).toBe('MCP Token Manager — 1 server needs you to sign in again');
  });

  it('disables Sign in again while that flow runs, so a second click cannot start a competing flow', () => {
    const m = trayMenu({ servers: [server('github', { status: 'needs-reauth' })], now: NOW, reauthorizing: ['github'] });
    expect(labels(m.items)).toContain('Github — Signing in…');
    const item = m.items.find((i) => i.type === 'item' && i.label === 'Signing in to Github…');
    expect(item).toMatchObject({ enabled: false, action: { kind: 'reauthorize', id: 'github' } });
  });

  it('cuts a long list but keeps servers needing attention visible', () => {
    const many = Array.from({ length: MAX_TRAY_SERVERS + 5 }, (_, i) => server(`s${String(i).padStart(2, '0')}`));
    many.push(server('zz', { status: 'needs-reauth' }));
    const m = trayMenu({ servers: many, now: NOW });
    const l = labels(m.items);
    expect(l[0]).toBe('Zz — Needs sign-in');
    expect(l).toContain('…and 6 more');
    expect(l).toContain('Sign in again to Zz');
    expect(l.filter((x) => x.includes(' — ')).length).toBe(MAX_TRAY_SERVERS);
  });

  it('makes hostile server names harmless one-liners', () => {
    expect(displayName('evil\nQuit\u0007')).toBe('evil Quit');
    expect(displayName('   ')).toBe('(unnamed)');
    expect(displayName('x'.repeat(100))).toHaveLength(48);
    const m = trayMenu({ servers: [server('a', { name: 'A\nB', status: 'needs-reauth' })], now: NOW });
    expect(labels(m.items)).toContain('Sign in again to A B');
  });

  it('trayIcon follows attention', () => {
    expect(trayIcon({ servers: [server('a')] })).toBe('normal');
    expect(trayIcon({ servers: [server('a'), server('b', { status: 'needs-reauth' })] })).toBe('attention');
    expect(trayIcon({ servers: [server('a', { status: 'expiring' })] })).toBe('normal');
  });
});

describe('menuLabel and startHidden', () => {
  it('escapes mnemonics except on macOS', () => {
    expect(menuLabel('R&D — Connected', 'linux')).toBe('R&&D — Connected');
    expect(menuLabel('R&D', 'win32')).toBe('R&&D');
    expect(menuLabel('R&D', 'darwin')).toBe('R&D');
  });
  it('starts in the tray only at login (when asked) or for a bridge, never on a manual launch', () => {
    expect(startHidden({ startInTray: true, openedAtLogin: true, startedByBridge: false })).toBe(true);
    expect(startHidden({ startInTray: true, openedAtLogin: false, startedByBridge: false })).toBe(false);
    expect(startHidden({ startInTray: false, openedAtLogin: true, startedByBridge: false })).toBe(false);
    expect(startHidden({ startInTray: false, openedAtLogin: false, startedByBridge: true })).toBe(true);
  });
});

describe('TrayService (fake tray and menu)', () => {
  function setup(platform: NodeJS.Platform = 'linux') {
    const calls: string[] = [];
    const menus: MenuTemplate[] = [];
    const actions: TrayAction[] = [];
    const badges: number[] = [];
    let clickListener: (() => void) | undefined;
    let created = 0;
    const fakeTray = {
      setImage: (i: string) => calls.push(`image:${i}`),
      setToolTip: (t: string) => calls.push(`tooltip:${t}`),
      setContextMenu: (m: MenuTemplate) => menus.push(m),
      setTitle: (t: string) => calls.push(`title:${t}`),
      on: (_e: 'click', fn: () => void) => {
        clickListener = fn;
      },
      destroy: () => calls.push('destroy'),
    };
    const svc = new TrayService<string, MenuTemplate>({
      createTray: (icon) => {
        created++;
        calls.push(`create:${icon}`);
        return fakeTray;
      },
      buildMenu: (t) => t,
      icons: { normal: 'n.png', attention: 'a.png' },
      onAction: (a) => actions.push(a),
      clock: { now: () => NOW },
      platform,
      setBadgeCount: (n) => badges.push(n),
    });
    return { svc, calls, menus, actions, badges, click: () => clickListener?.(), created: () => created };
  }

  it('renders the model: icon, tooltip, menu; clicks dispatch actions', () => {
    const t = setup();
    t.svc.setServers([server('r&d', { name: 'R&D', status: 'needs-reauth' })]);
    expect(t.created()).toBe(1);
    expect(t.calls).toContain('create:a.png');
    expect(t.calls).toContain('tooltip:MCP Token Manager — 1 server needs you to sign in again');
    expect(t.badges).toEqual([1]);
    const menu = t.menus.at(-1)!;
    const reauth = menu.find((m) => m.label === 'Sign in again to R&&D');
    expect(reauth).toBeDefined();
    reauth!.click!({} as never, undefined, {} as never);
    expect(t.actions).toEqual([{ kind: 'reauthorize', id: 'r&d' }]);
    menu.find((m) => m.label === 'Quit')!.click!({} as never, undefined, {} as never);
    expect(t.actions.at(-1)).toEqual({ kind: 'quit' });
    expect(menu.filter((m) => m.type === 'separator')).toHaveLength(2);
  });

  it('switches the icon only when the variant changes and reuses the one tray', () => {
    const t = setup();
    t.svc.setServers([server('a')]);
    t.svc.setServers([server('a')]);
    t.svc.setServers([server('a', { status: 'needs-reauth' })]);
    t.svc.setServers([server('a')]);
    expect(t.created()).toBe(1);
    expect(t.calls.filter((c) => c.startsWith('image:'))).toEqual(['image:a.png', 'image:n.png']);
    expect(t.badges).toEqual([0, 0, 1, 0]);
  });

  it('tracks re-authorizations in flight', () => {
    const t = setup();
    t.svc.setServers([server('gh', { status: 'needs-reauth' })]);
    t.svc.setReauthorizing('gh', true);
    expect(t.svc.isReauthorizing('gh')).toBe(true);
    expect(t.menus.at(-1)!.find((m) => m.label === 'Signing in to Gh…')).toMatchObject({ enabled: false });
    t.svc.setReauthorizing('gh', false);
    expect(t.menus.at(-1)!.find((m) => m.label === 'Sign in again to Gh')).toMatchObject({ enabled: true });
    t.svc.setReauthorizing('gh', true);
    t.svc.setServers([]); // unlinked meanwhile
    expect(t.svc.isReauthorizing('gh')).toBe(false);
  });

  it('shows the count beside the macOS menu-bar icon; a left click opens the window on Windows', () => {
    const mac = setup('darwin');
    mac.svc.setServers([server('a', { status: 'needs-reauth' }), server('b', { status: 'needs-reauth' })]);
    expect(mac.calls).toContain('title:2');
    mac.svc.setServers([]);
    expect(mac.calls.at(-1)).toBe('title:');
    mac.click();
    expect(mac.actions).toEqual([]);

    const win = setup('win32');
    win.svc.setServers([]);
    expect(win.calls.some((c) => c.startsWith('title:'))).toBe(false);
    win.click();
    expect(win.actions).toEqual([{ kind: 'open' }]);
    win.svc.destroy();
    expect(win.calls.at(-1)).toBe('destroy');
  });
});
