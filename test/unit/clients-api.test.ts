// The `clients/*` channels of the UI contract: the bridge entry written into a client's config,
// the migration plan and its application, all through createApiService with a fake manager, on
// real files under a temp HOME. Nothing a UI receives may carry a token or a header value.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCallArgs } from '../../src-shared/contract.js';
import { createApiService, memorySettings, toApiError } from '../../src-main/core/api/service.js';
import type { Broker } from '../../src-main/core/broker/broker.js';
import { importArgsOf, managerGrantImporter, mcpRemoteHashes, parseMcpRemote, runningLauncher, type GrantToImport } from '../../src-main/core/clients/index.js';
import { UserError } from '../../src-main/core/platform/errors.js';
import type { Manager, ServerView } from '../../src-main/core/manager/manager.js';
import { systemClock } from '../../src-main/core/platform/services.js';

const NOW = new Date(2025, 4, 6, 7, 8, 9);
const SECRETS = ['at-PLAINTEXT-9f8e7d6c', 'rt-PLAINTEXT-1a2b3c4d', 'cs-PLAINTEXT-5e6f7a8b', 'hdr-SECRET-0c0d0e0f', 'qry-SECRET-77aa88bb'];
const LEGACY_URL = 'https://legacy.example.com/mcp';
// The default launcher: this installation's Node and bin script, by absolute path.
const { command: L, args: LA } = runningLauncher();

let home: string;
let env: NodeJS.ProcessEnv;
let claudeFile: string;

beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-clients-api-'));
  env = { HOME: home };
  claudeFile = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

function view(id: string, over: Partial<ServerView> = {}): ServerView {
  return {
    id,
    name: 'Demo Server',
    url: 'https://demo.example.com/mcp',
    resource: 'https://demo.example.com/mcp',
    issuer: 'https://auth.example.com',
    status: 'ok',
    scopes: [],
    hasRefreshToken: true,
    registration: { method: 'dynamic' },
    flow: 'browser',
    activity: [],
    secretsKeptIn: 'a file',
    secretsWeak: false,
    grant: { kind: 'authorization_code', label: 'Signed in in the browser' },
    ...over,
  } as ServerView;
}

function setup(over: { importGrant?: (url: string, g: Parameters<Manager['importGrant']>[1]) => Promise<ServerView> } = {}) {
  const imported: Array<{ url: string; args: Parameters<Manager['importGrant']>[1] }> = [];
  const manager = {
    status: async (id: string) => {
      if (id !== 'demo') throw new UserError('not-found', `No linked server "${id}".`);
      return view('demo');
    },
    list: async () => [view('demo')],
    importGrant:
      over.importGrant ??
      (async (url: string, args: Parameters<Manager['importGrant']>[1]) => {
        imported.push({ url, args });
        return view('legacy', { url });
      }),
  } as unknown as Manager;
  const broker = { subscribe: () => () => undefined } as unknown as Broker;
  const logger = { log: () => undefined };
  const changed: unknown[] = [];
  const service = createApiService({
    home,
    manager,
    broker,
    cipher: { kind: 'key-file', description: 'a file', weak: false },
    opener: { open: async () => undefined },
    settings: memorySettings(),
    host: 'browser',
    version: 'test',
    clock: systemClock,
    logger,
    env,
    clientFiles: { platform: 'linux', now: () => NOW },
  });
  service.on('servers/changed', (p) => changed.push(p));
  return { service, h: service.handlers, imported, changed };
}

const OTHER = { command: 'uvx', args: ['mcp-server-time'], env: { TZ: 'Europe/Paris' } };

async function writeClaude(value: unknown) {
  await fsp.mkdir(path.dirname(claudeFile), { recursive: true });
  await fsp.writeFile(claudeFile, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

const legacyArgs = ['-y', 'mcp-remote', `${LEGACY_URL}?api_key=qry-SECRET-77aa88bb`, '--header', 'Authorization:Bearer hdr-SECRET-0c0d0e0f'];

/** An mcp-remote entry (a header and a query secret in it) and its stored grant. */
async function plantLegacy(args = ['-y', 'mcp-remote', LEGACY_URL]) {
  await writeClaude({ globalShortcut: 'Ctrl+Space', mcpServers: { time: OTHER, legacy: { command: 'npx', args } } });
  const hash = mcpRemoteHashes(parseMcpRemote('npx', args)!)[0]!;
  const dir = path.join(home, '.mcp-auth', 'mcp-remote-0.1.29');
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, `${hash}_tokens.json`), JSON.stringify({ access_token: SECRETS[0], refresh_token: SECRETS[1], token_type: 'Bearer', expires_at: Date.UTC(2030, 0, 1), scope: 'read write' }));
  await fsp.writeFile(path.join(dir, `${hash}_client_info.json`), JSON.stringify({ client_id: 'dcr-legacy', client_secret: SECRETS[2], redirect_uris: ['http://localhost:3334/oauth/callback'] }));
  return { dir, hash };
}

function expectNoSecret(x: unknown) {
  const text = JSON.stringify(x);
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe('clients/add', () => {
  it('writes the bridge entry into Claude Desktop’s file, keeps the rest, backs up first, and says so once', async () => {
    await writeClaude({ globalShortcut: 'Ctrl+Space', mcpServers: { time: OTHER } });
    const before = await fsp.readFile(claudeFile, 'utf8');
    const { h, changed } = setup();
    const r = await h['clients/add']('demo', 'claude');
    expect(r).toMatchObject({ client: 'claude', file: claudeFile, name: 'demo-server', action: 'added', created: false });
    expect(r.backup).toBe(`${claudeFile}.bak-20250506-070809`);
    expect(await fsp.readFile(r.backup!, 'utf8')).toBe(before);
    const after = JSON.parse(await fsp.readFile(claudeFile, 'utf8'));
    expect(after).toEqual({ globalShortcut: 'Ctrl+Space', mcpServers: { time: OTHER, 'demo-server': { command: L, args: [...LA, 'bridge', 'demo'] } } });
    await new Promise((r) => setTimeout(r, 0));
    expect(changed.length).toBe(1);
    const again = await h['clients/add']('demo', 'claude');
    expect(again).toMatchObject({ action: 'unchanged' });
    expect(again.backup).toBeUndefined();
  });

  it('creates a missing file, uses the app’s launcher, and adds a note for Claude Code', async () => {
    const launcher = { command: '/opt/MCP Token Manager/mcp-token-manager', args: ['--bridge'] };
    const s = createApiService({
      home,
      manager: { status: async () => view('demo') } as unknown as Manager,
      broker: { subscribe: () => () => undefined } as unknown as Broker,
      cipher: { kind: 'key-file', description: 'a file', weak: false },
      opener: { open: async () => undefined },
      settings: memorySettings(),
      host: 'electron',
      version: 'test',
      clock: systemClock,
      logger: { log: () => undefined },
      env,
      launcher,
      clientFiles: { platform: 'linux' },
    });
    const r = await s.handlers['clients/add']('demo', 'claude');
    expect(r).toMatchObject({ action: 'added', created: true });
    expect(JSON.parse(await fsp.readFile(claudeFile, 'utf8')).mcpServers['demo-server']).toEqual({ command: launcher.command, args: ['--bridge', 'bridge', 'demo'] });
    const cc = await s.handlers['clients/add']('demo', 'claude-code');
    expect(cc.file).toBe(path.join(home, '.claude.json'));
    expect(cc.note).toMatch(/claude mcp list/);
    // A client that gates MCP servers: the note says what the person must do, written or not.
    const gemini = await s.handlers['clients/add']('demo', 'gemini-cli');
    expect(gemini).toMatchObject({ client: 'gemini-cli', file: path.join(home, '.gemini', 'settings.json'), action: 'added' });
    expect(gemini.note).toMatch(/only in folders you trust/);
    expect((await s.handlers['clients/add']('demo', 'gemini-cli')).note).toMatch(/only in folders you trust/);
    expect((await s.handlers['clients/add']('demo', 'codex')).note).toBeUndefined();
    await s.close();
  });

  it('refuses a file that is not valid JSON with its line and column, and leaves it as it was', async () => {
    const broken = '{\n  "mcpServers": {\n    "time": { "command": "uvx", }\n  }\n}\n';
    await writeClaude(broken);
    const { h } = setup();
    const err = await h['clients/add']('demo', 'claude').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const e = toApiError(err);
    expect(e.message).toContain(claudeFile);
    expect(e.message).toMatch(/not valid JSON: .* at line 3, column \d+/);
    expect(e.hint).toMatch(/Nothing was changed/);
    expect(await fsp.readFile(claudeFile, 'utf8')).toBe(broken);
    expect((await fsp.readdir(path.dirname(claudeFile))).filter((f) => f.includes('.bak-'))).toEqual([]);
  });

  it('names an unknown server', async () => {
    const { h } = setup();
    await expect(h['clients/add']('nope', 'cursor')).rejects.toThrow(/No linked server/);
  });
});

describe('clients/migrationPlan and clients/migrate', () => {
  it('summarises mcp-remote entries without header values, URL query values or tokens', async () => {
    await plantLegacy(legacyArgs);
    const { h } = setup();
    const plan = await h['clients/migrationPlan']();
    expectNoSecret(plan);
    expect(plan.entries).toHaveLength(1);
    const e = plan.entries[0]!;
    expect(e).toMatchObject({ client: 'Claude Desktop', kind: 'claude', scope: 'user', file: claudeFile, name: 'legacy', hasGrant: true, grantHasRefreshToken: true });
    expect(e.url).toMatch(/^https:\/\/legacy\.example\.com\/mcp/);
    // A custom Authorization header keeps the entry on mcp-remote, and the note says why.
    expect(e.action).toBe('keep');
    expect(e.notes.some((n) => n.kind === 'blocking' && n.flag.includes('Authorization'))).toBe(true);
    expect(plan.unreadable).toEqual([]);
    expect(plan.authDir).toBe(path.join(home, '.mcp-auth'));
  });

  it('replaces an entry, imports its sign-in through the manager as the CLI does, deletes the plaintext, and returns no secret', async () => {
    const { dir, hash } = await plantLegacy();
    const { h, imported } = setup();
    const plan = await h['clients/migrationPlan']();
    expect(plan.entries.map((e) => [e.name, e.action, e.after])).toEqual([['legacy', 'replace', `${[L, ...LA].join(' ')} bridge ${LEGACY_URL}`]]);
    const r = await h['clients/migrate']({ importTokens: true, deletePlaintext: true });
    expectNoSecret(r);
    expect(r.imports).toEqual([{ server: LEGACY_URL, ok: true, id: 'legacy', deletedFiles: 2 }]);
    expect(r.files).toMatchObject([{ file: claudeFile, client: 'Claude Desktop', replaced: ['legacy'], skipped: [] }]);
    expect(r.files[0]!.backup).toMatch(/\.bak-/);
    expect(imported).toEqual([
      {
        url: LEGACY_URL,
        args: {
          accessToken: SECRETS[0],
          refreshToken: SECRETS[1],
          expiresAt: Date.UTC(2030, 0, 1),
          scope: 'read write',
          clientId: 'dcr-legacy',
          clientSecret: SECRETS[2],
          redirectUris: ['http://localhost:3334/oauth/callback'],
          source: 'mcp-remote',
        },
      },
    ]);
    expect(await fsp.readdir(dir)).not.toContain(`${hash}_tokens.json`);
    const cfg = JSON.parse(await fsp.readFile(claudeFile, 'utf8'));
    expect(cfg.mcpServers).toEqual({ time: OTHER, legacy: { command: L, args: [...LA, 'bridge', LEGACY_URL] } });
    expect((await h['clients/migrationPlan']()).entries).toEqual([]);
  });

  it('without importing, leaves mcp-remote’s files alone; a failed import is reported without its secrets', async () => {
    const { dir, hash } = await plantLegacy();
    const { h, imported } = setup();
    const r = await h['clients/migrate']({ importTokens: false, deletePlaintext: false });
    expect(r.imports).toEqual([]);
    expect(imported).toEqual([]);
    expect(await fsp.readdir(dir)).toContain(`${hash}_tokens.json`);

    await plantLegacy();
    const failing = setup({
      importGrant: async () => {
        throw new Error(`the vault said no to access_token=${SECRETS[0]}`);
      },
    });
    const r2 = await failing.h['clients/migrate']({ importTokens: true, deletePlaintext: true });
    expectNoSecret(r2);
    expect(r2.imports).toMatchObject([{ ok: false, deletedFiles: 0 }]);
    expect(await fsp.readdir(dir)).toContain(`${hash}_tokens.json`);
  });

  it('rejects deleting the plaintext without importing it, at the contract boundary', () => {
    expect(() => checkCallArgs('clients/migrate', [{ importTokens: false, deletePlaintext: true }])).toThrow(/deletePlaintext needs importTokens/);
    expect(() => checkCallArgs('clients/migrate', [{ importTokens: true }])).toThrow(/clients\/migrate/);
    expect(() => checkCallArgs('clients/add', ['demo', 'emacs'])).toThrow(/clients\/add/);
    expect(checkCallArgs('clients/migrate', [{ importTokens: true, deletePlaintext: false }])).toEqual([{ importTokens: true, deletePlaintext: false }]);
  });
});

describe('the shared mcp-remote grant importer', () => {
  const grant: GrantToImport = {
    serverUrl: 'https://a.example/mcp',
    hash: '0'.repeat(32),
    store: 'v1',
    tokens: { access_token: 'at', token_type: 'Bearer' },
    issuer: 'https://as.example',
  };

  it('maps only what is there, and an empty client id when mcp-remote kept none (the manager then explains)', () => {
    expect(importArgsOf(grant)).toEqual({ accessToken: 'at', clientId: '', issuer: 'https://as.example', source: 'mcp-remote' });
    expect(
      importArgsOf({ ...grant, tokens: { ...grant.tokens, refresh_token: '', expires_at: 5, scope: 's' }, clientInfo: { client_id: 'c', token_endpoint_auth_method: 'none' } }),
    ).toEqual({ accessToken: 'at', expiresAt: 5, scope: 's', clientId: 'c', tokenEndpointAuthMethod: 'none', issuer: 'https://as.example', source: 'mcp-remote' });
  });

  it('returns the id the manager gave the server', async () => {
    const calls: string[] = [];
    const importGrant = managerGrantImporter({
      importGrant: async (url: string) => {
        calls.push(url);
        return view('a-example');
      },
    } as unknown as Pick<Manager, 'importGrant'>);
    expect(await importGrant(grant)).toEqual({ id: 'a-example' });
    expect(calls).toEqual(['https://a.example/mcp']);
  });
});
