// The Clients page's data: each client's user config and its bridge entries, and removing one
// entry (backup first, the rest of the file kept byte for byte).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listClients, removeBridgeEntry } from '../../src-main/core/api/client-entries.js';
import { CLIENT_KINDS } from '../../src-main/core/clients/index.js';

let home: string;
let env: NodeJS.ProcessEnv;
const claude = () => join(home, '.config', 'Claude', 'claude_desktop_config.json');
const bridge = (t: string) => ({ command: 'npx', args: ['mcp-tokens', 'bridge', t] });

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mt-clients-'));
  env = { HOME: home };
});
afterEach(async () => rm(home, { recursive: true, force: true }));

describe('client entries', () => {
  it('lists every client, found or not, with bridge and mcp-remote entries', async () => {
    await mkdir(dirname(claude()), { recursive: true });
    await writeFile(claude(), JSON.stringify({ mcpServers: { rig: bridge('rig'), other: bridge('https://x.example/mcp'), old: { command: 'npx', args: ['-y', 'mcp-remote', 'https://y.example/mcp'] }, time: { command: 'uvx', args: ['t'] } } }));
    const list = await listClients({ env: () => env, platform: 'linux' }, [{ id: 'rig', url: 'https://rig.example/mcp' }]);
    expect(list.map((c) => c.kind)).toEqual([...CLIENT_KINDS]);
    expect(list.length).toBeGreaterThanOrEqual(18);
    const c = list[0]!;
    expect(c).toMatchObject({ label: 'Claude Desktop', found: true, mcpRemote: 1, file: claude() });
    expect(c.bridged).toEqual([
      { name: 'rig', target: 'rig', serverId: 'rig' },
      { name: 'other', target: 'https://x.example/mcp' },
    ]);
    expect(list[1]).toMatchObject({ kind: 'cursor', found: false, bridged: [], mcpRemote: 0 });
  });

  it('removes the server’s entries by id or URL, keeps the rest byte for byte, and backs up first', async () => {
    await mkdir(dirname(claude()), { recursive: true });
    const before = '{\n  "mcpServers": {\n    "time": { "command": "uvx", "args": ["t"] },\n    "rig": {"command": "npx", "args": ["mcp-tokens", "bridge", "rig"]},\n    "rig-2": {"command": "npx", "args": ["mcp-tokens", "bridge", "https://rig.example/mcp"]}\n  },\n  "other": 1\n}\n';
    await writeFile(claude(), before);
    const r = await removeBridgeEntry({ env: () => env, platform: 'linux' }, 'claude', { id: 'rig', url: 'https://rig.example/mcp' });
    expect(r.removed).toEqual(['rig', 'rig-2']);
    const after = await readFile(claude(), 'utf8');
    expect(after).toBe('{\n  "mcpServers": {\n    "time": { "command": "uvx", "args": ["t"] }\n  },\n  "other": 1\n}\n');
    expect(await readFile(r.backup!, 'utf8')).toBe(before);
    // Nothing left to remove: nothing written.
    const again = await removeBridgeEntry({ env: () => env, platform: 'linux' }, 'claude', { id: 'rig', url: 'https://rig.example/mcp' });
    expect(again).toMatchObject({ removed: [] });
    expect((await readdir(dirname(claude()))).filter((f) => f.includes('.bak-'))).toHaveLength(1);
  });

  it('removes the only entry and leaves an empty object; a missing file stays missing', async () => {
    await mkdir(dirname(claude()), { recursive: true });
    await writeFile(claude(), JSON.stringify({ mcpServers: { rig: bridge('rig') } }, null, 2));
    await removeBridgeEntry({ env: () => env, platform: 'linux' }, 'claude', { id: 'rig', url: 'https://rig.example/mcp' });
    expect(JSON.parse(await readFile(claude(), 'utf8'))).toEqual({ mcpServers: {} });
    const cursor = await removeBridgeEntry({ env: () => env, platform: 'linux' }, 'cursor', { id: 'rig', url: 'https://rig.example/mcp' });
    expect(cursor.removed).toEqual([]);
    await expect(readFile(join(home, '.cursor', 'mcp.json'))).rejects.toThrow();
  });

  it('never touches a file that does not parse', async () => {
    await mkdir(dirname(claude()), { recursive: true });
    await writeFile(claude(), '{ "mcpServers": { "rig": ');
    await expect(removeBridgeEntry({ env: () => env, platform: 'linux' }, 'claude', { id: 'rig', url: 'https://rig.example/mcp' })).rejects.toThrow(/not valid JSON/);
    expect(await readFile(claude(), 'utf8')).toBe('{ "mcpServers": { "rig": ');
  });
});
