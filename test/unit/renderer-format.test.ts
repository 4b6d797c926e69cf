import { describe, expect, it } from 'vitest';
import {
  activityLabel,
  clientAddNotice,
  clientLabel,
  errorText,
  expiryText,
  formatAgo,
  formatDuration,
  migrationBanner,
  migrationResultNotices,
  needingAttention,
  noteKindLabel,
  parseScopes,
  reasonText,
  registrationLabel,
  sameUrl,
  scrubTokens,
  statusChip,
} from '../../src-renderer/view/format.js';
import { ApiCallError } from '../../src-renderer/api/http.js';
import { server } from './renderer-fake-api.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const inMs = (ms: number) => new Date(NOW + ms).toISOString();

describe('durations and countdowns', () => {
  it('formats durations for a glance and, on request, to the second', () => {
    expect(formatDuration(30_000)).toBe('less than a minute');
    expect(formatDuration(30_000, { seconds: true })).toBe('30 s');
    expect(formatDuration(4 * 60_000 + 59_000)).toBe('4 min');
    expect(formatDuration(4 * 60_000 + 12_000, { seconds: true })).toBe('4 min 12 s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(formatDuration(3600_000)).toBe('1 h');
    expect(formatDuration(3 * 86_400_000 + 2 * 3600_000)).toBe('3 d 2 h');
    expect(formatDuration(40 * 86_400_000)).toBe('40 d');
    expect(formatDuration(-5)).toBe('less than a minute');
  });

  it('says how long the access token has left, or how long ago it expired', () => {
    expect(expiryText(inMs(4 * 60_000 + 30_000), NOW)).toBe('expires in 4 min');
    expect(expiryText(inMs(4 * 60_000 + 30_000), NOW, { seconds: true })).toBe('expires in 4 min 30 s');
    expect(expiryText(inMs(-120_000), NOW)).toBe('expired 2 min ago');
    expect(expiryText(undefined, NOW)).toBe('no expiry given');
    expect(expiryText('garbage', NOW)).toBe('unknown');
  });

  it('says how long ago something happened', () => {
    expect(formatAgo(NOW - 10_000, NOW)).toBe('just now');
    expect(formatAgo(new Date(NOW - 5 * 60_000).toISOString(), NOW)).toBe('5 min ago');
    expect(formatAgo(NOW - 3 * 3600_000, NOW)).toBe('3 h ago');
    expect(formatAgo(NOW + 60_000, NOW)).toBe('just now');
    expect(formatAgo(undefined, NOW)).toBe('never');
  });
});

describe('status chip', () => {
  it('shows Connected for a healthy server', () => {
    expect(statusChip(server(), NOW)).toEqual({ tone: 'ok', label: 'Connected', needsAttention: false });
  });

  it('counts down an expiring token with the clock', () => {
    const s = server({ status: 'expiring', expiresAt: inMs(4 * 60_000 + 20_000) });
    expect(statusChip(s, NOW).label).toBe('Expires in 4 min');
    expect(statusChip(s, NOW + 3 * 60_000).label).toBe('Expires in 1 min');
    expect(statusChip(s, NOW + 4 * 60_000).label).toBe('Expires in less than a minute');
    expect(statusChip(s, NOW).needsAttention).toBe(false);
  });

  it('treats a passed expiry by whether a refresh token exists', () => {
    const withRt = server({ status: 'expiring', expiresAt: inMs(-1000), hasRefreshToken: true });
    expect(statusChip(withRt, NOW)).toMatchObject({ tone: 'warn', needsAttention: false });
    const without = server({ status: 'expiring', expiresAt: inMs(-1000), hasRefreshToken: false });
    expect(statusChip(without, NOW)).toMatchObject({ label: 'Needs sign-in', needsAttention: true });
  });

  it('shows Signed out calmly when the person did it, and Needs sign-in with the reason', () => {
    // Signed out by you: no alarm, not in the attention banner.
    expect(statusChip(server({ status: 'needs-reauth', reason: 'revoked', detail: 'Revoked by you.' }), NOW)).toEqual({
      tone: 'off',
      label: 'Signed out',
      reason: 'You signed out. Choose “Sign in again” to use it.',
      needsAttention: false,
    });
    // Revoked elsewhere (at the provider): the person needs to act.
    expect(statusChip(server({ status: 'needs-reauth', reason: 'revoked', detail: 'The grant was revoked at the provider.' }), NOW)).toMatchObject({ tone: 'bad', label: 'Signed out', needsAttention: true });
    const chip = statusChip(server({ status: 'needs-reauth', reason: 'more-scope', detail: 'Needs files:write.' }), NOW);
    expect(chip.label).toBe('Needs sign-in');
    expect(chip.reason).toBe('The server asks for more permissions. Needs files:write.');
    expect(statusChip(server({ status: 'needs-reauth', reason: 'expired' }), NOW).reason).toBe('The sign-in expired.');
    expect(statusChip(server({ status: 'needs-reauth', reason: 'rejected' }), NOW).reason).toMatch(/no longer accepts/);
    expect(statusChip(server({ status: 'needs-reauth' }), NOW).reason).toMatch(/Sign in again/);
  });

  it('does not repeat a detail equal to the reason, and scrubs token-like text from it', () => {
    expect(reasonText({ reason: 'expired', detail: 'The sign-in expired.' })).toBe('The sign-in expired.');
    expect(reasonText({ detail: 'got Bearer abc.def' })).toBe('got Bearer [hidden]');
  });

  it('lists the servers that need attention', () => {
    const list = [
      server({ id: 'a' }),
      server({ id: 'b', status: 'needs-reauth', reason: 'expired' }),
      server({ id: 'c', status: 'expiring', expiresAt: inMs(60_000) }),
      server({ id: 'd', status: 'needs-reauth', reason: 'revoked', detail: 'Revoked by you.' }),
    ];
    expect(needingAttention(list, NOW).map((s) => s.id)).toEqual(['b']);
  });
});

describe('labels', () => {
  it('explains every registration method, and says when none is possible', () => {
    for (const m of ['pre-registered', 'metadata-document', 'dynamic', 'reuse'] as const) {
      const r = registrationLabel(m);
      expect(r.possible).toBe(true);
      expect(r.label).not.toBe(m);
      expect(r.explain.length).toBeGreaterThan(10);
    }
    const impossible = registrationLabel('impossible');
    expect(impossible.possible).toBe(false);
    expect(impossible.explain).toMatch(/client ID/);
    expect(registrationLabel('something-new')).toEqual({ label: 'something-new', explain: '', possible: true });
  });

  it('names clients and activity kinds, passing unknown ones through', () => {
    expect(clientLabel('claude')).toBe('Claude Desktop');
    expect(clientLabel('claude-code')).toBe('Claude Code');
    expect(clientLabel('vscode')).toBe('VS Code');
    expect(clientLabel('zed')).toBe('Zed');
    expect(clientLabel('emacs')).toBe('emacs');
    expect(clientLabel('toString')).toBe('toString');
    expect(activityLabel('refresh-failed')).toBe('Refresh failed');
    expect(activityLabel('other')).toBe('other');
  });
});

describe('text safety and parsing', () => {
  it('hides anything shaped like a token', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(scrubTokens(`token ${jwt} here`)).toBe('token [hidden token] here');
    expect(scrubTokens('Authorization: Bearer abcDEF123-._~+/==')).toBe('Authorization: Bearer [hidden]');
    expect(scrubTokens('POST refresh_token=r1&client_secret=s3&code=xyz&state=ok')).toBe('POST refresh_token=[hidden]&client_secret=[hidden]&code=[hidden]&state=ok');
    // Not tokens: a device user code and its verification link stay readable.
    expect(scrubTokens('enter the code WDJB-MJHT at https://as.example/device?user_code=WDJB-MJHT')).toBe('enter the code WDJB-MJHT at https://as.example/device?user_code=WDJB-MJHT');
  });

  it('turns thrown things into a message and hint', () => {
    expect(errorText(new ApiCallError('Nope.', 'denied', 'Try again.'))).toEqual({ message: 'Nope.', hint: 'Try again.', code: 'denied' });
    expect(errorText(new ApiCallError('Nope.', 'authorization', undefined, 422, 'The AS said access_denied.'))).toEqual({ message: 'Nope.', code: 'authorization', detail: 'The AS said access_denied.' });
    expect(errorText(new Error("Error invoking remote method 'servers/link': Error: The AS said no."))).toEqual({ message: 'The AS said no.' });
    expect(errorText({ name: 'ApiCallError', message: 'From the preload.', code: 'denied', hint: 'Approve it.' })).toEqual({ message: 'From the preload.', hint: 'Approve it.', code: 'denied' });
    expect(errorText('plain')).toEqual({ message: 'plain' });
    expect(errorText(42)).toEqual({ message: 'Something went wrong.' });
  });

  it('compares server URLs loosely', () => {
    expect(sameUrl('https://MCP.example.com:443/mcp/', 'https://mcp.example.com/mcp')).toBe(true);
    expect(sameUrl(' https://mcp.example.com/mcp', 'https://mcp.example.com/mcp')).toBe(true);
    expect(sameUrl('https://mcp.example.com/mcp', 'https://mcp.example.com/other')).toBe(false);
    expect(sameUrl('http://mcp.example.com/mcp', 'https://mcp.example.com/mcp')).toBe(false);
    expect(sameUrl(undefined, 'https://x')).toBe(false);
  });

  it('parses the scope field', () => {
    expect(parseScopes(' a  b,c a ')).toEqual(['a', 'b', 'c']);
    expect(parseScopes('')).toEqual([]);
  });
});

describe('MCP client configs in words', () => {
  const FILE = '/home/me/.config/Claude/claude_desktop_config.json';
  const added = { client: 'claude' as const, file: FILE, name: 'rig', action: 'added' as const, created: false };

  it('says where the entry went and what to do next', () => {
    expect(clientAddNotice(added)).toEqual({ tone: 'ok', text: `Added to Claude Desktop (${FILE}); restart Claude Desktop to use it.` });
    expect(clientAddNotice({ ...added, created: true, action: 'added' }).text).toBe(`Added to Claude Desktop (${FILE}, a new file); restart Claude Desktop to use it.`);
    expect(clientAddNotice({ ...added, action: 'updated', backup: `${FILE}.bak-1`, nameTakenBy: 'rig', name: 'rig-2' })).toEqual({
      tone: 'ok',
      text: `Updated the entry in Claude Desktop (${FILE}); restart Claude Desktop to use it.`,
      hint: `Backup of the previous file: ${FILE}.bak-1 Another entry was already called “rig”; it was left as it was and this one is “rig-2”.`,
    });
    expect(clientAddNotice({ ...added, action: 'unchanged' }).text).toBe(`Claude Desktop already has this server (${FILE}); nothing changed.`);
    expect(clientAddNotice({ ...added, client: 'claude-code', file: '/home/me/.claude.json', note: 'New Claude Code sessions pick it up.' }).text).toBe(
      'Added to Claude Code (/home/me/.claude.json). New Claude Code sessions pick it up.',
    );
  });

  it('shows the migration banner only when something can move to the bridge', () => {
    const e = { client: 'Cursor', kind: 'cursor' as const, scope: 'user' as const, file: '/f', name: 'a', action: 'replace' as const, before: 'npx mcp-remote https://a', notes: [], hasGrant: false };
    const plan = (entries: (typeof e | (Omit<typeof e, 'action'> & { action: 'keep' }))[]) => ({ entries, unreadable: [], unmatchedGrants: 0, authDir: '/d' });
    expect(migrationBanner(undefined)).toBeUndefined();
    expect(migrationBanner(plan([]))).toBeUndefined();
    expect(migrationBanner(plan([{ ...e, action: 'keep' }]))).toBeUndefined();
    expect(migrationBanner(plan([e]))).toEqual({ count: 1, text: '1 MCP client entry still uses mcp-remote' });
    expect(migrationBanner(plan([e, { ...e, name: 'b', action: 'keep' }]))?.text).toBe('2 MCP client entries still use mcp-remote');
    expect(noteKindLabel('blocking')).toBe('Keeps it on mcp-remote');
  });

  it('reports a migration file by file and sign-in by sign-in', () => {
    const n = migrationResultNotices({
      files: [
        { file: '/a.json', client: 'Claude Desktop', backup: '/a.json.bak-1', replaced: ['x', 'y'], skipped: [{ name: 'z', reason: 'the entry changed since the plan was made' }] },
        { file: '/b.json', client: 'Cursor', replaced: [], skipped: [], error: '/b.json is not valid JSON: at line 2, column 1.' },
      ],
      imports: [
        { server: 'https://x.example/mcp', ok: true, id: 'x', deletedFiles: 3 },
        { server: 'https://y.example/mcp', ok: false, error: 'discovery failed: Bearer abcdefghijklmnop', deletedFiles: 0 },
      ],
    });
    expect(n.map((x) => x.tone)).toEqual(['ok', 'warn', 'ok', 'bad', 'ok']);
    expect(n[0]!.text).toBe('Imported the sign-in for https://x.example/mcp as “x”; deleted 3 plaintext files.');
    expect(n[1]!.text).toBe('Could not import the sign-in for https://y.example/mcp: discovery failed: Bearer [hidden]');
    expect(n[2]).toEqual({ tone: 'ok', text: 'Updated Claude Desktop (/a.json): x, y. Backup: /a.json.bak-1', hint: 'Skipped z: the entry changed since the plan was made.' });
    expect(n[3]!.text).toMatch(/^Not changed: \/b\.json: .*line 2, column 1/);
    // What comes next: y was replaced without an imported sign-in, so it asks on first use.
    expect(n[4]!.text).toBe('Next: restart Claude Desktop.');
    expect(n[4]!.hint).toBe('The imported sign-ins are in Servers now. A server whose sign-in was not imported asks you to sign in the first time the client uses it: approve it in this window, and it then shows in Servers.');
    expect(migrationResultNotices({ files: [], imports: [] })).toEqual([{ tone: 'ok', text: 'Nothing needed changing.' }]);
  });
});
