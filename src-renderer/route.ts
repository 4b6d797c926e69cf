// Hash routes, so main (tray, notifications, a second launch with a link) can open a screen:
// #/servers, #/servers/<id>, #/add, #/add?url=<server url>, #/settings, #/migrate, #/clients, #/activity.
import type { View } from './store.js';

export interface Route {
  view: View;
  /** A server URL handed over to the add screen (e.g. from a link the system opened the app with). */
  addUrl?: string;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const path = (q >= 0 ? h.slice(0, q) : h).replace(/\/+$/, '');
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  const detail = /^\/servers\/([^/]+)$/.exec(path);
  if (detail) {
    try {
      return { view: { name: 'detail', id: decodeURIComponent(detail[1]!) } };
    } catch {
      return { view: { name: 'servers' } };
    }
  }
  if (path === '/add') {
    const url = params.get('url')?.trim();
    return url && /^https?:\/\//i.test(url) ? { view: { name: 'add' }, addUrl: url } : { view: { name: 'add' } };
  }
  if (path === '/settings') return { view: { name: 'settings' } };
  if (path === '/migrate') return { view: { name: 'migrate' } };
  if (path === '/clients') return { view: { name: 'clients' } };
  if (path === '/activity') return { view: { name: 'activity' } };
  return { view: { name: 'servers' } };
}

export function routeHash(view: View): string {
  switch (view.name) {
    case 'servers':
      return '#/servers';
    case 'add':
      return '#/add';
    case 'detail':
      return `#/servers/${encodeURIComponent(view.id)}`;
    case 'settings':
      return '#/settings';
    case 'migrate':
      return '#/migrate';
    case 'clients':
      return '#/clients';
    case 'activity':
      return '#/activity';
  }
}

export function sameView(a: View, b: View): boolean {
  return a.name === b.name && (a.name !== 'detail' || (b.name === 'detail' && a.id === b.id));
}
