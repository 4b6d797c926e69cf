import { describe, expect, it } from 'vitest';
import type { ServerSummary } from '../../src-shared/contract.js';
import { MAX_SEPARATE_NOTIFICATIONS, notificationsFor } from '../../src-main/core/app-model/notify.js';

function server(id: string, over: Partial<ServerSummary> = {}): ServerSummary {
  return {
    id,
    name: id[0]!.toUpperCase() + id.slice(1),
    url: `https://${id}.example/mcp`,
    resource: `https://${id}.example/mcp`,
    issuer: `https://auth.${id}.example`,
    status: 'ok',
    scopes: [],
    hasRefreshToken: true,
    registration: { method: 'dynamic' },
    flow: 'browser',
    activity: [],
    usedBy: [],
    headers: [],
    ...over,
  };
}
const broken = (id: string, reason: ServerSummary['reason'] = 'revoked') => server(id, { status: 'needs-reauth', reason });

/** Feeds a sequence of server lists through notificationsFor as the app does; returns what was shown per step. */
function run(steps: ServerSummary[][]): string[][] {
  let prev: ServerSummary[] | undefined;
  let notified = new Set<string>();
  return steps.map((next) => {
    const r = notificationsFor(prev, next, notified);
    prev = next;
    notified = r.notified;
    return r.notifications.map((n) => n.title);
  });
}

describe('notificationsFor', () => {
  it('announces a server entering needs-reauth once, however often the list repeats', () => {
    const shown = run([[server('gh')], [broken('gh')], [broken('gh')], [broken('gh', 'expired')], [broken('gh')]]);
    expect(shown).toEqual([[], ['Gh needs you to sign in again'], [], [], []]);
  });

  it('a new incident after the server recovered is announced again', () => {
    const shown = run([[server('gh')], [broken('gh')], [server('gh')], [broken('gh')]]);
    expect(shown).toEqual([[], ['Gh needs you to sign in again'], [], ['Gh needs you to sign in again']]);
  });

  it('unlinking ends the incident; re-linking and breaking again is news', () => {
    const shown = run([[server('gh')], [broken('gh')], [], [broken('gh')]]);
    expect(shown).toEqual([[], ['Gh needs you to sign in again'], [], ['Gh needs you to sign in again']]);
  });

  it('the notification says why and clicking it re-authorizes that server', () => {
    const r = notificationsFor([server('gh')], [broken('gh', 'revoked')], new Set());
    expect(r.notifications).toHaveLength(1);
    const n = r.notifications[0]!;
    expect(n.body).toMatch(/revoked/);
    expect(n.action).toEqual({ kind: 'reauthorize', id: 'gh' });
    expect(n.tag).toBe('reauth:gh');
    expect(r.notified).toEqual(new Set(['gh']));
    expect(notificationsFor([server('a')], [broken('a', 'more-scope')], new Set()).notifications[0]!.body).toMatch(/more permissions/);
    expect(notificationsFor([server('a')], [server('a', { status: 'needs-reauth' })], new Set()).notifications[0]!.body).toMatch(/no longer works/);
  });

  it('at start-up, servers already broken are summed up in one notification', () => {
    const r = notificationsFor(undefined, [broken('a'), server('b'), broken('c')], new Set());
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0]).toMatchObject({ title: '2 servers need you to sign in again', action: { kind: 'open' } });
    expect(r.notifications[0]!.body).toContain('A, C');
    expect(r.notified).toEqual(new Set(['a', 'c']));
    // A single one at start-up is still named.
    expect(notificationsFor(undefined, [broken('a')], new Set()).notifications.map((n) => n.title)).toEqual(['A needs you to sign in again']);
  });

  it('a burst beyond the limit becomes one summary; a few become one each', () => {
    const ok = ['a', 'b', 'c', 'd', 'e'].map((id) => server(id));
    const few = notificationsFor(ok, [broken('a'), broken('b'), ...ok.slice(2)], new Set());
    expect(few.notifications.map((n) => n.title)).toEqual(['A needs you to sign in again', 'B needs you to sign in again']);
    const all = ok.map((s) => broken(s.id));
    expect(all.length).toBeGreaterThan(MAX_SEPARATE_NOTIFICATIONS);
    const burst = notificationsFor(ok, all, new Set());
    expect(burst.notifications).toHaveLength(1);
    expect(burst.notifications[0]!.title).toBe('5 servers need you to sign in again');
    expect(burst.notifications[0]!.body).toBe('A, B, C and 2 more. Open MCP Token Manager to sign in again.');
  });

  it('does not change the set it was given', () => {
    const given = new Set(['gone']);
    const r = notificationsFor([], [broken('x')], given);
    expect(given).toEqual(new Set(['gone']));
    expect(r.notified).toEqual(new Set(['x']));
  });
});
