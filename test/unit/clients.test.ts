import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConfigCommand } from '../../src-main/cli/config-command.js';
import { runMigrateCommand } from '../../src-main/cli/migrate-command.js';
import {
  applyMigration,
  bridgeTargetOf,
  ConfigFileError,
  configSnippet,
  defaultConfigPath,
  entrySlug,
  findBridgeUsers,
  mcpRemoteHashes,
  parseMcpRemote,
  planMigration,
  readMcpRemoteGrants,
  runningLauncher,
  upsertBridgeEntry,
  nodeClientFs,
  type ClientFs,
  type ClientKind,
  CLIENT_KINDS,
  type GrantToImport,
} from '../../src-main/core/clients/index.js';
import { describeCommand } from '../../src-main/core/clients/mcp-remote.js';
import { applyEdits, parseTree, setEdits, toValue, withValue, type JsonValue } from '../../src-main/core/clients/jsonc.js';
import { isUserError } from '../../src-main/core/platform/errors.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/clients');
const NOW = new Date(2025, 4, 6, 7, 8, 9); // local time, as backup names use
const STAMP = '20250506-070809';
const SERVER = { id: 'srv-7f3a', name: 'Linear Café (Ünïcode)', url: 'https://mcp.linear.app/mcp' };
const SLUG = 'linear-cafe-unicode';
// Entries run this installation's Node and bin script by absolute path, never `npx mcp-tokens`.
const L = runningLauncher().command;
const LA = runningLauncher().args;
const LQ = [L, ...LA].map((a) => JSON.stringify(a));

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-clients-'));
  env = { HOME: home };
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

const fixture = (name: string) => fsp.readFile(path.join(FIXTURES, name));

async function place(kind: ClientKind, fixtureName: string, mode = 0o644): Promise<{ file: string; original: Buffer }> {
  const file = defaultConfigPath(kind, env, 'linux');
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const original = await fixture(fixtureName);
  await fsp.writeFile(file, original, { mode });
  await fsp.chmod(file, mode);
  return { file, original };
}

/** Every character of `a`, in order, is in `b`: nothing of the original was removed. */
function isSubsequence(a: string, b: string): boolean {
  let j = 0;
  for (let i = 0; i < b.length && j < a.length; i++) if (b[i] === a[j]) j++;
  return j === a.length;
}

async function backupsOf(file: string): Promise<string[]> {
  const base = path.basename(file);
  return (await fsp.readdir(path.dirname(file))).filter((n) => n.startsWith(`${base}.bak-`)).map((n) => path.join(path.dirname(file), n));
}

async function dirState(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of await fsp.readdir(dir)) out[n] = createHash('sha256').update(await fsp.readFile(path.join(dir, n))).digest('hex');
  return out;
}

const ROUND_TRIPS: Array<{ kind: ClientKind; fixture: string; syntax: 'json' | 'jsonc'; container: string; entry: JsonValue; indent: string; keepText: string[] }> = [
  {
    kind: 'claude',
    fixture: 'claude_desktop_config.json',
    syntax: 'json',
    container: 'mcpServers',
    entry: { command: L, args: [...LA, 'bridge', SERVER.id] },
    indent: `\n        "linear-cafe-unicode": {\n            "command": ${LQ[0]},`,
    keepText: ['"preferences": {"menuBarEnabled":true,   "quickEntryShortcut": "off"}', '"日本語メモ" : {', '"globalShortcut" : "Ctrl+Space"'],
  },
  {
    kind: 'cursor',
    fixture: 'cursor-mcp.json',
    syntax: 'jsonc',
    container: 'mcpServers',
    entry: { command: L, args: [...LA, 'bridge', SERVER.id] },
    indent: `\n\t\t"linear-cafe-unicode": {\n\t\t\t"command": ${LQ[0]},`,
    keepText: ['"café-notes": { "url": "https://notes.example.com/mcp" }', '"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"'],
  },
  {
    kind: 'vscode',
    fixture: 'vscode-mcp.json',
    syntax: 'jsonc',
    container: 'servers',
    entry: { type: 'stdio', command: L, args: [...LA, 'bridge', SERVER.id] },
    indent: '\n    "linear-cafe-unicode": {\n      "type": "stdio",',
    keepText: ['// VS Code MCP servers — edited by hand, keep the comments!', '/* Perplexity, via its own stdio server */', '// remote one, no auth', '// trailing comment', '"Straße-Wetter": {"type": "http", "url": "https://wetter.example.de/mcp"}'],
  },
  {
    kind: 'claude-code',
    fixture: 'claude.json',
    syntax: 'json',
    container: 'mcpServers',
    entry: { type: 'stdio', command: L, args: [...LA, 'bridge', SERVER.id] },
    indent: '\n    "linear-cafe-unicode": {\n      "type": "stdio",',
    keepText: ['"numStartups": 42', '"args": ["-y", "mcp-remote", "https://mcp.sentry.dev/mcp"]'],
  },
];

describe('writing a client config', () => {
  for (const rt of ROUND_TRIPS) {
    it(`${rt.kind}: adds the one entry, keeps everything else, backs up, and is idempotent`, async () => {
      const { file, original } = await place(rt.kind, rt.fixture);
      const r = await upsertBridgeEntry({ kind: rt.kind, server: SERVER, env, platform: 'linux', now: () => NOW });
      expect(r).toMatchObject({ file, name: SLUG, action: 'added', created: false, backup: `${file}.bak-${STAMP}` });

      const before = original.toString('utf8');
      const after = await fsp.readFile(file, 'utf8');
      // Read back: exactly the original plus our entry.
      const expected = withValue(toValue(parseTree(before, rt.syntax).root), [rt.container, SLUG], rt.entry);
      expect(toValue(parseTree(after, rt.syntax).root)).toEqual(expected);
      if (rt.syntax === 'json') expect(JSON.parse(after)).toEqual(expected);
      // Nothing of the original text (comments, spacing, order) went missing; new lines match the file's indentation.
      expect(isSubsequence(before, after)).toBe(true);
      for (const t of rt.keepText) expect(after).toContain(t);
      expect(after).toContain(rt.indent);
      // Backup: the old bytes, beside the file; the file keeps its mode.
      expect(await backupsOf(file)).toEqual([`${file}.bak-${STAMP}`]);
      expect((await fsp.readFile(`${file}.bak-${STAMP}`)).equals(original)).toBe(true);
      expect((await fsp.stat(file)).mode & 0o777).toBe(0o644);

      const again = await upsertBridgeEntry({ kind: rt.kind, server: SERVER, env, platform: 'linux', now: () => new Date(NOW.getTime() + 5000) });
      expect(again.action).toBe('unchanged');
      expect(await fsp.readFile(file, 'utf8')).toBe(after);
      expect(await backupsOf(file)).toHaveLength(1);
    });
  }

  it('creates a missing file and its directory, without a backup', async () => {
    const file = defaultConfigPath('claude', env, 'linux');
    const r = await upsertBridgeEntry({ kind: 'claude', server: SERVER, env, platform: 'linux', now: () => NOW });
    expect(r).toMatchObject({ file, action: 'added', created: true });
    expect(r.backup).toBeUndefined();
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual({ mcpServers: { [SLUG]: { command: L, args: [...LA, 'bridge', SERVER.id] } } });
    expect(await fsp.readdir(path.dirname(file))).toEqual(['claude_desktop_config.json']);
  });

  it('updates an existing bridge entry for the same server in place, keeping its other keys and comments', async () => {
    const file = path.join(home, 'proj', '.vscode', 'mcp.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const text = '{\n  "servers": {\n    "my-linear": {\n      // mine\n      "type": "stdio",\n      "command": "npx",\n      "args": ["mcp-tokens", "bridge", "https://MCP.Linear.app/mcp"],\n      "env": { "MCP_TOKENS_DEBUG": "1" }\n    }\n  }\n}\n';
    await fsp.writeFile(file, text);
    const launcher = { command: '/opt/MCP Token Manager/mcp-tokens', args: [] };
    const r = await upsertBridgeEntry({ kind: 'vscode', server: SERVER, file, launcher, now: () => NOW });
    expect(r).toMatchObject({ name: 'my-linear', action: 'updated' });
    const after = await fsp.readFile(file, 'utf8');
    expect(toValue(parseTree(after, 'jsonc').root)).toEqual({
      servers: { 'my-linear': { type: 'stdio', command: '/opt/MCP Token Manager/mcp-tokens', args: ['bridge', SERVER.id], env: { MCP_TOKENS_DEBUG: '1' } } },
    });
    expect(after).toContain('// mine');
  });

  it('never replaces an unrelated entry that holds the wanted name', async () => {
    const file = defaultConfigPath('claude', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const mine = { command: 'npx', args: ['-y', 'mcp-remote', 'https://mcp.linear.app/sse'] };
    await fsp.writeFile(file, JSON.stringify({ mcpServers: { 'linear-cafe-unicode': mine } }));
    const r = await upsertBridgeEntry({ kind: 'claude', server: SERVER, env, platform: 'linux', now: () => NOW });
    expect(r).toMatchObject({ name: `${SLUG}-2`, nameTakenBy: SLUG, action: 'added' });
    const v = JSON.parse(await fsp.readFile(file, 'utf8'));
    expect(v.mcpServers[SLUG]).toEqual(mine);
    expect(v.mcpServers[`${SLUG}-2`].args).toEqual([...LA, 'bridge', SERVER.id]);
  });

  it('keeps CRLF line endings and writes through a symlink when asked to (followSymlinks)', async () => {
    const real = path.join(home, 'dotfiles', 'claude.json');
    await fsp.mkdir(path.dirname(real), { recursive: true });
    await fsp.writeFile(real, '{\r\n  "mcpServers": {\r\n    "a": { "command": "a" }\r\n  }\r\n}\r\n');
    const link = defaultConfigPath('claude', env, 'linux');
    await fsp.mkdir(path.dirname(link), { recursive: true });
    await fsp.symlink(real, link);
    const r = await upsertBridgeEntry({ kind: 'claude', server: SERVER, env, platform: 'linux', now: () => NOW, followSymlinks: true });
    expect(r.file).toBe(await fsp.realpath(real));
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(true);
    const after = await fsp.readFile(real, 'utf8');
    expect(after.replace(/\r\n/g, '')).not.toContain('\n');
    expect(JSON.parse(after).mcpServers[SLUG].args).toEqual([...LA, 'bridge', SERVER.id]);
    expect(await backupsOf(real)).toHaveLength(1);
  });

  it('keeps a trailing line comment with the property it follows', async () => {
    const file = path.join(home, '.cursor', 'mcp.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, '{\n  "mcpServers": {\n    "a": { "command": "a" } // the first one\n  } /* end */\n}');
    await upsertBridgeEntry({ kind: 'cursor', server: SERVER, file, now: () => NOW });
    const after = await fsp.readFile(file, 'utf8');
    expect(after).toBe(`{\n  "mcpServers": {\n    "a": { "command": "a" }, // the first one\n    "${SLUG}": {\n      "command": ${LQ[0]},\n      "args": [${LQ.slice(1).join(', ')}, "bridge", "${SERVER.id}"]\n    }\n  } /* end */\n}`);
  });

  it('starts over when the client saves the file meanwhile, keeping the client’s change', async () => {
    const { file } = await place('claude', 'claude_desktop_config.json');
    let reads = 0;
    const racing: ClientFs = {
      ...nodeClientFs,
      async readFile(p) {
        // The second read is the check just before writing: the client saves right before it.
        if (p === file && ++reads === 2) {
          const v = JSON.parse(await fsp.readFile(file, 'utf8'));
          v.mcpServers.added_by_client = { command: 'x' };
          await fsp.writeFile(file, JSON.stringify(v, null, 2));
        }
        return nodeClientFs.readFile(p);
      },
    };
    const r = await upsertBridgeEntry({ kind: 'claude', server: SERVER, env, platform: 'linux', fs: racing, now: () => NOW });
    expect(r.action).toBe('added');
    const v = JSON.parse(await fsp.readFile(file, 'utf8'));
    expect(Object.keys(v.mcpServers)).toEqual(['filesystem', '日本語メモ', 'added_by_client', SLUG]);
    expect(await backupsOf(file)).toHaveLength(1);

    const always: ClientFs = { ...nodeClientFs, readFile: async () => Buffer.from(`{"mcpServers": {}, "n": ${Math.random()}}`) };
    const before = await fsp.readFile(file);
    await expect(upsertBridgeEntry({ kind: 'claude', server: { ...SERVER, id: 'other', url: 'https://o.example/mcp', name: 'Other' }, file, fs: always })).rejects.toThrow(/keeps changing/);
    expect((await fsp.readFile(file)).equals(before)).toBe(true);
  });

  const REFUSALS: Array<{ kind: ClientKind; fixture: string; line: number; column: number; reason: RegExp }> = [
    { kind: 'claude', fixture: 'invalid-claude_desktop_config.json', line: 3, column: 5, reason: /Comments are not allowed in JSON/ },
    { kind: 'vscode', fixture: 'invalid-vscode-mcp.json', line: 5, column: 5, reason: /Expected ',' or '}'/ },
  ];
  for (const c of REFUSALS) {
    it(`${c.kind}: refuses an invalid file with its line and column, and changes nothing`, async () => {
      const { file, original } = await place(c.kind, c.fixture);
      const dir = path.dirname(file);
      const state = await dirState(dir);
      const err = await upsertBridgeEntry({ kind: c.kind, server: SERVER, env, platform: 'linux', now: () => NOW }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigFileError);
      const e = err as ConfigFileError;
      expect([e.line, e.column]).toEqual([c.line, c.column]);
      expect(e.message).toMatch(c.reason);
      expect(e.message).toContain(`line ${c.line}, column ${c.column}`);
      expect((await fsp.readFile(file)).equals(original)).toBe(true);
      expect(await dirState(dir)).toEqual(state); // no backup, no temp file
    });
  }

  it('refuses a file whose server list is not an object', async () => {
    const file = defaultConfigPath('cursor', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, '{ "mcpServers": [] }');
    await expect(upsertBridgeEntry({ kind: 'cursor', server: SERVER, env, platform: 'linux' })).rejects.toThrow(/"mcpServers" is not an object/);
    expect(await fsp.readFile(file, 'utf8')).toBe('{ "mcpServers": [] }');
    expect(await backupsOf(file)).toEqual([]);
  });
});

describe('JSON and JSONC parsing', () => {
  it('accepts comments and trailing commas only in JSONC, with positions in errors', () => {
    expect(toValue(parseTree('{ "a": [1, 2,], /* x */ }', 'jsonc').root)).toEqual({ a: [1, 2] });
    expect(() => parseTree('{ "a": 1, }', 'json')).toThrow(/Trailing comma is not allowed in JSON at line 1, column 11/);
    expect(() => parseTree('{\n  "a": tru\n}', 'json')).toThrow(/line 2, column 8/);
    expect(() => parseTree('{"a": "x\ny"}', 'json')).toThrow(/Control character/);
    expect(() => parseTree('{"a": 1} {}', 'json')).toThrow(/after the end of the document/);
    expect(toValue(parseTree('\uFEFF{"__proto__": {"x": 1}, "n": -1.5e3}', 'json').root)).toEqual(JSON.parse('{"__proto__": {"x": 1}, "n": -1.5e3}'));
  });
});

describe('minimal text edits', () => {
  const entry = { command: 'npx', args: ['mcp-tokens', 'bridge', 'id'] };
  const pretty = (i: string) => `{\n${i}  "command": "npx",\n${i}  "args": ["mcp-tokens", "bridge", "id"]\n${i}}`;
  const cases: Array<[string, 'json' | 'jsonc', string]> = [
    ['{}', 'json', `{\n  "mcpServers": {\n    "x": ${pretty('    ')}\n  }\n}`],
    ['{"mcpServers":{"a":{"command":"a"}}}', 'json', '{"mcpServers":{"a":{"command":"a"}, "x": { "command": "npx", "args": ["mcp-tokens", "bridge", "id"] }}}'],
    ['{\n  "other": 1\n}\n', 'json', `{\n  "other": 1,\n  "mcpServers": {\n    "x": ${pretty('    ')}\n  }\n}\n`],
    ['{\n  "mcpServers": {\n    // nothing yet\n  }\n}', 'jsonc', `{\n  "mcpServers": {\n    "x": ${pretty('    ')}\n    // nothing yet\n  }\n}`],
    ['{ "mcpServers": { /* none */ } }', 'jsonc', '{ "mcpServers": { "x": { "command": "npx", "args": ["mcp-tokens", "bridge", "id"] } /* none */ } }'],
    ['{\n  "mcpServers": {\n    "a": 1,\n  },\n}', 'jsonc', `{\n  "mcpServers": {\n    "a": 1,\n    "x": ${pretty('    ')},\n  },\n}`],
    ['{\n  "mcpServers": {\n    "x": { "command": "old" }\n  }\n}', 'json', '{\n  "mcpServers": {\n    "x": { "command": "npx", "args": ["mcp-tokens", "bridge", "id"] }\n  }\n}'],
  ];
  for (const [text, syntax, want] of cases) {
    it(JSON.stringify(text), () => {
      const { root } = parseTree(text, syntax);
      expect(applyEdits(text, setEdits(text, root, ['mcpServers', 'x'], entry))).toBe(want);
    });
  }
});

describe('snippets and locations', () => {
  it('prints each client its own format', () => {
    const where = { env, platform: 'linux' as const };
    expect(JSON.parse(configSnippet('claude', SERVER, undefined, where).snippet)).toEqual({ mcpServers: { [SLUG]: { command: L, args: [...LA, 'bridge', SERVER.id] } } });
    expect(JSON.parse(configSnippet('cursor', SERVER, undefined, where).snippet)).toEqual({ mcpServers: { [SLUG]: { command: L, args: [...LA, 'bridge', SERVER.id] } } });
    expect(JSON.parse(configSnippet('vscode', SERVER, undefined, where).snippet)).toEqual({ servers: { [SLUG]: { type: 'stdio', command: L, args: [...LA, 'bridge', SERVER.id] } } });
    const cc = configSnippet('claude-code', SERVER, undefined, where);
    expect(cc).toEqual({ snippet: `claude mcp add --scope user ${SLUG} -- ${[L, ...LA].join(' ')} bridge ${SERVER.id}`, file: path.join(home, '.claude.json') });
    const custom = configSnippet('claude-code', { ...SERVER, name: "O'Brien's Notes" }, { command: '/Applications/MCP Token Manager.app/Contents/MacOS/mcp-tokens', args: [] }, where);
    expect(custom.snippet).toBe(`claude mcp add --scope user o-brien-s-notes -- '/Applications/MCP Token Manager.app/Contents/MacOS/mcp-tokens' bridge ${SERVER.id}`);
  });

  it('slugs keep letters of any script and fold accents', () => {
    expect(entrySlug('Linear Café (Ünïcode)', 'x')).toBe('linear-cafe-unicode');
    expect(entrySlug('日本語 サーバー', 'x')).toBe('日本語-サーバー');
    expect(entrySlug('  --  ', 'srv-1')).toBe('srv-1');
  });

  it('knows each platform’s files', () => {
    const e = { HOME: '/home/ana', APPDATA: 'C:\\Users\\ana\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\ana' };
    expect(defaultConfigPath('claude', e, 'darwin')).toBe('/home/ana/Library/Application Support/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('claude', e, 'win32')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    expect(defaultConfigPath('claude', e, 'linux')).toBe('/home/ana/.config/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('claude', { ...e, XDG_CONFIG_HOME: '/xdg' }, 'linux')).toBe('/xdg/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('vscode', e, 'darwin')).toBe('/home/ana/Library/Application Support/Code/User/mcp.json');
    expect(defaultConfigPath('vscode', e, 'win32')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(defaultConfigPath('vscode', e, 'linux')).toBe('/home/ana/.config/Code/User/mcp.json');
    expect(defaultConfigPath('cursor', e, 'win32')).toBe('C:\\Users\\ana\\.cursor\\mcp.json');
    expect(defaultConfigPath('cursor', e, 'darwin')).toBe('/home/ana/.cursor/mcp.json');
    expect(defaultConfigPath('claude-code', e, 'linux')).toBe('/home/ana/.claude.json');
    expect(defaultConfigPath('claude-code', { ...e, CLAUDE_CONFIG_DIR: '/cc' }, 'linux')).toBe('/cc/.claude.json');
  });
});

describe('findBridgeUsers', () => {
  it('maps each bridge target to the clients that run it', async () => {
    const write = async (file: string, value: unknown) => {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    };
    const bridge = (...args: string[]) => ({ command: L, args: [...LA, 'bridge', ...args] });
    await write(defaultConfigPath('claude', env, 'linux'), { mcpServers: { a: bridge('srv-1'), other: { command: 'npx', args: ['-y', 'mcp-remote', 'https://x.example/mcp'] } } });
    await write(defaultConfigPath('cursor', env, 'linux'), { mcpServers: { a: bridge('srv-1'), b: bridge('https://mcp.example.com/mcp'), c: bridge('--name', 'Docs', 'srv-3') } });
    await write(defaultConfigPath('vscode', env, 'linux'), '{ // jsonc\n "servers": { "z": { "type": "stdio", "command": "node", "args": ["/opt/app/bin/mcp-tokens.js", "bridge", "srv-2"] }, } }');
    await write(defaultConfigPath('claude-code', env, 'linux'), { projects: { '/p': { mcpServers: { q: { type: 'stdio', ...bridge('srv-2') } } } } });
    await write(path.join(home, '.config', 'Code - Insiders', 'User', 'mcp.json'), '{ not json');
    const users = await findBridgeUsers(env, { platform: 'linux' });
    expect(Object.fromEntries(users)).toEqual({
      'srv-1': ['Claude Desktop', 'Cursor'],
      'https://mcp.example.com/mcp': ['Cursor'],
      'srv-3': ['Cursor'],
      'srv-2': ['VS Code', 'Claude Code'],
    });
  });

  it('does not take other tools’ "bridge" arguments for ours', () => {
    expect(bridgeTargetOf({ command: 'docker', args: ['network', 'bridge', 'x'] })).toBeUndefined();
    expect(bridgeTargetOf({ command: 'mcp-tokens', args: ['bridge', 'srv-9'] })).toBe('srv-9');
  });
});

describe('recognising mcp-remote', () => {
  const cases: Array<[string, string[], { runner: string; url: string | undefined; port?: string; headers?: string[] } | undefined]> = [
    ['npx', ['-y', 'mcp-remote', 'https://a.example/sse'], { runner: 'npx', url: 'https://a.example/sse' }],
    ['npx', ['mcp-remote', 'https://a.example/sse', '3334', '--header', 'Authorization: Bearer ${T}'], { runner: 'npx', url: 'https://a.example/sse', port: '3334', headers: ['Authorization'] }],
    ['npx', ['-y', 'mcp-remote@0.1.18', 'https://a.example/mcp'], { runner: 'npx', url: 'https://a.example/mcp' }],
    ['npx', ['-y', '-p', 'mcp-remote@0.1.18', 'mcp-remote', 'https://a.example/mcp'], { runner: 'npx', url: 'https://a.example/mcp' }],
    ['C:\\Program Files\\nodejs\\npx.cmd', ['mcp-remote', 'https://a.example/mcp'], { runner: 'npx', url: 'https://a.example/mcp' }],
    ['node', ['/Users/me/mcp-remote/dist/proxy.js', 'https://a.example/mcp'], { runner: 'node', url: 'https://a.example/mcp' }],
    ['bunx', ['mcp-remote', 'https://a.example/mcp'], { runner: 'bunx', url: 'https://a.example/mcp' }],
    ['pnpm', ['dlx', 'mcp-remote', 'https://a.example/mcp'], { runner: 'pnpm dlx', url: 'https://a.example/mcp' }],
    ['npm', ['exec', '--yes', '--', 'mcp-remote', 'https://a.example/mcp'], { runner: 'npm exec', url: 'https://a.example/mcp' }],
    ['cmd', ['/c', 'npx', '-y', 'mcp-remote', 'https://a.example/mcp'], { runner: 'npx', url: 'https://a.example/mcp' }],
    ['mcp-remote', ['https://a.example/mcp'], { runner: 'mcp-remote', url: 'https://a.example/mcp' }],
    ['npx', ['-y', 'mcp-remote-client', 'https://a.example/mcp'], undefined],
    ['npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], undefined],
    ['node', ['/opt/mcp-remote/dist/client.js', 'https://a.example/mcp'], undefined],
  ];
  for (const [command, args, want] of cases) {
    it(`${command} ${args.join(' ')}`, () => {
      const inv = parseMcpRemote(command, args);
      if (want === undefined) return expect(inv).toBeUndefined();
      expect(inv).toMatchObject({ runner: want.runner, url: want.url });
      expect(inv!.callbackPort).toBe(want.port);
      expect(inv!.headers.map((h) => h.name)).toEqual(want.headers ?? []);
    });
  }
});

describe('showing a command line', () => {
  it('hides header values, client info and query values', () => {
    const shown = describeCommand('npx', ['mcp-remote', 'https://a.example/mcp?key=sk-PLAINTEXT-q-1', '--header', 'Authorization: Bearer sk-PLAINTEXT-h-2', '--static-oauth-client-info', '{"client_id":"c","client_secret":"sk-PLAINTEXT-c-3"}']);
    expect(shown).toBe("npx mcp-remote 'https://a.example/mcp?key=…' --header 'Authorization: …' --static-oauth-client-info '…'");
  });
});

/** The store key the real mcp-remote (node_modules) computes for these arguments. */
async function realMcpRemoteHash(args: string[], configDir: string): Promise<string> {
  const dist = path.resolve(import.meta.dirname, '../../node_modules/mcp-remote/dist');
  let chunk: string | undefined;
  for (const n of await fsp.readdir(dist)) {
    if (n.endsWith('.js') && /export \{[^}]*\bparseCommandLineArgs\b/.test(await fsp.readFile(path.join(dist, n), 'utf8'))) chunk = path.join(dist, n);
  }
  if (!chunk) throw new Error('mcp-remote changed: no module exports parseCommandLineArgs');
  const script = `const m = await import(${JSON.stringify(`file://${chunk}`)}); const r = await m.parseCommandLineArgs(JSON.parse(process.argv[1]), 'usage'); process.stdout.write(r.serverUrlHash); process.exit(0);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], {
    env: { PATH: process.env.PATH, HOME: configDir, MCP_REMOTE_CONFIG_DIR: configDir },
  });
  return stdout.trim();
}

describe('mcp-remote store keys', () => {
  const argSets = [
    ['https://mcp.example.com/sse'],
    ['https://mcp.example.com/mcp', '--resource', 'https://mcp.example.com/', '--transport', 'sse-only'],
    ['https://mcp.example.com/mcp', '--header', 'X-B: ${B}', '--header', 'X-A:a', '--authorize-param', 'audience=https://api.example.com'],
    ['https://mcp.example.com/mcp', '--client-metadata-url', 'https://app.example.com/client.json'],
  ];
  for (const args of argSets) {
    it(`match the real mcp-remote for ${args.join(' ')}`, async () => {
      const inv = parseMcpRemote('npx', ['-y', 'mcp-remote', ...args])!;
      const real = await realMcpRemoteHash([...args], home);
      expect(real).toMatch(/^[0-9a-f]{32}$/);
      expect(mcpRemoteHashes(inv)[0]).toBe(real);
      // and 0.1.x's key, md5 of the URL alone, is always a candidate
      expect(mcpRemoteHashes(inv)).toContain(createHash('md5').update(args[0]!).digest('hex'));
    });
  }
});

// ------------------------------------------------------------------ migration

const SECRETS = ['cs-PLAINTEXT-acme-77f1', 'hk-PLAINTEXT-header-5e2d', 'qk-PLAINTEXT-query-91ab', 'at-PLAINTEXT-linear-3c1d', 'rt-PLAINTEXT-linear-8e0f', 'at-PLAINTEXT-asana-1f2e', 'at-PLAINTEXT-tickets-aa11', 'at-PLAINTEXT-unknown-bb22', 'cs-PLAINTEXT-dcr-4d4d'];
const ZH_URL = 'https://daten.example.ch/mcp?tenant=zh&api_key=qk-PLAINTEXT-query-91ab';

async function placeMigrationFixtures() {
  const claude = await place('claude', 'mcp-remote-claude_desktop_config.json');
  const project = path.join(home, 'work', 'app');
  const vscodeFile = path.join(project, '.vscode', 'mcp.json');
  await fsp.mkdir(path.dirname(vscodeFile), { recursive: true });
  const vscodeOriginal = await fixture('mcp-remote-vscode-mcp.json');
  await fsp.writeFile(vscodeFile, vscodeOriginal);
  return { claude, project, vscode: { file: vscodeFile, original: vscodeOriginal } };
}

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, deps: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe('migrate', () => {
  it('plans five kinds of mcp-remote entries: what maps, what does not', async () => {
    const { project } = await placeMigrationFixtures();
    const plan = await planMigration(env, { platform: 'linux', projectDir: project, authDir: path.join(home, '.mcp-auth') });
    const byName = Object.fromEntries(plan.entries.map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual(['Acme Wiki', 'Zürich Daten', 'asana', 'linear', 'notion', 'tickets']);
    const flags = (n: string) => byName[n]!.notes.map((x) => `${x.kind} ${x.flag}`);

    expect(byName.linear).toMatchObject({ action: 'replace', client: 'Claude Desktop', replacement: { command: L, args: [...LA, 'bridge', 'https://mcp.linear.app/sse'] } });
    expect(flags('linear')).toEqual([]);

    expect(byName.asana).toMatchObject({ action: 'replace', replacement: { command: L, args: [...LA, 'bridge', 'https://mcp.asana.com/sse'] } });
    expect(flags('asana')).toEqual(['automatic --transport sse-only', 'dropped --debug', 'dropped callback port 3334']);
    expect(byName.asana!.notes.find((x) => x.flag.startsWith('callback'))!.text).toMatch(/ephemeral loopback port/);

    expect(byName['Acme Wiki']).toMatchObject({ action: 'replace', replacement: { args: [...LA, 'bridge', 'https://wiki.acme.example/mcp'] } });
    expect(flags('Acme Wiki')).toEqual(['action --static-oauth-client-info', 'dropped --resource', 'dropped --host']);
    expect(byName['Acme Wiki']!.linkCommand).toBe("mcp-tokens link https://wiki.acme.example/mcp --client-id acme-wiki-desktop --client-secret-file '<file holding the client secret>'");

    expect(byName.tickets).toMatchObject({ action: 'keep' });
    expect(byName.tickets!.replacement).toBeUndefined();
    // The header would carry over; the tool filter keeps it on mcp-remote.
    expect(flags('tickets')).toEqual(['automatic --header X-Api-Key', 'automatic --transport http-only', 'blocking --ignore-tool delete_ticket']);
    expect(byName.tickets!.notes[0]!.text).toMatch(/sends it to this server only.*\$\{TICKETS_KEY\} in the entry's env/);

    expect(byName['Zürich Daten']).toMatchObject({ action: 'replace', replacement: { command: L, args: [...LA, 'bridge', ZH_URL] } });
    expect(flags('Zürich Daten')).toEqual(['automatic --transport http-first', 'dropped --allow-http', 'action --static-oauth-client-metadata']);
    expect(byName['Zürich Daten']!.linkCommand).toBe("mcp-tokens link 'https://daten.example.ch/mcp?tenant=…&api_key=…' --scope 'read write'");
    expect(byName['Zürich Daten']!.after).toBe(`${[L, ...LA].join(' ')} bridge 'https://daten.example.ch/mcp?tenant=…&api_key=…'`);

    expect(byName.notion).toMatchObject({ action: 'replace', client: 'VS Code', scope: 'project', replacement: { command: L, args: [...LA, 'bridge', 'https://mcp.notion.com/mcp'] } });
    // Shown forms never carry secrets.
    const shown = JSON.stringify(plan.entries.map((e) => [e.before, e.after, e.notes, e.linkCommand]));
    for (const s of SECRETS) expect(shown).not.toContain(s);
  });

  it('--write replaces only the planned entries, keeps the rest, backs up each file', async () => {
    const { claude, vscode, project } = await placeMigrationFixtures();
    const { out, deps } = capture();
    const code = await runMigrateCommand({ write: true, json: false, importTokens: false, deletePlaintext: false }, env, { ...deps, projectDir: project, platform: 'linux', now: () => NOW, authDir: path.join(home, '.mcp-auth') });
    expect(code).toBe(0);

    const before = JSON.parse(claude.original.toString('utf8'));
    const after = JSON.parse(await fsp.readFile(claude.file, 'utf8'));
    const bridged = (url: string) => [...LA, 'bridge', url];
    expect(after).toEqual({
      ...before,
      mcpServers: {
        ...before.mcpServers,
        linear: { command: L, args: bridged('https://mcp.linear.app/sse') },
        asana: { command: L, args: bridged('https://mcp.asana.com/sse') },
        'Acme Wiki': { command: L, args: bridged('https://wiki.acme.example/mcp') },
        'Zürich Daten': { command: L, args: bridged(ZH_URL), env: { HTTPS_PROXY: 'http://proxy.local:3128' } },
      },
    });
    expect(after.mcpServers.tickets).toEqual(before.mcpServers.tickets);
    expect((await fsp.readFile(`${claude.file}.bak-${STAMP}`)).equals(claude.original)).toBe(true);

    const vtext = await fsp.readFile(vscode.file, 'utf8');
    expect(vtext).toContain('// added 2025-04');
    expect(vtext).toContain('/* untouched */');
    expect(toValue(parseTree(vtext, 'jsonc').root)).toEqual({
      servers: { notion: { type: 'stdio', command: L, args: [...LA, 'bridge', 'https://mcp.notion.com/mcp'], env: {} }, local: { type: 'stdio', command: 'local-mcp' } },
    });
    expect((await fsp.readFile(`${vscode.file}.bak-${STAMP}`)).equals(vscode.original)).toBe(true);

    expect(out.stderr).toContain(`Updated ${claude.file}: linear, asana, Acme Wiki, Zürich Daten`);
    for (const s of SECRETS) expect(out.stderr + out.stdout).not.toContain(s);

    // Afterwards only the entry that must stay on mcp-remote is left.
    const again = await planMigration(env, { platform: 'linux', projectDir: project, authDir: path.join(home, '.mcp-auth') });
    expect(again.entries.map((e) => `${e.name}:${e.action}`)).toEqual(['tickets:keep']);
  });

  it('without --write changes nothing', async () => {
    const { claude, vscode, project } = await placeMigrationFixtures();
    const { out, deps } = capture();
    const code = await runMigrateCommand({ write: false, json: true, importTokens: false, deletePlaintext: false }, env, { ...deps, projectDir: project, platform: 'linux', authDir: path.join(home, '.mcp-auth') });
    expect(code).toBe(0);
    expect((await fsp.readFile(claude.file)).equals(claude.original)).toBe(true);
    expect((await fsp.readFile(vscode.file)).equals(vscode.original)).toBe(true);
    expect(await backupsOf(claude.file)).toEqual([]);
    const json = JSON.parse(out.stdout);
    expect(json.entries.filter((e: { action: string }) => e.action === 'replace')).toHaveLength(5);
    expect(json.applied).toBeNull();
    for (const s of SECRETS) expect(out.stdout + out.stderr).not.toContain(s);
  });

  it('skips an entry that changed between plan and apply', async () => {
    const { claude, project } = await placeMigrationFixtures();
    const plan = await planMigration(env, { platform: 'linux', projectDir: project, authDir: path.join(home, '.mcp-auth') });
    const v = JSON.parse(claude.original.toString('utf8'));
    v.mcpServers.linear.args = ['-y', 'mcp-remote', 'https://mcp.linear.app/mcp'];
    await fsp.writeFile(claude.file, JSON.stringify(v, null, 2));
    const r = await applyMigration(plan, { now: () => NOW });
    const f = r.files.find((x) => x.path === claude.file)!;
    expect(f.skipped).toEqual([{ name: 'linear', reason: 'the entry changed since the plan was made' }]);
    expect(f.replaced).toEqual(['asana', 'Acme Wiki', 'Zürich Daten']);
    expect(JSON.parse(await fsp.readFile(claude.file, 'utf8')).mcpServers.linear.args).toEqual(['-y', 'mcp-remote', 'https://mcp.linear.app/mcp']);
  });

  it('leaves an unparseable file alone and says so', async () => {
    await place('claude', 'invalid-claude_desktop_config.json');
    const { file, original } = await place('cursor', 'cursor-mcp.json');
    await fsp.writeFile(file, `${original.toString('utf8').slice(0, -2)} "x": { "command": "npx", "args": ["mcp-remote", "https://a.example/mcp"] `);
    const { out, deps } = capture();
    const code = await runMigrateCommand({ write: true, json: false, importTokens: false, deletePlaintext: false }, env, { ...deps, projectDir: home, platform: 'linux', authDir: path.join(home, '.mcp-auth') });
    expect(code).toBe(1); // the broken Cursor file mentions mcp-remote: entries may be missed
    expect(out.stderr).toMatch(/Skipped .*claude_desktop_config\.json: .*line 3, column 5/);
    expect(out.stderr).toMatch(/Skipped .*\.cursor\/mcp\.json: .*It mentions mcp-remote/);
    expect(await backupsOf(file)).toEqual([]);
  });

  describe('importing mcp-remote grants', () => {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    async function writeStore(store: string, hash: string, files: Record<string, unknown>) {
      const dir = path.join(home, '.mcp-auth', `mcp-remote-${store}`);
      await fsp.mkdir(dir, { recursive: true });
      for (const [name, v] of Object.entries(files)) await fsp.writeFile(path.join(dir, `${hash}_${name}`), typeof v === 'string' ? v : JSON.stringify(v), { mode: 0o600 });
      return dir;
    }

    it('reads the store, imports the grants of migrated entries, deletes only their plaintext, and prints no token', async () => {
      const { project } = await placeMigrationFixtures();
      const linearHash = md5('https://mcp.linear.app/sse');
      const oldDir = await writeStore('0.1.29', linearHash, {
        'tokens.json': { access_token: 'at-PLAINTEXT-linear-3c1d', token_type: 'Bearer', refresh_token: 'rt-PLAINTEXT-linear-8e0f', expires_in: 3600, scope: 'read' },
        'client_info.json': { client_id: 'dcr-linear', client_secret: 'cs-PLAINTEXT-dcr-4d4d', redirect_uris: ['http://localhost:12345/oauth/callback'] },
        'code_verifier.txt': 'v-PLAINTEXT',
      });
      const asanaHash = md5('https://mcp.asana.com/sse');
      const v1 = await writeStore('v1', asanaHash, {
        'tokens.json': { access_token: 'at-PLAINTEXT-asana-1f2e', token_type: 'Bearer', expires_at: Date.UTC(2025, 4, 6), issuer: 'https://app.asana.com' },
        'client_info.json': { client_id: 'dcr-asana' },
      });
      const ticketsHash = mcpRemoteHashes(parseMcpRemote('bunx', ['mcp-remote', 'https://tickets.example.org/mcp', '--header', 'X-Api-Key:${TICKETS_KEY}'])!)[0]!;
      await writeStore('v1', ticketsHash, { 'tokens.json': { access_token: 'at-PLAINTEXT-tickets-aa11', token_type: 'Bearer' } });
      await writeStore('v1', md5('https://gone.example/mcp'), { 'tokens.json': { access_token: 'at-PLAINTEXT-unknown-bb22', token_type: 'Bearer' } });
      await writeStore('v1', md5('https://broken.example/mcp'), { 'tokens.json': '{ not json' });

      const grants = await readMcpRemoteGrants(path.join(home, '.mcp-auth'), { candidates: [parseMcpRemote('npx', ['mcp-remote', 'https://mcp.linear.app/sse'])!] });
      expect(grants.map((g) => [g.store, g.serverUrl ?? null]).sort()).toEqual([['0.1.29', 'https://mcp.linear.app/sse'], ['v1', null], ['v1', null], ['v1', null]]);

      const imported: GrantToImport[] = [];
      const importGrant = async (g: GrantToImport) => {
        imported.push(g);
        if (g.serverUrl.includes('asana')) throw new Error('vault said no to access_token=at-PLAINTEXT-asana-1f2e');
        return { id: 'linear' };
      };
      for (const json of [true, false]) {
        const { out, deps } = capture();
        const code = await runMigrateCommand({ write: false, json, importTokens: true, deletePlaintext: false }, env, { ...deps, projectDir: project, platform: 'linux', importGrant });
        expect(code).toBe(0);
        for (const s of SECRETS) expect(out.stdout + out.stderr).not.toContain(s);
        if (!json) expect(out.stderr).toContain('mcp-remote grant found (with a refresh token');
      }
      expect(imported).toEqual([]); // no import without --write

      const { out, deps } = capture();
      const code = await runMigrateCommand({ write: true, json: true, importTokens: true, deletePlaintext: true }, { ...env, MCP_REMOTE_CONFIG_DIR: path.join(home, '.mcp-auth') }, { ...deps, projectDir: project, platform: 'linux', importGrant, now: () => NOW });
      expect(code).toBe(1); // one import failed
      expect(imported.map((g) => [g.serverUrl, g.tokens.access_token, g.clientInfo?.client_id ?? null, g.issuer ?? null])).toEqual([
        ['https://mcp.linear.app/sse', 'at-PLAINTEXT-linear-3c1d', 'dcr-linear', null],
        ['https://mcp.asana.com/sse', 'at-PLAINTEXT-asana-1f2e', 'dcr-asana', 'https://app.asana.com'],
      ]);
      const json = JSON.parse(out.stdout);
      expect(json.applied.imports).toEqual([
        { server: 'https://mcp.linear.app/sse', hash: linearHash, ok: true, id: 'linear', deletedFiles: 3 },
        { server: 'https://mcp.asana.com/sse', hash: asanaHash, ok: false, error: 'vault said no to access_token=[REDACTED]', deletedFiles: 0 },
      ]);
      for (const s of SECRETS) expect(out.stdout + out.stderr).not.toContain(s);
      // Plaintext gone only for the imported grant; the failed, kept-entry and unknown grants stay.
      expect(await fsp.readdir(oldDir)).toEqual([]);
      expect((await fsp.readdir(v1)).sort()).toEqual(
        [`${asanaHash}_client_info.json`, `${asanaHash}_tokens.json`, `${ticketsHash}_tokens.json`, `${md5('https://gone.example/mcp')}_tokens.json`, `${md5('https://broken.example/mcp')}_tokens.json`].sort(),
      );
    });

    it('--delete-plaintext needs --import-tokens', async () => {
      const err = await runMigrateCommand({ write: true, json: false, importTokens: false, deletePlaintext: true }, env, { platform: 'linux', projectDir: home }).catch((e: unknown) => e);
      expect(isUserError(err) && err.code).toBe('usage');
    });
  });
});

describe('config command', () => {
  const lookup = async (id: string) => (id === SERVER.id || id === SERVER.url ? SERVER : undefined);

  it('prints the snippet to stdout, or merges it with --write', async () => {
    const { out, deps } = capture();
    expect(await runConfigCommand(['vscode', SERVER.id], { write: false, json: false }, env, { ...deps, lookup, platform: 'linux' })).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ servers: { [SLUG]: { type: 'stdio', command: L, args: [...LA, 'bridge', SERVER.id] } } });
    expect(out.stderr).toContain(path.join(home, '.config', 'Code', 'User', 'mcp.json'));

    const { file } = await place('claude', 'claude_desktop_config.json');
    const w = capture();
    expect(await runConfigCommand(['claude', SERVER.url], { write: true, json: true }, env, { ...w.deps, lookup, platform: 'linux', now: () => NOW })).toBe(0);
    expect(JSON.parse(w.out.stdout)).toMatchObject({ file, name: SLUG, action: 'added', backup: `${file}.bak-${STAMP}`, written: true });
    expect(JSON.parse(await fsp.readFile(file, 'utf8')).mcpServers[SLUG].args).toEqual([...LA, 'bridge', SERVER.id]);

    const f = path.join(home, 'proj', '.cursor', 'mcp.json');
    expect(await runConfigCommand(['cursor', SERVER.id], { write: true, file: f, json: false }, env, { ...capture().deps, lookup, platform: 'linux', now: () => NOW })).toBe(0);
    expect(JSON.parse(await fsp.readFile(f, 'utf8'))).toEqual({ mcpServers: { [SLUG]: { command: L, args: [...LA, 'bridge', SERVER.id] } } });
  });

  it('refuses unknown clients and servers with a reason and a hint', async () => {
    const a = await runConfigCommand(['emacs', SERVER.id], { write: false, json: false }, env, { ...capture().deps, lookup }).catch((e: unknown) => e);
    expect(isUserError(a) && [a.code, a.hint]).toEqual(['usage', `Use one of: ${CLIENT_KINDS.join(', ')}.`]);
    const b = await runConfigCommand(['claude', 'nope'], { write: true, json: false }, env, { ...capture().deps, lookup }).catch((e: unknown) => e);
    expect(isUserError(b) && b.code).toBe('not-found');
    const c = await runConfigCommand(['claude', SERVER.id], { write: false, file: '/x', json: false }, env, { ...capture().deps, lookup }).catch((e: unknown) => e);
    expect(isUserError(c) && c.message).toBe('--file needs --write.');
  });
});
