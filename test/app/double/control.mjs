// The test's handle on the double, over the Node IPC channel of the spawned app process:
// read what the app did (windows, tray, notifications, opened URLs, served documents) and act
// as the person would (click a tray item or a notification, close the window, quit).
import { registry } from './strict.mjs';

function menuItems(menu) {
  return (menu?.items ?? []).map((i) => ({ type: i.type, label: i.label, enabled: i.enabled !== false, ...(i.submenu ? { submenu: menuItems({ items: i.submenu }) } : {}) }));
}

function snapshot() {
  const tray = registry.trays.filter((t) => !t.destroyed).at(-1);
  return {
    ready: registry.ready,
    pid: process.pid,
    cdp: registry.cdp,
    windows: registry.windows.map((w) => w.snapshot()),
    tray: tray ? { image: tray.image?.path, tooltip: tray.tooltip, title: tray.title, items: menuItems(tray.menu) } : null,
    traysCreated: registry.trays.length,
    notifications: registry.notifications.map((n) => ({ title: n.title, body: n.body, shown: n.shown })),
    openedExternal: [...registry.openedExternal],
    documents: registry.documents,
    blocked: registry.blocked,
    secondInstances: registry.secondInstances,
    errorBoxes: registry.errorBoxes,
    errors: registry.errors,
    badgeCount: registry.badgeCount,
    ipcChannels: [...registry.handlers.keys()],
    protocols: [...registry.protocols.keys()],
    proxyQueries: [...registry.proxyQueries],
  };
}

function findItem(items, label) {
  for (const i of items ?? []) {
    if (i.label === label) return i;
    const sub = findItem(i.submenu, label);
    if (sub) return sub;
  }
  return undefined;
}

const commands = {
  state: () => snapshot(),
  clickTray({ label }) {
    const tray = registry.trays.filter((t) => !t.destroyed).at(-1);
    const item = findItem(tray?.menu?.items, label);
    if (!item) throw new Error(`no tray menu item "${label}"; the menu has: ${menuItems(tray?.menu).map((i) => i.label ?? '—').join(' | ')}`);
    if (item.enabled === false) throw new Error(`the tray menu item "${label}" is disabled`);
    item.click?.(item, undefined, { triggeredByAccelerator: false });
    return true;
  },
  clickNotification({ index }) {
    const n = registry.notifications[index];
    if (!n?.shown) throw new Error(`no shown notification #${index}`);
    n.emit('click', { preventDefault() {} });
    return true;
  },
  closeWindow({ id }) {
    const w = registry.windows.find((x) => x.id === id);
    if (!w) throw new Error(`no window ${id}`);
    w.close();
    return true;
  },
  /** View > Reload: the window's page loads again, through the app's protocol handler. */
  async reloadWindow({ id }) {
    const w = registry.windows.find((x) => x.id === id);
    if (!w) throw new Error(`no window ${id}`);
    await w.webContents.reload();
    return true;
  },
  quit() {
    registry.app.quit();
    return true;
  },
};

export function startControl() {
  if (!process.send) return;
  process.channel?.unref();
  process.on('message', async (msg) => {
    if (!msg || typeof msg !== 'object' || typeof msg.id !== 'number') return;
    try {
      const fn = commands[msg.cmd];
      if (!fn) throw new Error(`unknown double command ${msg.cmd}`);
      const result = await fn(msg.args ?? {});
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: err.message });
    }
  });
}
