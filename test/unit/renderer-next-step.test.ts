// Issue 27: what each Servers row and detail page says next, decided by pure helpers.
import { describe, expect, it } from 'vitest';
import { accountsOf, clientsThatUsed, iconColour, initialsOf, nextAccountName, renewText, urlProblem, rowAction, rowExpiryText, urlBreaks } from '../../src-renderer/view/format.js';
import { noticeSettled } from '../../src-renderer/store.js';
import { server } from './renderer-fake-api.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');

describe('the row’s one button', () => {
  it('is nothing for a healthy or expiring server, "Sign in again" when the person is needed', () => {
    expect(rowAction(server(), NOW)).toBeUndefined();
    expect(rowAction(server({ status: 'expiring', expiresAt: '2030-01-01T00:03:00.000Z' }), NOW)).toBeUndefined();
    // Expired with a refresh token: renews on next use, nothing to do.
    expect(rowAction(server({ status: 'expiring', expiresAt: '2029-12-31T23:00:00.000Z' }), NOW)).toBeUndefined();
    expect(rowAction(server({ status: 'needs-reauth', reason: 'rejected' }), NOW)).toEqual({ label: 'Sign in again', primary: true });
    // Signed out by the person: offered, but calm.
    expect(rowAction(server({ status: 'needs-reauth', reason: 'revoked' }), NOW)).toEqual({ label: 'Sign in again', primary: false });
    // Expired and nothing to renew with.
    expect(rowAction(server({ status: 'expiring', hasRefreshToken: false, expiresAt: '2029-12-31T23:00:00.000Z' }), NOW)).toEqual({ label: 'Sign in again', primary: true });
  });
});

describe('expiry in words', () => {
  it('says the token renews by itself when it can, and what to do when it cannot', () => {
    expect(rowExpiryText(server(), NOW)).toBe('Expires in 1 h · renews by itself');
    expect(rowExpiryText(server({ hasRefreshToken: false }), NOW)).toBe('Expires in 1 h');
    expect(rowExpiryText(server({ status: 'needs-reauth', reason: 'revoked' }), NOW)).toBe('No sign-in');
    expect(renewText(server())).toMatch(/renews by itself/i);
    expect(renewText(server({ hasRefreshToken: false }))).toMatch(/sign in again when it expires/);
    expect(renewText(server({ status: 'needs-reauth', reason: 'rejected' }))).toMatch(/Sign in again/);
  });
});

describe('who used the server', () => {
  it('comes from the same record as "last used": each client once, newest first', () => {
    const s = server({
      activity: [
        { at: NOW - 5000, kind: 'used', client: 'Cursor' },
        { at: NOW - 9000, kind: 'used', client: 'Claude Desktop' },
        { at: NOW - 8000, kind: 'refreshed' },
        { at: NOW - 7000, kind: 'used', client: 'Cursor' },
      ],
      lastUsed: { client: 'Claude Desktop', at: NOW - 1000 },
    });
    expect(clientsThatUsed(s)).toEqual([
      { client: 'Claude Desktop', at: NOW - 1000 },
      { client: 'Cursor', at: NOW - 5000 },
    ]);
    expect(clientsThatUsed(server())).toEqual([]);
  });
});

describe('server badges', () => {
  it('use two letters and a colour of their own', () => {
    expect(initialsOf('GitHub (work)')).toBe('GW');
    expect(initialsOf('Rig MCP server (own-as)')).toBe('RM');
    expect(initialsOf('Linear')).toBe('Li');
    expect(initialsOf('ünïcode')).toBe('Ün');
    expect(initialsOf('—')).toBe('?');
    const colours = new Set(['github', 'github-work', 'linear', 'sentry', 'notion', 'atlassian'].map(iconColour));
    expect(colours.size).toBeGreaterThanOrEqual(4);
    for (const c of colours) expect(c >= 0 && c < 8).toBe(true);
    expect(iconColour('github')).toBe(iconColour('github'));
  });

  it('URLs break after slashes only', () => {
    expect(urlBreaks('https://mcp.example.com/v1/mcp')).toEqual(['https:/', '/', 'mcp.example.com/', 'v1/', 'mcp']);
    expect(urlBreaks('https://mcp.example.com/v1/mcp').join('')).toBe('https://mcp.example.com/v1/mcp');
  });
});

describe('the "signing in…" notice', () => {
  it('goes once the list shows that server signed in after it went up, not before', () => {
    const notice = { tone: 'ok' as const, text: 'Approved. Signing in…', until: { url: 'https://mcp.example.com/mcp', since: NOW } };
    expect(noticeSettled(notice, [server({ activity: [{ at: NOW - 60_000, kind: 'linked' }] })])).toBe(false);
    expect(noticeSettled(notice, [server({ url: 'https://other.example.com/mcp', activity: [{ at: NOW + 1, kind: 'linked' }] })])).toBe(false);
    expect(noticeSettled(notice, [server({ url: 'https://mcp.example.com/mcp/', activity: [{ at: NOW + 1000, kind: 'linked' }] })])).toBe(true);
    expect(noticeSettled(notice, [server({ activity: [{ at: NOW + 1000, kind: 'reauthorized' }] })])).toBe(true);
    expect(noticeSettled({ tone: 'ok', text: 'Saved.' }, [server({ activity: [{ at: NOW + 1000, kind: 'linked' }] })])).toBe(false);
  });
});

describe('accounts of one server', () => {
  it('groups rows by the server URL and offers the next free name', () => {
    const list = [server(), server({ id: 'rig-work', name: 'Rig (work)', url: 'https://mcp.example.com/mcp/' }), server({ id: 'x', url: 'https://x.example.com/mcp' })];
    expect(accountsOf(list, 'https://mcp.example.com/mcp').map((s) => s.id)).toEqual(['rig', 'rig-work']);
    expect(nextAccountName('Rig', ['Rig', 'Rig (work)'])).toBe('Rig (2)');
    expect(nextAccountName('Rig (2)', ['Rig', 'Rig (2)'])).toBe('Rig (3)');
  });
});

describe('the Add field’s address check', () => {
  it('refuses what cannot be a server address, saying which part is wrong', () => {
    expect(urlProblem('https://mcp.example.com/mcp')).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:8788/mcp')).toBeUndefined();
    expect(urlProblem('http://[::1]:8788/mcp')).toBeUndefined();
    expect(urlProblem('mcp.example.com')).toMatch(/starting with https/);
    expect(urlProblem('http://127.0.0.1:99999/mcp')).toBe('The port must be a number from 1 to 65535; this address has “99999”.');
    expect(urlProblem('http://127.0.0.1:0/mcp')).toMatch(/port must be/);
    expect(urlProblem('http://127.0.0.1:80a/mcp')).toMatch(/port must be/);
    expect(urlProblem('https:///mcp')).toMatch(/no server name/);
    expect(urlProblem('https://exa mple.com')).toMatch(/starting with https/);
  });
});
