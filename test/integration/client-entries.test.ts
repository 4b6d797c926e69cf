// What `config --write` puts into each client's file starts as that client starts it (no shell,
// cwd /, no node_modules/.bin on PATH, only the entry's env) and answers against the rig.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigPath, type ClientKind } from '../../src-main/core/clients/index.js';
import { startRig, type Rig } from '../rig/index.js';
import { stopBroker, textOf } from './bridge-helpers.js';
import { entryIn, launchEntry, startDaemon } from './client-helpers.js';
import { BIN, cliEnv, runCli, tempHome } from './cli-helpers.js';

let rig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;
let id: string;

beforeAll(async () => {
  rig = await startRig('own-as');
  home = await tempHome();
  env = cliEnv(home);
  const r = await runCli(['link', rig.mcpUrl, '--name', 'Rig Server', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  id = (JSON.parse(r.stdout) as { id: string }).id;
  await startDaemon(env, home);
}, 60_000);

afterAll(async () => {
  if (home) await stopBroker(home);
  await rig?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const KINDS: ClientKind[] = ['claude', 'cursor', 'vscode', 'claude-code'];

describe('client entries written by `config --write`', () => {
  it.each(KINDS)('%s: the entry starts as the client starts it, lists and calls tools; a second --write changes nothing', async (kind) => {
    const file = defaultConfigPath(kind, { HOME: home }, 'linux');
    const first = await runCli(['config', kind, id, '--write', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const name = (JSON.parse(first.stdout) as { name: string }).name;
    const entry = await entryIn(kind, home, name);
    // An absolute launcher of this installation; the data dir (not the default one) travels along.
    expect(entry.command).toBe(process.execPath);
    expect(entry.args).toEqual([BIN, 'bridge', id]);
    expect(entry.env).toEqual({ MCP_TOKENS_HOME: home });
    expect(JSON.stringify(entry)).not.toMatch(/npx/);

    const bytes = await readFile(file);
    const second = await runCli(['config', kind, id, '--write', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ action: 'unchanged', written: false });
    expect((await readFile(file)).equals(bytes)).toBe(true);

    const s = await launchEntry(await entryIn(kind, home, name), home);
    try {
      const tools = await s.client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('whoami');
      expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
    } finally {
      await s.close();
    }
  });

  it('replaces an old `npx mcp-tokens` entry of ours with a launcher that starts, keeping the user’s env', async () => {
    const file = defaultConfigPath('cursor', { HOME: home }, 'linux');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ mcpServers: { mine: { command: 'npx', args: ['mcp-tokens', 'bridge', rig.mcpUrl], env: { MCP_TOKENS_DEBUG: '1' } } } }, null, 2));
    const r = await runCli(['config', 'cursor', id, '--write', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'mine', action: 'updated' });
    const entry = await entryIn('cursor', home, 'mine');
    expect(entry).toEqual({ command: process.execPath, args: [BIN, 'bridge', id], env: { MCP_TOKENS_DEBUG: '1', MCP_TOKENS_HOME: home } });
    const s = await launchEntry(entry, home);
    try {
      expect((await s.client.listTools()).tools.map((t) => t.name)).toContain('whoami');
    } finally {
      await s.close();
    }
  });
});
