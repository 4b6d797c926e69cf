import { describe, expect, it } from 'vitest';
import type { MigrationEntrySummary, MigrationPlanSummary, MigrationResultSummary } from '../../src-shared/contract.js';
import { ApiCallError } from '../../src-renderer/api/http.js';
import { backgroundFlows, createAppStore, flowsFor, selectedServer } from '../../src-renderer/store.js';
import { deferred, fakeApi, preview, server, tick } from './renderer-fake-api.js';

const FLOW = '0b7f8e9c-1a2b-4c3d-8e9f-000000000001';

function setup() {
  const f = fakeApi();
  let t = 1000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  f.handle('app/info', async () => ({ version: '0.1.0', host: 'browser', secrets: { kind: 'file', description: 'A key file.', weak: true }, dataDir: '/tmp/x' }));
  f.handle('settings/get', async () => ({ launchAtLogin: false, startInTray: true, refreshAheadMinutes: 5, notifyOnReauth: true }));
  f.handle('servers/list', async () => [server()]);
  const store = createAppStore(f.api, { now: clock.now });
  return { f, store, clock };
}

async function started() {
  const s = setup();
  const off = s.store.getState().init();
  await tick();
  return { ...s, off };
}

describe('renderer store: loading and events', () => {
  it('loads info, settings and servers, and subscribes to every event', async () => {
    const { f, store, off } = await started();
    const st = store.getState();
    expect(st.ready).toBe(true);
    expect(st.info?.secrets.weak).toBe(true);
    expect(st.settings?.refreshAheadMinutes).toBe(5);
    expect(st.servers.map((s) => s.id)).toEqual(['rig']);
    for (const e of ['servers/changed', 'link/progress', 'link/deviceCode', 'link/done', 'consent/request', 'consent/update'] as const) expect(f.listenerCount(e)).toBe(1);
    off();
    expect(f.listenerCount()).toBe(0);
  });

  it('shows a load failure with its hint', async () => {
    const f = fakeApi();
    f.handle('app/info', async () => {
      throw new ApiCallError('Cannot reach MCP Token Manager.', 'unreachable', 'Is it running?');
    });
    f.handle('settings/get', async () => ({ launchAtLogin: false, startInTray: true, refreshAheadMinutes: 5, notifyOnReauth: true }));
    f.handle('servers/list', async () => []);
    const store = createAppStore(f.api);
    store.getState().init();
    await tick();
    expect(store.getState().loadError).toEqual({ message: 'Cannot reach MCP Token Manager.', hint: 'Is it running?', code: 'unreachable' });
  });

  it('replaces the list on servers/changed, and a slower list answer does not undo a newer push', async () => {
    const { f, store } = setup();
    const slow = deferred<ReturnType<typeof server>[]>();
    f.handle('servers/list', () => slow.promise);
    store.getState().init();
    f.emit('servers/changed', [server({ id: 'new' })]);
    slow.resolve([server({ id: 'old' })]);
    await tick();
    expect(store.getState().servers.map((s) => s.id)).toEqual(['new']);
  });

  it('queues consent requests once each and removes them when answered', async () => {
    const { f, store } = await started();
    const req = { requestId: '11111111-1111-4111-8111-111111111111', requestedBy: 'Claude Desktop', preview: preview() };
    f.emit('consent/request', req);
    f.emit('consent/request', req);
    f.emit('consent/request', { ...req, requestId: '22222222-2222-4222-8222-222222222222' });
    expect(store.getState().consents).toHaveLength(2);
    f.handle('consent/answer', async () => ({ ok: true }));
    await store.getState().answerConsent(req.requestId, true, 'device');
    expect(f.calls.at(-1)).toEqual({ channel: 'consent/answer', args: [req.requestId, { approve: true, flow: 'device' }] });
    expect(store.getState().consents.map((c) => c.request.requestId)).toEqual(['22222222-2222-4222-8222-222222222222']);
    expect(store.getState().notice?.text).toMatch(/Approved/);
  });

  it('names the client on a waiting consent request when its name comes later', async () => {
    const { f, store } = await started();
    const req = { requestId: '11111111-1111-4111-8111-111111111111', requestedBy: 'An MCP client', preview: preview() };
    f.emit('consent/request', req);
    f.emit('consent/update', { requestId: '99999999-9999-4999-8999-999999999999', requestedBy: 'Other' });
    expect(store.getState().consents[0]!.request.requestedBy).toBe('An MCP client');
    f.emit('consent/update', { requestId: req.requestId, requestedBy: 'slow-client' });
    expect(store.getState().consents[0]!.request.requestedBy).toBe('slow-client');
  });

  it('keeps a consent request with the error when the answer fails', async () => {
    const { f, store } = await started();
    const req = { requestId: '11111111-1111-4111-8111-111111111111', requestedBy: 'Claude Desktop', preview: preview() };
    f.emit('consent/request', req);
    f.handle('consent/answer', async () => {
      throw new ApiCallError('That request is no longer waiting for an answer.', 'not-found', 'The bridge may have given up.');
    });
    await store.getState().answerConsent(req.requestId, false);
    expect(f.calls.at(-1)?.args).toEqual([req.requestId, { approve: false }]);
    const [item] = store.getState().consents;
    expect(item?.busy).toBe(false);
    expect(item?.error?.hint).toBe('The bridge may have given up.');
  });
});

describe('renderer store: adding a server', () => {
  it('previews with progress, then shows the consent card, keeping discovery out of the flows', async () => {
    const { f, store } = await started();
    const p = deferred<ReturnType<typeof preview>>();
    f.handle('servers/preview', () => p.promise);
    store.getState().navigate({ name: 'add' });
    void store.getState().preview({ url: '  https://mcp.example.com/mcp ', scopes: ['a'] });
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/preview', args: [{ url: 'https://mcp.example.com/mcp', scopes: ['a'] }] });
    f.emit('link/progress', { flowId: 'preview', url: 'https://mcp.example.com/mcp', line: 'Fetching resource metadata' });
    f.emit('link/progress', { flowId: 'preview', url: 'https://mcp.example.com/mcp', line: 'Authorization server: https://mcp.example.com' });
    const a = store.getState().add;
    expect(a.stage).toBe('previewing');
    expect(a.stage === 'previewing' && a.lines).toEqual(['Fetching resource metadata', 'Authorization server: https://mcp.example.com']);
    p.resolve(preview());
    await tick();
    expect(store.getState().add.stage).toBe('consent');
    // A straggling discovery line after the card is up is not a sign-in in progress.
    f.emit('link/progress', { flowId: 'preview', url: 'https://mcp.example.com/mcp', line: 'late' });
    expect(store.getState().flows).toEqual({});
    expect(backgroundFlows(store.getState())).toEqual([]);
  });

  it('reports a failed preview with the server message and hint', async () => {
    const { f, store } = await started();
    f.handle('servers/preview', async () => {
      throw new ApiCallError('No authorization server found for https://x.example/mcp.', 'discovery', 'Is this an MCP server URL?');
    });
    await store.getState().preview({ url: 'https://x.example/mcp' });
    expect(store.getState().add).toMatchObject({ stage: 'failed', step: 'preview', error: { message: 'No authorization server found for https://x.example/mcp.', hint: 'Is this an MCP server URL?' } });
  });

  it('links: progress and device code by flowId, then done with the server added', async () => {
    const { f, store, clock } = await started();
    f.handle('servers/preview', async () => preview());
    store.getState().navigate({ name: 'add' });
    await store.getState().preview({ url: 'https://mcp.example.com/mcp', clientId: 'given' });
    const link = deferred<{ flowId: string; server: ReturnType<typeof server> }>();
    f.handle('servers/link', () => link.promise);
    clock.advance(10);
    void store.getState().approve({ flow: 'device', name: '  Work  ' });
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/link', args: [{ url: 'https://mcp.example.com/mcp', flow: 'device', name: 'Work', clientId: 'given' }] });
    const a = store.getState().add;
    expect(a.stage).toBe('linking');

    clock.advance(10);
    f.emit('link/progress', { flowId: FLOW, url: 'https://mcp.example.com/mcp', line: 'Registering the app' });
    f.emit('link/deviceCode', { flowId: FLOW, userCode: 'WDJB-MJHT', verificationUri: 'https://mcp.example.com/device', expiresAt: 999_999 });
    const flows = a.stage === 'linking' ? flowsFor(store.getState().flows, a.preview.url, a.since) : [];
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ flowId: FLOW, state: 'running', lines: ['Registering the app'], deviceCode: { userCode: 'WDJB-MJHT' } });
    // The add screen shows this flow itself, so the global panel does not repeat it.
    expect(backgroundFlows(store.getState())).toEqual([]);

    f.emit('link/done', { flowId: FLOW, ok: true, serverId: 'work' });
    link.resolve({ flowId: FLOW, server: server({ id: 'work', name: 'Work' }) });
    await tick();
    const done = store.getState().add;
    expect(done).toMatchObject({ stage: 'done', flowId: FLOW, server: { id: 'work' } });
    expect(store.getState().servers.map((s) => s.id)).toEqual(['rig', 'work']);
    expect(store.getState().flows[FLOW]).toMatchObject({ state: 'done', owned: true });

    // Leaving the finished wizard starts it over.
    store.getState().navigate({ name: 'servers' });
    expect(store.getState().add.stage).toBe('idle');
    expect(backgroundFlows(store.getState())).toEqual([]);
  });

  it('reports a failed link on the wizard, not again in the global panel', async () => {
    const { f, store } = await started();
    f.handle('servers/preview', async () => preview());
    store.getState().navigate({ name: 'add' });
    await store.getState().preview({ url: 'https://mcp.example.com/mcp' });
    f.handle('servers/link', async () => {
      f.emit('link/progress', { flowId: FLOW, url: 'https://mcp.example.com/mcp', line: 'Opening the browser' });
      f.emit('link/done', { flowId: FLOW, ok: false, error: { message: 'Access denied.' } });
      throw new ApiCallError('Access denied.', 'denied', 'You pressed Deny.');
    });
    await store.getState().approve({ flow: 'browser' });
    expect(store.getState().add).toMatchObject({ stage: 'failed', step: 'link', error: { message: 'Access denied.', hint: 'You pressed Deny.' } });
    store.getState().navigate({ name: 'servers' });
    expect(backgroundFlows(store.getState())).toEqual([]);
  });

  it('cancels a running link by its flowId', async () => {
    const { f, store } = await started();
    f.handle('servers/preview', async () => preview());
    store.getState().navigate({ name: 'add' });
    await store.getState().preview({ url: 'https://mcp.example.com/mcp' });
    const link = deferred<never>();
    f.handle('servers/link', () => link.promise);
    f.handle('servers/cancelLink', async () => ({ cancelled: true }));
    void store.getState().approve({ flow: 'browser' });
    f.emit('link/progress', { flowId: FLOW, url: 'https://mcp.example.com/mcp', line: 'Waiting for the browser' });
    await store.getState().cancelAdd();
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/cancelLink', args: [FLOW] });
    link.reject(new ApiCallError('Cancelled.', 'cancelled'));
    await tick();
    expect(store.getState().add).toMatchObject({ stage: 'failed', error: { message: 'Cancelled.' } });
  });

  it('drops the answer of a preview abandoned by starting over', async () => {
    const { f, store } = await started();
    const p = deferred<ReturnType<typeof preview>>();
    f.handle('servers/preview', () => p.promise);
    void store.getState().preview({ url: 'https://mcp.example.com/mcp' });
    store.getState().resetAdd();
    p.resolve(preview());
    await tick();
    expect(store.getState().add.stage).toBe('idle');
  });
});

describe('renderer store: sign-ins started elsewhere', () => {
  it('shows a bridge-started sign-in until it ends, and a failure until dismissed', async () => {
    const { f, store } = await started();
    f.emit('link/progress', { flowId: FLOW, url: 'https://other.example/mcp', line: 'Opening the browser' });
    expect(backgroundFlows(store.getState()).map((x) => x.flowId)).toEqual([FLOW]);
    f.emit('link/done', { flowId: FLOW, ok: true, serverId: 'other' });
    expect(backgroundFlows(store.getState())).toEqual([]);

    const second = '0b7f8e9c-1a2b-4c3d-8e9f-000000000002';
    f.emit('link/deviceCode', { flowId: second, userCode: 'ABCD-EFGH', verificationUri: 'https://as.example/device', expiresAt: 5 });
    f.emit('link/done', { flowId: second, ok: false, error: { message: 'Expired: Bearer abc', hint: 'Try again.' } });
    const [failed] = backgroundFlows(store.getState());
    expect(failed).toMatchObject({ flowId: second, state: 'error', error: { message: 'Expired: Bearer [hidden]', hint: 'Try again.' } });
    store.getState().dismissFlow(second);
    expect(backgroundFlows(store.getState())).toEqual([]);
  });

  it('scrubs token-shaped text from progress lines', async () => {
    const { f, store } = await started();
    f.emit('link/progress', { flowId: FLOW, url: 'https://o.example/mcp', line: 'got access_token=abc123 from the AS' });
    expect(store.getState().flows[FLOW]?.lines).toEqual(['got access_token=[hidden] from the AS']);
  });
});

describe('renderer store: server actions', () => {
  it('refreshes and updates the server; a failure keeps the hint', async () => {
    const { f, store } = await started();
    f.handle('servers/refresh', async () => server({ lastRefreshAt: '2030-01-01T00:30:00.000Z' }));
    await store.getState().refresh('rig');
    expect(store.getState().servers[0]?.lastRefreshAt).toBe('2030-01-01T00:30:00.000Z');
    expect(store.getState().ops.rig).toEqual({ notice: { tone: 'ok', text: 'Refreshed.' } });
    f.handle('servers/refresh', async () => {
      throw new ApiCallError('The authorization server is down.', 'transient', 'It will retry.');
    });
    await store.getState().refresh('rig');
    expect(store.getState().ops.rig?.notice).toEqual({ tone: 'bad', text: 'The authorization server is down.', hint: 'It will retry.' });
    store.getState().clearNotice('rig');
    expect(store.getState().ops.rig?.notice).toBeUndefined();
  });

  it('keeps message and hint of a preload-style rejection (a plain object, not an Error)', async () => {
    const { f, store } = await started();
    f.handle('servers/refresh', () => Promise.reject({ name: 'ApiCallError', message: 'Revoked at the AS.', code: 'needs-reauth', hint: 'Re-authorize.' }));
    await store.getState().refresh('rig');
    expect(store.getState().ops.rig?.notice).toEqual({ tone: 'bad', text: 'Revoked at the AS.', hint: 'Re-authorize.' });
  });

  it('re-authorizes with the chosen flow, marking the server busy meanwhile', async () => {
    const { f, store } = await started();
    const r = deferred<ReturnType<typeof server>>();
    f.handle('servers/reauthorize', () => r.promise);
    store.getState().navigate({ name: 'detail', id: 'rig' });
    expect(selectedServer(store.getState())?.id).toBe('rig');
    void store.getState().reauthorize('rig', 'device');
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/reauthorize', args: ['rig', { flow: 'device' }] });
    expect(store.getState().ops.rig?.busy).toBe('reauthorize');
    f.emit('link/deviceCode', { flowId: FLOW, userCode: 'ABCD', verificationUri: 'https://as.example/device', expiresAt: 5 });
    f.emit('link/progress', { flowId: FLOW, url: 'https://mcp.example.com/mcp', line: 'Waiting' });
    // Shown on the detail screen, so not in the global panel.
    expect(backgroundFlows(store.getState())).toEqual([]);
    expect(flowsFor(store.getState().flows, 'https://mcp.example.com/mcp')[0]?.deviceCode?.userCode).toBe('ABCD');
    r.resolve(server({ status: 'ok' }));
    await tick();
    expect(store.getState().ops.rig).toEqual({ notice: { tone: 'ok', text: 'Signed in again.' } });
  });

  it('adds another account: busy meanwhile, then the new row and its own page', async () => {
    const { f, store } = await started();
    const r = deferred<{ flowId: string; server: ReturnType<typeof server> }>();
    f.handle('servers/addAccount', () => r.promise);
    store.getState().navigate({ name: 'detail', id: 'rig' });
    void store.getState().addAccount('rig', { name: ' Rig (work) ', loginHint: ' bob ', flow: 'browser' });
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/addAccount', args: ['rig', { name: 'Rig (work)', loginHint: 'bob', flow: 'browser' }] });
    expect(store.getState().ops.rig?.busy).toBe('account');
    r.resolve({ flowId: FLOW, server: server({ id: 'rig-work', name: 'Rig (work)' }) });
    await tick();
    expect(store.getState().servers.map((x) => x.id)).toEqual(['rig', 'rig-work']);
    expect(store.getState().view).toEqual({ name: 'detail', id: 'rig-work' });
    expect(store.getState().notice?.text).toBe('Added Rig (work): another account on this server, with its own sign-in.');
    expect(store.getState().ops.rig?.busy).toBeUndefined();
  });

  it('signs out and says where', async () => {
    const { f, store } = await started();
    f.handle('servers/revoke', async () => ({ server: server({ status: 'needs-reauth', reason: 'revoked', hasRefreshToken: false }), revokedAtAs: ['refresh_token', 'access_token'] }));
    await store.getState().revoke('rig');
    expect(store.getState().servers[0]?.reason).toBe('revoked');
    expect(store.getState().ops.rig?.notice?.text).toBe('Signed out. mcp.example.com was told to end the sign-in.');
  });

  it('unlinks: the server goes, and the detail screen returns to the list', async () => {
    const { f, store } = await started();
    f.handle('servers/unlink', async () => ({ id: 'rig', revokedAtAs: [], note: 'The AS has no revocation endpoint.' }));
    store.getState().navigate({ name: 'detail', id: 'rig' });
    await store.getState().unlink('rig');
    const st = store.getState();
    expect(st.servers).toEqual([]);
    expect(st.view).toEqual({ name: 'servers' });
    expect(st.notice).toEqual({ tone: 'ok', text: 'Removed Rig.', hint: 'The AS has no revocation endpoint.' });
    expect(st.ops.rig).toBeUndefined();
    expect(f.calls.find((c) => c.channel === 'servers/unlink')?.args).toEqual(['rig', {}]);
  });

  it('removes and also takes the entries out of the clients when asked', async () => {
    const { f, store } = await started();
    f.handle('servers/unlink', async () => ({ id: 'rig', revokedAtAs: ['refresh_token'], clients: [{ client: 'claude', file: '/c.json', removed: ['rig'], backup: '/c.json.bak' }] }));
    await store.getState().unlink('rig', { removeFromClients: true });
    expect(f.calls.find((c) => c.channel === 'servers/unlink')?.args).toEqual(['rig', { removeFromClients: true }]);
    expect(store.getState().notice?.text).toBe('Removed Rig. Also taken out of Claude Desktop; restart it to apply.');
  });

  it('ends a flow whose end event was missed, from main\'s list of running flows', async () => {
    const { f, store } = await started();
    f.emit('link/progress', { flowId: 'f1', kind: 'link', url: 'https://mcp.example.com/mcp', line: 'Probing…' });
    f.emit('link/progress', { flowId: 'f2', kind: 'link', url: 'https://other.example.com/mcp', line: 'Probing…' });
    expect(Object.values(store.getState().flows).filter((x) => x.state === 'running')).toHaveLength(2);
    f.handle('app/flows', async () => ({ running: [{ flowId: 'f2', url: 'https://other.example.com/mcp' }] }));
    await store.getState().reconcileFlows();
    expect(store.getState().flows.f1).toMatchObject({ state: 'done', dismissed: true });
    expect(store.getState().flows.f2?.state).toBe('running');
  });

  it('never shows another window\'s discovery as a sign-in in progress', async () => {
    const { f, store } = await started();
    f.emit('link/progress', { flowId: 'p1', kind: 'preview', url: 'https://mcp.example.com/mcp', line: 'Probing…' });
    f.emit('link/done', { flowId: 'p1', kind: 'preview', ok: true });
    expect(store.getState().flows).toEqual({});
  });

  it('asks for a client config', async () => {
    const { f, store } = await started();
    f.handle('servers/clientConfig', async (id, client) => ({ client, snippet: `{"mcpServers":{"${id}":{}}}` }));
    const r = await store.getState().clientConfig('rig', 'claude');
    expect(r.snippet).toContain('rig');
    expect(f.calls.at(-1)).toEqual({ channel: 'servers/clientConfig', args: ['rig', 'claude'] });
  });
});

describe('renderer store: settings', () => {
  it('saves a change, and puts the old value back when main refuses', async () => {
    const { f, store } = await started();
    f.handle('settings/set', async (p) => ({ launchAtLogin: false, startInTray: true, refreshAheadMinutes: 5, notifyOnReauth: true, ...p }));
    await store.getState().saveSettings({ refreshAheadMinutes: 10 });
    expect(f.calls.at(-1)).toEqual({ channel: 'settings/set', args: [{ refreshAheadMinutes: 10 }] });
    expect(store.getState().settings?.refreshAheadMinutes).toBe(10);
    expect(store.getState().settingsNotice?.tone).toBe('ok');

    const d = deferred<never>();
    f.handle('settings/set', () => d.promise);
    const saving = store.getState().saveSettings({ launchAtLogin: true });
    expect(store.getState().settings?.launchAtLogin).toBe(true);
    expect(store.getState().settingsBusy).toBe(true);
    d.reject(new ApiCallError('Invalid arguments for settings/set', 'usage'));
    await saving;
    expect(store.getState().settings?.launchAtLogin).toBe(false);
    expect(store.getState().settingsNotice).toEqual({ tone: 'bad', text: 'Invalid arguments for settings/set' });
  });

  it('reports a link that cannot be opened', async () => {
    const { f, store } = await started();
    f.handle('shell/openExternal', async () => {
      throw new ApiCallError('Refusing to open a non-http link.', 'usage');
    });
    await store.getState().openExternal('https://as.example/device');
    expect(store.getState().notice?.text).toBe('Could not open the link: Refusing to open a non-http link.');
  });
});

describe('renderer store: MCP client configs', () => {
  const FILE = '/home/me/.config/Claude/claude_desktop_config.json';
  const entry = (over: Partial<MigrationEntrySummary> = {}): MigrationEntrySummary => ({
    client: 'Claude Desktop',
    kind: 'claude',
    scope: 'user',
    file: FILE,
    name: 'linear',
    url: 'https://mcp.linear.app/sse',
    action: 'replace',
    before: 'npx -y mcp-remote https://mcp.linear.app/sse',
    after: 'npx mcp-tokens bridge https://mcp.linear.app/sse',
    notes: [],
    hasGrant: true,
    grantHasRefreshToken: true,
    ...over,
  });
  const plan = (entries: MigrationEntrySummary[]): MigrationPlanSummary => ({ entries, unreadable: [], unmatchedGrants: 0, authDir: '/home/me/.mcp-auth' });

  it('adds the bridge entry to Claude Desktop and words the outcome, backup included', async () => {
    const { f, store } = await started();
    f.handle('clients/add', async (_id, client) => ({ client, file: FILE, name: 'rig', action: 'added', created: false, backup: `${FILE}.bak-20250506-070809` }));
    const r = await store.getState().addToClient('rig', 'claude');
    expect(f.calls.filter((c) => c.channel === 'clients/add')).toEqual([{ channel: 'clients/add', args: ['rig', 'claude'] }]);
    expect(r).toMatchObject({ ok: true, result: { action: 'added' } });
    if (!r.ok) throw new Error('unreachable');
    expect(r.notice).toEqual({ tone: 'ok', text: `Added to Claude Desktop (${FILE}); restart Claude Desktop to use it.`, hint: `Backup of the previous file: ${FILE}.bak-20250506-070809` });
  });

  it('reports a config file main refused, with its line and column', async () => {
    const { f, store } = await started();
    f.handle('clients/add', async () => {
      throw new ApiCallError(`${FILE} is not valid JSON: unexpected "}" at line 3, column 31.`, 'vault', 'Nothing was changed. Fix the file (or move it aside to start a new one) and run the command again.');
    });
    const r = await store.getState().addToClient('rig', 'claude');
    expect(r).toEqual({ ok: false, error: { message: `${FILE} is not valid JSON: unexpected "}" at line 3, column 31.`, hint: expect.stringMatching(/Nothing was changed/), code: 'vault' } });
  });

  it('loads the migration plan with everything else, and a failing plan does not stop the app loading', async () => {
    const s = setup();
    s.f.handle('clients/migrationPlan', async () => plan([entry()]));
    s.store.getState().init();
    await tick();
    await tick();
    expect(s.store.getState().migration).toMatchObject({ loading: false, plan: { entries: [{ name: 'linear' }] } });

    const broken = setup();
    broken.f.handle('clients/migrationPlan', async () => {
      throw new ApiCallError('Cannot read /home/me/.cursor/mcp.json (EACCES).', 'vault');
    });
    broken.store.getState().init();
    await tick();
    await tick();
    expect(broken.store.getState().ready).toBe(true);
    expect(broken.store.getState().loadError).toBeUndefined();
    expect(broken.store.getState().migration.error?.message).toMatch(/EACCES/);
  });

  it('keeps the newest plan when answers arrive out of order', async () => {
    const { f, store } = await started();
    const slow = deferred<MigrationPlanSummary>();
    f.handle('clients/migrationPlan', () => slow.promise);
    const first = store.getState().loadMigrationPlan();
    f.handle('clients/migrationPlan', async () => plan([]));
    await store.getState().loadMigrationPlan();
    slow.resolve(plan([entry()]));
    await first;
    expect(store.getState().migration.plan?.entries).toEqual([]);
  });

  it('migrates once at a time, never deletes plaintext it did not import, then shows what is left', async () => {
    const { f, store } = await started();
    const d = deferred<MigrationResultSummary>();
    f.handle('clients/migrate', () => d.promise);
    f.handle('clients/migrationPlan', async () => plan([entry({ name: 'tickets', action: 'keep', after: undefined })]));
    const running = store.getState().migrate({ importTokens: false, deletePlaintext: true });
    expect(store.getState().migration.applying).toBe(true);
    await store.getState().migrate({ importTokens: false, deletePlaintext: false });
    expect(f.calls.filter((c) => c.channel === 'clients/migrate')).toEqual([{ channel: 'clients/migrate', args: [{ importTokens: false, deletePlaintext: false }] }]);
    const result: MigrationResultSummary = { files: [{ file: FILE, client: 'Claude Desktop', backup: `${FILE}.bak-1`, replaced: ['linear'], skipped: [] }], imports: [] };
    d.resolve(result);
    await running;
    const m = store.getState().migration;
    expect(m).toMatchObject({ applying: false, result });
    expect(m.applyError).toBeUndefined();
    expect(m.plan?.entries.map((e) => e.name)).toEqual(['tickets']);
  });

  it('keeps the reason when the migration fails', async () => {
    const { f, store } = await started();
    f.handle('clients/migrate', async () => {
      throw new ApiCallError('A migration is already running.', 'usage', 'Wait for it to finish.');
    });
    f.handle('clients/migrationPlan', async () => plan([entry()]));
    await store.getState().migrate({ importTokens: true, deletePlaintext: true });
    expect(f.calls.find((c) => c.channel === 'clients/migrate')?.args).toEqual([{ importTokens: true, deletePlaintext: true }]);
    expect(store.getState().migration).toMatchObject({ applying: false, applyError: { message: 'A migration is already running.', hint: 'Wait for it to finish.' } });
    expect(store.getState().migration.result).toBeUndefined();
  });
});

describe('renderer store: per-server headers', () => {
  it('saves the rows as given, shows the server main returned, and reports a refusal in its words', async () => {
    const { f, store } = await started();
    const headers = [{ name: 'X-Api-Key', value: '•••', hidden: true }];
    f.handle('servers/setHeaders', async (id) => server({ id, headers }));
    const r = await store.getState().saveHeaders('rig', [{ name: 'X-Api-Key', keep: true }]);
    expect(f.calls.filter((c) => c.channel === 'servers/setHeaders')).toEqual([{ channel: 'servers/setHeaders', args: ['rig', [{ name: 'X-Api-Key', keep: true }]] }]);
    expect(r.ok).toBe(true);
    expect(store.getState().servers.find((s) => s.id === 'rig')?.headers).toEqual(headers);

    f.handle('servers/setHeaders', async () => {
      throw new ApiCallError('The header Host cannot be set here: the app sets it itself on every request.', 'usage');
    });
    const bad = await store.getState().saveHeaders('rig', [{ name: 'Host', value: 'x' }]);
    expect(bad).toEqual({ ok: false, error: { message: 'The header Host cannot be set here: the app sets it itself on every request.', code: 'usage' } });
    // The server shown is left as it was.
    expect(store.getState().servers.find((s) => s.id === 'rig')?.headers).toEqual(headers);
  });
});
