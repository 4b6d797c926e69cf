// migrate against a token store written by the real mcp-remote (node_modules, 0.15.1), signed in
// at the rig by the scripted person: the reader finds the grant under the right server, the plan
// replaces the entry, the importer gets the real tokens, and no token reaches the output.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrateCommand } from '../../src-main/cli/migrate-command.js';
import { parseMcpRemote, planMigration, readMcpRemoteGrants, type GrantToImport } from '../../src-main/core/clients/index.js';
import { startRig, type Rig } from '../rig/index.js';
import { openBridge, stopBroker, textOf } from './bridge-helpers.js';
import { BIN, ROOT, cliEnv, filesContaining, runCli } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

// person.mjs is plain JS without types.
const { approve } = (await import(path.join(ROOT, 'test/rig/person.mjs'))) as { approve: (url: string) => Promise<{ url: string; status: number }> };

const PROXY = path.join(ROOT, 'node_modules/mcp-remote/dist/proxy.js');

let rig: Rig;
let home: string;
let authDir: string;
let mcpRemoteErr = '';

/** Runs mcp-remote as Claude Desktop would, plays the person when it asks, lists tools, stops. */
async function signInWithMcpRemote(): Promise<string[]> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [PROXY, rig.mcpUrl],
    // BROWSER=true: mcp-remote's opener "opens" nothing; the person follows the printed URL.
    env: { PATH: process.env.PATH ?? '', HOME: home, MCP_REMOTE_CONFIG_DIR: authDir, BROWSER: 'true' },
    stderr: 'pipe',
  });
  let approving: Promise<unknown> | undefined;
  let thisRun = '';
  transport.stderr?.on('data', (c: Buffer) => {
    mcpRemoteErr += c.toString();
    thisRun += c.toString();
    const m = /Please authorize this client by visiting:\s+(\S+)/.exec(thisRun);
    if (m && !approving) approving = approve(m[1]!);
  });
  const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = await client.listTools();
    return tools.tools.map((t) => t.name);
  } finally {
    await approving;
    await client.close();
  }
}

beforeAll(async () => {
  rig = await startRig('own-as');
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-migrate-'));
  authDir = path.join(home, '.mcp-auth');
}, 60_000);
afterAll(async () => {
  await rig?.close();
  if (home) await fsp.rm(home, { recursive: true, force: true });
});

describe('migrating from the real mcp-remote', () => {
  it('finds, plans and imports the grant mcp-remote stored, printing no token', async () => {
    const tools = await signInWithMcpRemote().catch((e: unknown) => {
      throw new Error(`mcp-remote did not sign in: ${String(e)}\n${mcpRemoteErr}`);
    });
    expect(tools).toContain('whoami');
    const secrets = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    expect(rig.as.issuedAccessTokens.length).toBeGreaterThan(0);

    // Claude Desktop's config with the entry that just ran.
    const env = { HOME: home };
    const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, JSON.stringify({ mcpServers: { rig: { command: 'node', args: [PROXY, rig.mcpUrl] } } }, null, 2));

    const grants = await readMcpRemoteGrants(authDir, { candidates: [parseMcpRemote('node', [PROXY, rig.mcpUrl])!] });
    const g = grants.find((x) => x.serverUrl === rig.mcpUrl);
    expect(g, `store: ${JSON.stringify(grants.map((x) => [x.store, x.hash]))}`).toBeDefined();
    expect(rig.as.issuedAccessTokens).toContain(g!.tokens.access_token);
    expect(rig.as.registrations.map((r) => r.clientId)).toContain(g!.clientInfo?.client_id);

    const plan = await planMigration(env, { platform: 'linux', projectDir: home, authDir });
    expect(plan.entries).toHaveLength(1);
    expect(plan.entries[0]).toMatchObject({ action: 'replace', replacement: { command: process.execPath, args: [BIN, 'bridge', rig.mcpUrl] }, grant: { serverUrl: rig.mcpUrl } });

    const imported: GrantToImport[] = [];
    let out = '';
    const code = await runMigrateCommand({ write: true, json: false, importTokens: true, deletePlaintext: true }, { ...env, MCP_REMOTE_CONFIG_DIR: authDir }, {
      platform: 'linux',
      projectDir: home,
      importGrant: async (x) => {
        imported.push(x);
        return { id: 'rig' };
      },
      stdout: (s) => void (out += s),
      stderr: (s) => void (out += s),
    });
    expect(code, out).toBe(0);
    expect(imported.map((x) => [x.serverUrl, x.tokens.access_token, x.clientInfo?.client_id])).toEqual([[rig.mcpUrl, g!.tokens.access_token, g!.clientInfo?.client_id]]);
    expect(JSON.parse(await fsp.readFile(file, 'utf8')).mcpServers.rig).toEqual({ command: process.execPath, args: [BIN, 'bridge', rig.mcpUrl] });
    for (const s of secrets) expect(out).not.toContain(s);
    // The plaintext grant is gone from mcp-remote's store.
    expect(await readMcpRemoteGrants(authDir)).toEqual([]);
  });

  it('`mcp-tokens migrate --write --import-tokens` re-seals the grant, and the bridge uses it without signing in again', async () => {
    // A store of its own: mcp-remote keeps a lock file naming the earlier run's callback port.
    authDir = path.join(home, '.mcp-auth-2');
    await signInWithMcpRemote();
    const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await fsp.writeFile(file, JSON.stringify({ mcpServers: { rig: { command: 'node', args: [PROXY, rig.mcpUrl] } } }, null, 2));
    const tokenHome = path.join(home, 'mcp-tokens');
    const env = cliEnv(tokenHome, { HOME: home, MCP_REMOTE_CONFIG_DIR: authDir, MCP_TOKENS_DAEMON_IDLE: '2' });
    const regs = rig.as.registrations.length;
    const auths = rig.as.authorizationRequests.length;
    try {
      const r = await runCli(['migrate', '--write', '--import-tokens', '--delete-plaintext', '--json'], { ...env, XDG_CONFIG_HOME: path.join(home, '.config') });
      expect(r.code, r.stderr).toBe(0);
      for (const s of [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens]) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
      const v = await readVault(tokenHome);
      expect(Object.values(v.servers).map((s) => s.url)).toEqual([rig.mcpUrl]);
      expect(await filesContaining(tokenHome, [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens])).toEqual([]);
      // The migrated entry runs the bridge by URL; it works with the imported grant.
      const b = await openBridge(env, rig.mcpUrl);
      try {
        expect(JSON.parse(textOf(await b.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
      } finally {
        await b.close();
      }
      // And it refreshes with mcp-remote's registration: no new client, no new sign-in.
      const id = Object.keys(v.servers)[0]!;
      const refreshed = await runCli(['refresh', id], env);
      expect(refreshed.code, refreshed.stderr).toBe(0);
      expect(rig.as.registrations.length).toBe(regs);
      expect(rig.as.authorizationRequests.length).toBe(auths);
    } finally {
      await stopBroker(tokenHome);
    }
  });
});
