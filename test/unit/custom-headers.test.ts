import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizingFetch } from '../../src-main/bridge/auth-fetch.js';
import type { TokenSource } from '../../src-main/bridge/token-source.js';
import { planMigration } from '../../src-main/core/clients/index.js';
import { checkHeaders, expandHeaderValue, maskHeaderValue, mergeHeaders, parseHeaderFlag } from '../../src-main/core/platform/custom-headers.js';

describe('per-server headers', () => {
  it('parses "Name: value" and refuses what the bridge must set itself, with the reason', () => {
    expect(parseHeaderFlag('X-Tenant: acme')).toEqual({ name: 'X-Tenant', value: 'acme' });
    expect(parseHeaderFlag('X-Api-Key:${API_KEY}')).toEqual({ name: 'X-Api-Key', value: '${API_KEY}' });
    expect(() => parseHeaderFlag('X-Tenant')).toThrow(/is not "Name: value"/);
    expect(() => parseHeaderFlag('Bad Name: x')).toThrow(/not a valid HTTP header name/);
    expect(() => parseHeaderFlag('Authorization: Bearer x')).toThrow(/the bridge sends the OAuth access token there/);
    expect(() => parseHeaderFlag('Mcp-Session-Id: x')).toThrow(/the bridge sets it itself/);
    expect(() => checkHeaders([{ name: 'X-A', value: 'a\r\nX-B: b' }])).toThrow(/one line/);
    expect(() => checkHeaders([{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }])).toThrow(/given twice/);
    // What fetch cannot send would fail every request: refused when set.
    expect(() => checkHeaders([{ name: 'X-A', value: 'café ☕' }])).toThrow(/characters an HTTP header cannot carry/);
  });

  it('masks literal values, keeps ${VAR} references, expands from the environment at run time', () => {
    expect(maskHeaderValue('${API_KEY}')).toBe('${API_KEY}');
    expect(maskHeaderValue('Bearer ${T}')).toBe('•••${T}');
    expect(maskHeaderValue('sk-live-123')).toBe('•••');
    const missing: string[] = [];
    expect(expandHeaderValue('t=${A}; u=${B}', { A: 'x' }, (n) => missing.push(n))).toBe('t=x; u=');
    expect(missing).toEqual(['B']);
    expect(mergeHeaders([{ name: 'X-A', value: '1' }, { name: 'X-B', value: '2' }], [{ name: 'x-a', value: '3' }])).toEqual([
      { name: 'x-a', value: '3' },
      { name: 'X-B', value: '2' },
    ]);
  });
});

describe('the authorizing fetch sends them to the server’s origin only', () => {
  const seen: Array<{ who: string; headers: IncomingHttpHeaders }> = [];
  const servers: Server[] = [];
  let server = '';
  let other = '';
  const listen = async (who: string) => {
    const s = createServer((req, res) => {
      seen.push({ who, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  beforeAll(async () => {
    server = await listen('server');
    other = await listen('other');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('adds the headers and the token for the server, neither for another origin', async () => {
    const tokens: TokenSource = { getToken: async () => 'tok-1', reportRejected: async () => 'tok-1', stepUp: async () => 'tok-1', headers: [{ name: 'X-Tenant', value: 'acme' }] };
    const f = authorizingFetch({ serverUrl: `${server}/mcp`, displayName: 's', tokens });
    await (await f(`${server}/mcp`, { method: 'POST', body: '{}' })).text();
    await (await f(`${other}/elsewhere`, { method: 'GET' })).text();
    expect(seen.map((s) => [s.who, s.headers['x-tenant'], s.headers.authorization])).toEqual([
      ['server', 'acme', 'Bearer tok-1'],
      ['other', undefined, undefined],
    ]);
  });
});

describe('migrating a literal header value', () => {
  it('moves it into the entry’s env and passes a ${VAR} reference on the command line', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const home = await mkdtemp(path.join(os.tmpdir(), 'mcpt-hdr-'));
    try {
      const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({ mcpServers: { k: { command: 'npx', args: ['mcp-remote', 'https://k.example/mcp', '--header', 'X-Api-Key: sk-LITERAL-77'] } } }));
      const plan = await planMigration({ HOME: home }, { platform: 'linux', projectDir: home, authDir: path.join(home, '.mcp-auth'), launcher: { command: '/usr/bin/node', args: ['/opt/mcp-tokens.js'] } });
      const e = plan.entries[0]!;
      expect(e.replacement).toEqual({ command: '/usr/bin/node', args: ['/opt/mcp-tokens.js', 'bridge', 'https://k.example/mcp', '--header', 'X-Api-Key: ${MCP_TOKENS_HEADER_X_API_KEY}'], env: { MCP_TOKENS_HEADER_X_API_KEY: 'sk-LITERAL-77' } });
      expect(e.notes[0]).toMatchObject({ flag: '--header X-Api-Key', kind: 'automatic' });
      expect(JSON.stringify([e.before, e.after, e.notes])).not.toContain('sk-LITERAL-77');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
