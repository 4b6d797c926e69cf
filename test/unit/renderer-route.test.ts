import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash, sameView } from '../../src-renderer/route.js';

describe('hash routes', () => {
  it('parses the routes main opens', () => {
    expect(parseRoute('')).toEqual({ view: { name: 'servers' } });
    expect(parseRoute('#/servers')).toEqual({ view: { name: 'servers' } });
    expect(parseRoute('#/servers/my%20server')).toEqual({ view: { name: 'detail', id: 'my server' } });
    expect(parseRoute('#/settings/')).toEqual({ view: { name: 'settings' } });
    expect(parseRoute('#/add')).toEqual({ view: { name: 'add' } });
    expect(parseRoute('#/migrate')).toEqual({ view: { name: 'migrate' } });
    expect(parseRoute(`#/add?url=${encodeURIComponent('https://mcp.example.com/mcp?x=1')}`)).toEqual({ view: { name: 'add' }, addUrl: 'https://mcp.example.com/mcp?x=1' });
  });

  it('ignores what is not a route or not an http(s) server URL', () => {
    expect(parseRoute('#/add?url=javascript:alert(1)')).toEqual({ view: { name: 'add' } });
    expect(parseRoute('#/servers/%E0%A4%A')).toEqual({ view: { name: 'servers' } });
    expect(parseRoute('#/elsewhere')).toEqual({ view: { name: 'servers' } });
  });

  it('round-trips every view', () => {
    for (const view of [{ name: 'servers' }, { name: 'add' }, { name: 'settings' }, { name: 'migrate' }, { name: 'detail', id: 'a/b c' }] as const) {
      expect(parseRoute(routeHash(view)).view).toEqual(view);
      expect(sameView(parseRoute(routeHash(view)).view, view)).toBe(true);
    }
    expect(sameView({ name: 'detail', id: 'a' }, { name: 'detail', id: 'b' })).toBe(false);
  });
});
