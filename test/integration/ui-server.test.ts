// `mcp-tokens ui` as a user runs it: the session key, Host and Origin checks, the typed API over
// HTTP, events over SSE, and a bridge's consent request answered through the UI.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { openBridge, textOf, waitFor } from './bridge-helpers.js';
import { BIN, cliEnv, tempHome } from './cli-helpers.js';

let rig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;
let ui: ChildProcess;
let url: URL;
/** The session's page: /s/<random>/ on the UI's origin. */
let base: URL;
let cookie = '';
let token = '';
const events: Array<{ event: string; data: unknown }> = [];
let eventsRaw = '';
const eventsAbort = new AbortController();

beforeAll(async () => {
  rig = await startRig('own-as');
  home = await tempHome();
  env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
  ui = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  ui.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await waitFor(() => out.includes('\n'), 15_000, 'the ui URL');
  url = new URL((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie')!;
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  cookie = setCookie.split(';')[0]!;
  base = new URL(res.headers.get('location')!, url);
  const shell = await (await fetch(base, { headers: { cookie } })).text();
  token = /<meta name="mcp-tokens-session" content="([^"]+)">/.exec(shell)![1]!;
  // Follow the event stream for the whole file.
  const ev = await fetch(new URL('api/events', base), { headers: { cookie }, signal: eventsAbort.signal });
  expect(ev.headers.get('content-type')).toMatch(/text\/event-stream/);
  void (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of ev.body as unknown as AsyncIterable<Uint8Array>) {
        eventsRaw += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = eventsRaw.indexOf('\n\n')) >= 0) {
          const frame = eventsRaw.slice(0, i);
          eventsRaw = eventsRaw.slice(i + 2);
          const name = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (name && data) events.push({ event: name, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted at the end
    }
  })();
});

afterAll(async () => {
  eventsAbort.abort();
  ui?.kill('SIGTERM');
  await new Promise((r) => (ui.exitCode !== null ? r(null) : ui.once('exit', r)));
  await rig?.close();
  await rm(home, { recursive: true, force: true });
});

async function call(channel: string, args: unknown[], headers: Record<string, string> = {}) {
  const res = await fetch(new URL(`api/call/${encodeURIComponent(channel)}`, base), {
    method: 'POST',
    headers: { cookie, origin: url.origin, 'content-type': 'application/json', 'x-mcp-tokens-session': token, ...headers },
    body: JSON.stringify({ args }),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string; hint?: string; detail?: string } } };
}

function rawGet(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(url.port), path, headers: { host, cookie } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('mcp-tokens ui', () => {
  it('refuses requests without the session key, with a wrong key, another Host, or another Origin', async () => {
    expect((await fetch(new URL('/', url))).status).toBe(403);
    expect((await fetch(new URL('/launch/not-the-key', url), { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(new URL('api/call/servers%2Flist', base), { method: 'POST', headers: { origin: url.origin, 'content-type': 'application/json', 'x-mcp-tokens-session': token }, body: '{"args":[]}' })).status).toBe(403);
    // The cookie only counts under the session's path.
    expect((await fetch(new URL('/', url), { headers: { cookie } })).status).toBe(403);
    expect(await rawGet(base.pathname, 'evil.example:80')).toBe(421);
    expect(await rawGet(base.pathname, `127.0.0.1:${url.port}`)).toBe(200);
    expect((await call('servers/list', [], { origin: 'http://evil.example' })).status).toBe(403);
    const noOrigin = await fetch(new URL('api/call/servers%2Flist', base), { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-mcp-tokens-session': token }, body: '{"args":[]}' });
    expect(noOrigin.status).toBe(403);
    // Cookie and Origin without the page's token: refused.
    expect((await call('servers/list', [], { 'x-mcp-tokens-session': 'guess' })).status).toBe(403);
  });

  it('serves the app shell with a strict CSP', async () => {
    const res = await fetch(base, { headers: { cookie } });
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('validates arguments and names unknown calls', async () => {
    const bad = await call('servers/get', [42]);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/servers\/get/);
    const notUrl = await call('servers/preview', [{ url: 'file:///etc/passwd' }]);
    expect(notUrl.status).toBe(400);
    expect(notUrl.body.error?.message).toMatch(/http\(s\) URL/);
    expect((await call('servers/frobnicate', [])).status).toBe(404);
    const missing = await call('servers/get', ['nope']);
    expect(missing.status).toBe(404);
    // UI words; core's own text rides along as the detail.
    expect(missing.body.error?.message).toBe('This server is not in the list any more.');
    expect(missing.body.error?.detail).toMatch(/No linked server/);
  });

  it('previews, links, lists and revokes through the API, with events and never a token', async () => {
    const preview = await call('servers/preview', [{ url: rig.mcpUrl }]);
    expect(preview.body).toMatchObject({ ok: true, result: { issuer: rig.as.issuer, registration: 'dynamic', flows: ['browser', 'device'], insecureHttp: true, issuerOtherSite: false } });
    const linked = await call('servers/link', [{ url: rig.mcpUrl, name: 'Demo' }]);
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    const server = (linked.body.result as { server: { id: string; status: string; name: string } }).server;
    expect(server).toMatchObject({ name: 'Demo', status: 'ok' });
    const list = await call('servers/list', []);
    expect((list.body.result as Array<{ id: string }>).map((s) => s.id)).toEqual([server.id]);
    await waitFor(() => events.some((e) => e.event === 'link/done'), 5000, 'link/done');
    expect(events.some((e) => e.event === 'link/progress' && /Found authorization server/.test((e.data as { line: string }).line))).toBe(true);
    await waitFor(() => events.some((e) => e.event === 'servers/changed'), 5000, 'servers/changed');
    const revoked = await call('servers/revoke', [server.id]);
    expect(revoked.body).toMatchObject({ ok: true, result: { revokedAtAs: ['refresh_token', 'access_token'], server: { status: 'needs-reauth' } } });
    const cfg = await call('servers/clientConfig', [server.id, 'claude']);
    expect((cfg.body.result as { snippet: string }).snippet).toContain(`"bridge"`);
    // Nothing the UI received carries a token.
    const seen = JSON.stringify([preview, linked, list, revoked, cfg, events]);
    for (const s of [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens]) expect(seen).not.toContain(s);
  });

  it('a bridge for an unknown URL asks for consent in the UI, and proceeds once approved', async () => {
    const other = await startRig('separate-as');
    try {
      const bridging = openBridge(env, other.mcpUrl);
      await waitFor(() => events.some((e) => e.event === 'consent/request'), 15_000, 'the consent request');
      const req = events.find((e) => e.event === 'consent/request')!.data as { requestId: string; preview: { url: string; issuer: string } };
      expect(req.preview).toMatchObject({ url: other.mcpUrl, issuer: other.as.issuer });
      expect(other.as.registrations).toEqual([]);
      const answered = await call('consent/answer', [req.requestId, { approve: true }]);
      expect(answered.status).toBe(200);
      const b = await bridging;
      try {
        expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'consented' } }))).toBe('consented');
      } finally {
        await b.close();
      }
    } finally {
      await other.close();
    }
  });
  it('writes the bridge entry into Claude Desktop’s config, finds and replaces mcp-remote entries, and refuses a broken file', async () => {
    let servers = (await call('servers/list', [])).body.result as Array<{ id: string; usedBy: string[] }>;
    if (!servers.length) {
      expect((await call('servers/link', [{ url: rig.mcpUrl, name: 'Demo' }])).status).toBe(200);
      servers = (await call('servers/list', [])).body.result as Array<{ id: string; usedBy: string[] }>;
    }
    const id = servers[0]!.id;
    // Linux location, from HOME (the test's temp dir) as the ui process sees it.
    const file = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    const other = { command: 'uvx', args: ['mcp-server-time'], env: { TZ: 'Europe/Paris' } };
    const legacyUrl = 'https://legacy.example.com/mcp';
    const legacy = { command: 'npx', args: ['-y', 'mcp-remote', legacyUrl] };
    await mkdir(dirname(file), { recursive: true });
    const original = `{\n  "globalShortcut": "Ctrl+Space",\n  "mcpServers": {\n    "time": ${JSON.stringify(other)},\n    "legacy": ${JSON.stringify(legacy)}\n  }\n}\n`;
    await writeFile(file, original);
    const backups = async () => (await readdir(dirname(file))).filter((f) => f.includes('.bak-')).sort();

    const added = await call('clients/add', [id, 'claude']);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const r = added.body.result as { client: string; file: string; action: string; backup?: string; name: string };
    expect(r).toMatchObject({ client: 'claude', file, action: 'added' });
    expect(await readFile(r.backup!, 'utf8')).toBe(original);
    const cfg = JSON.parse(await readFile(file, 'utf8')) as { globalShortcut: string; mcpServers: Record<string, unknown> };
    expect(cfg.globalShortcut).toBe('Ctrl+Space');
    expect(cfg.mcpServers.time).toEqual(other);
    expect(cfg.mcpServers.legacy).toEqual(legacy);
    // This installation's Node and bin script, and the data dir, which is not the default one.
    expect(cfg.mcpServers[r.name]).toEqual({ command: process.execPath, args: [BIN, 'bridge', id], env: { MCP_TOKENS_HOME: home } });
    const used = (await call('servers/get', [id])).body.result as { usedBy: string[] };
    expect(used.usedBy).toContain('Claude Desktop');
    expect((await call('clients/add', [id, 'claude'])).body.result).toMatchObject({ action: 'unchanged' });

    const plan = await call('clients/migrationPlan', []);
    expect(plan.status).toBe(200);
    const entries = (plan.body.result as { entries: Array<Record<string, unknown>> }).entries;
    expect(entries).toEqual([expect.objectContaining({ client: 'Claude Desktop', file, name: 'legacy', url: legacyUrl, action: 'replace', hasGrant: false })]);

    const migrated = await call('clients/migrate', [{ importTokens: false, deletePlaintext: false }]);
    expect(migrated.body.result).toMatchObject({ files: [{ file, replaced: ['legacy'] }], imports: [] });
    const after = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, unknown> };
    expect(after.mcpServers.legacy).toEqual({ command: process.execPath, args: [BIN, 'bridge', legacyUrl], env: { MCP_TOKENS_HOME: home } });
    expect(after.mcpServers.time).toEqual(other);
    expect(((await call('clients/migrationPlan', [])).body.result as { entries: unknown[] }).entries).toEqual([]);
    expect((await call('clients/migrate', [{ importTokens: false, deletePlaintext: true }])).status).toBe(400);

    // A file that is not valid JSON: the error says where, and nothing is written.
    const broken = '{\n  "mcpServers": {\n    "time": { "command": "uvx", }\n  }\n}\n';
    await writeFile(file, broken);
    const before = await backups();
    const refused = await call('clients/add', [id, 'claude']);
    expect(refused.status).toBe(422);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.error?.message).toContain(file);
    expect(refused.body.error?.message).toMatch(/not valid JSON: .*line 3, column \d+/);
    expect(refused.body.error?.hint).toMatch(/Nothing was changed/);
    expect(await readFile(file, 'utf8')).toBe(broken);
    expect(await backups()).toEqual(before);
    const unreadable = (await call('clients/migrationPlan', [])).body.result as { unreadable: Array<{ file: string; error: string }> };
    expect(unreadable.unreadable).toEqual([expect.objectContaining({ file, error: expect.stringMatching(/line 3/) })]);
  });
});
