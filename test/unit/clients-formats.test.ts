// Every client of the table in core/clients/descriptors.ts, on real files in its own format
// (JSON, JSONC, TOML, YAML) and shape: only our entry changes, a backup first, a second write
// changes nothing, removing the entry again leaves the file as it was, broken files are refused
// with line and column. The clients that cannot run here (desktop apps) are tested only this way.
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeBridgeEntry } from '../../src-main/core/api/client-entries.js';
import { runConfigCommand } from '../../src-main/cli/config-command.js';
import {
  bridgeTargetOf,
  CLIENTS,
  commandLineOf,
  ConfigFileError,
  configSnippet,
  defaultConfigPath,
  descriptor,
  entriesIn,
  installMarkers,
  loadConfig,
  nodeClientFs,
  planMigration,
  applyMigration,
  upsertBridgeEntry,
  type ClientKind,
} from '../../src-main/core/clients/index.js';
import { withValue, type JsonValue } from '../../src-main/core/clients/jsonc.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/clients');
const NOW = new Date(2025, 4, 6, 7, 8, 9);
const STAMP = '20250506-070809';
const SERVER = { id: 'srv-7f3a', name: 'Linear Café', url: 'https://mcp.linear.app/mcp' };
const SLUG = 'linear-cafe';
// A launcher that exists: this Node, and a stand-in script path (nothing is started in these tests).
const LAUNCHER = { command: process.execPath, args: ['/opt/mcp-tokens/bin/mcp-tokens.js'] };
const ARGV = [LAUNCHER.command, ...LAUNCHER.args, 'bridge', SERVER.id];

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-formats-'));
  env = { HOME: home };
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

const FIXTURE: Partial<Record<ClientKind, string>> = {
  'gemini-cli': 'gemini-settings.json',
  codex: 'codex-config.toml',
  'copilot-cli': 'copilot-mcp-config.json',
  opencode: 'opencode.json',
  'qwen-code': 'qwen-settings.json',
  cline: 'cline_mcp_settings.json',
  continue: 'continue-config.yaml',
  kilo: 'kilo.json',
  windsurf: 'windsurf-mcp_config.json',
  zed: 'zed-settings.json',
  goose: 'goose-config.yaml',
  'lm-studio': 'lmstudio-mcp.json',
  'roo-code': 'roo-mcp_settings.json',
  'vscode-insiders': 'vscode-mcp.json',
};

/** The keys each shape must carry besides the command line. */
const SHAPE_KEYS: Partial<Record<ClientKind, Record<string, JsonValue>>> = {
  'copilot-cli': { type: 'local', tools: ['*'] },
  'qwen-code': { alwaysLoadTools: true },
  opencode: { type: 'local', enabled: true },
  kilo: { type: 'local', enabled: true },
  goose: { type: 'stdio', enabled: true, name: SLUG },
  continue: { name: SLUG },
  'vscode-insiders': { type: 'stdio' },
};

function isSubsequence(a: string, b: string): boolean {
  let j = 0;
  for (let i = 0; i < b.length && j < a.length; i++) if (b[i] === a[j]) j++;
  return j === a.length;
}

async function place(kind: ClientKind, name: string): Promise<{ file: string; original: string }> {
  const file = defaultConfigPath(kind, env, 'linux');
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const original = await fsp.readFile(path.join(FIXTURES, name), 'utf8');
  await fsp.writeFile(file, original);
  return { file, original };
}

async function valueOf(kind: ClientKind, file: string): Promise<{ [k: string]: JsonValue }> {
  return (await loadConfig(nodeClientFs, file, descriptor(kind).format)).value;
}

async function backupsOf(file: string): Promise<string[]> {
  const base = path.basename(file);
  return (await fsp.readdir(path.dirname(file))).filter((n) => n.startsWith(`${base}.bak-`));
}

describe('the client table', () => {
  it('has every client the issue names, each with its own file', () => {
    const kinds = CLIENTS.map((c) => c.kind);
    for (const k of ['gemini-cli', 'codex', 'copilot-cli', 'opencode', 'qwen-code', 'cline', 'continue', 'kilo', 'windsurf', 'zed', 'goose', 'lm-studio', 'roo-code', 'vscode-insiders'] as const) expect(kinds).toContain(k);
    const files = CLIENTS.map((c) => defaultConfigPath(c.kind, { HOME: '/home/ana' }, 'linux'));
    expect(new Set(files).size).toBe(files.length);
  });

  it('knows each platform’s files', () => {
    const e = { HOME: '/home/ana', APPDATA: 'C:\\Users\\ana\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\ana' };
    const at = (k: ClientKind, platform: NodeJS.Platform, extra: NodeJS.ProcessEnv = {}) => defaultConfigPath(k, { ...e, ...extra }, platform);
    expect(at('gemini-cli', 'linux')).toBe('/home/ana/.gemini/settings.json');
    expect(at('gemini-cli', 'win32')).toBe('C:\\Users\\ana\\.gemini\\settings.json');
    expect(at('codex', 'darwin')).toBe('/home/ana/.codex/config.toml');
    expect(at('codex', 'linux', { CODEX_HOME: '/srv/codex' })).toBe('/srv/codex/config.toml');
    expect(at('copilot-cli', 'linux')).toBe('/home/ana/.copilot/mcp-config.json');
    expect(at('opencode', 'linux', { XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/opencode/opencode.json');
    expect(at('opencode', 'darwin')).toBe('/home/ana/.config/opencode/opencode.json');
    expect(at('qwen-code', 'linux')).toBe('/home/ana/.qwen/settings.json');
    expect(at('cline', 'linux')).toBe('/home/ana/.cline/data/settings/cline_mcp_settings.json');
    expect(at('continue', 'win32')).toBe('C:\\Users\\ana\\.continue\\config.yaml');
    expect(at('kilo', 'linux')).toBe('/home/ana/.config/kilo/kilo.json');
    expect(at('windsurf', 'darwin')).toBe('/home/ana/.codeium/windsurf/mcp_config.json');
    expect(at('zed', 'linux')).toBe('/home/ana/.config/zed/settings.json');
    expect(at('zed', 'darwin')).toBe('/home/ana/.config/zed/settings.json');
    expect(at('zed', 'win32')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Zed\\settings.json');
    expect(at('goose', 'linux')).toBe('/home/ana/.config/goose/config.yaml');
    expect(at('goose', 'win32')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Block\\goose\\config\\config.yaml');
    expect(at('lm-studio', 'win32')).toBe('C:\\Users\\ana\\.lmstudio\\mcp.json');
    expect(at('roo-code', 'darwin')).toBe('/home/ana/Library/Application Support/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json');
    expect(at('vscode-insiders', 'linux')).toBe('/home/ana/.config/Code - Insiders/User/mcp.json');
  });
});

describe('signs that a client is installed', () => {
  it('are its own directories, never a shared one (the home directory, ~/.config, the app-data root)', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const e = { HOME: '/home/ana', APPDATA: 'C:\\Users\\ana\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\ana' };
      const p = platform === 'win32' ? path.win32 : path.posix;
      const home = platform === 'win32' ? e.USERPROFILE : e.HOME;
      const shared = new Set([home, p.join(home, '.config'), p.join(home, 'Library', 'Application Support'), e.APPDATA, p.join(home, '.local', 'share')]);
      for (const d of CLIENTS) {
        const m = installMarkers(d.kind, e, platform);
        expect(m.dirs.length, d.kind).toBeGreaterThan(0);
        for (const dir of m.dirs) {
          expect(shared.has(dir), `${d.kind} on ${platform}: ${dir}`).toBe(false);
          expect(p.isAbsolute(dir)).toBe(true);
        }
      }
    }
    // Claude Code's file sits in the home directory itself; its sign is ~/.claude.
    expect(installMarkers('claude-code', { HOME: '/home/ana' }, 'linux')).toEqual({ dirs: ['/home/ana/.claude'], bin: 'claude' });
  });
});

describe('writing each client’s file', () => {
  for (const [kind, fixture] of Object.entries(FIXTURE) as Array<[ClientKind, string]>) {
    const d = descriptor(kind);
    it(`${kind} (${d.format}): adds only our entry, backs up, a second write changes nothing, removing restores the file`, async () => {
      const { file, original } = await place(kind, fixture);
      const before = await valueOf(kind, file);
      const r = await upsertBridgeEntry({ kind, server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW });
      expect(r).toMatchObject({ file, name: SLUG, action: 'added', created: false, backup: `${file}.bak-${STAMP}` });
      expect(await fsp.readFile(`${file}.bak-${STAMP}`, 'utf8')).toBe(original);

      const after = await fsp.readFile(file, 'utf8');
      const value = await valueOf(kind, file);
      // Read back with the format's own parser: the old content and our entry, nothing else.
      const entry = entriesIn({ ...(await loadConfig(nodeClientFs, file, d.format)) }, d)[SLUG];
      expect(commandLineOf(entry)).toMatchObject({ command: ARGV[0], args: ARGV.slice(1) });
      expect(bridgeTargetOf(entry)).toBe(SERVER.id);
      expect(entry).toMatchObject(SHAPE_KEYS[kind] ?? {});
      if (d.list) {
        const list = before[d.container[0]!] as JsonValue[];
        expect(value).toEqual({ ...before, [d.container[0]!]: [...list, entry!] });
      } else expect(value).toEqual(withValue(before, [...d.container, SLUG], entry!));
      if (d.format === 'json') expect(JSON.parse(after)).toEqual(value);
      if (d.format === 'toml') expect(parseToml(after)).toEqual(value);
      if (d.format === 'yaml') expect(parseYaml(after)).toEqual(value);
      // Nothing of the original text went missing (for YAML too: the entry is spliced in at its place).
      expect(isSubsequence(original, after)).toBe(true);

      const again = await upsertBridgeEntry({ kind, server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => new Date(NOW.getTime() + 5000) });
      expect(again.action).toBe('unchanged');
      expect(await fsp.readFile(file, 'utf8')).toBe(after);
      expect(await backupsOf(file)).toHaveLength(1);

      const removed = await removeBridgeEntry({ env: () => env, platform: 'linux', now: () => new Date(NOW.getTime() + 9000) }, kind, SERVER);
      expect(removed.removed).toEqual([SLUG]);
      expect(await fsp.readFile(file, 'utf8')).toBe(original);
    });
  }

  it('creates each client’s file when there is none, in its format, and a new Continue file has the keys Continue requires', async () => {
    for (const d of CLIENTS.filter((c) => c.kind !== 'claude-code')) {
      const r = await upsertBridgeEntry({ kind: d.kind, server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW });
      expect(r, d.kind).toMatchObject({ action: 'added', created: true });
      expect(bridgeTargetOf(entriesIn(await loadConfig(nodeClientFs, r.file, d.format), d)[SLUG]), d.kind).toBe(SERVER.id);
    }
    const cont = parseYaml(await fsp.readFile(defaultConfigPath('continue', env, 'linux'), 'utf8')) as Record<string, unknown>;
    expect(cont).toMatchObject({ name: 'Local Config', version: '1.0.0', schema: 'v1', mcpServers: [{ name: SLUG, command: ARGV[0] }] });
    const toml = await fsp.readFile(defaultConfigPath('codex', env, 'linux'), 'utf8');
    expect(toml.startsWith(`[mcp_servers.${SLUG}]\n`)).toBe(true);
  });

  it('keeps a person’s own settings in our entry (disabled stays disabled, their env stays)', async () => {
    const file = defaultConfigPath('opencode', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const mine = { type: 'local', command: ['/old/node', 'mcp-tokens', 'bridge', SERVER.id], environment: { DEBUG: '1' }, enabled: false, timeout: 9000 };
    await fsp.writeFile(file, JSON.stringify({ mcp: { linear: mine } }, null, 2));
    const r = await upsertBridgeEntry({ kind: 'opencode', server: SERVER, env, platform: 'linux', launcher: { ...LAUNCHER, env: { MCP_TOKENS_HOME: '/data' } }, now: () => NOW });
    expect(r).toMatchObject({ name: 'linear', action: 'updated' });
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual({ mcp: { linear: { type: 'local', command: ARGV, environment: { DEBUG: '1', MCP_TOKENS_HOME: '/data' }, enabled: false, timeout: 9000 } } });
  });
});

describe('TOML (Codex)', () => {
  const write = async (text: string) => {
    const file = defaultConfigPath('codex', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, text);
    return file;
  };

  it('updates our table in place: its sub-tables go with it, the comment above the next table stays, every other byte stays', async () => {
    const head = '# top\nmodel = "o3"\n\n';
    const tail = '\n# the clock\n[mcp_servers.time]\ncommand = "uvx"\n';
    const file = await write(`${head}[mcp_servers.linear]\ncommand = "/old/node"\nargs = ["/x/mcp-tokens.js", "bridge", "${SERVER.id}"]\nstartup_timeout_sec = 45\n\n[mcp_servers.linear.env]\nDEBUG = "1"\n${tail}`);
    const r = await upsertBridgeEntry({ kind: 'codex', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW });
    expect(r).toMatchObject({ name: 'linear', action: 'updated' });
    const text = await fsp.readFile(file, 'utf8');
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    expect(parseToml(text)).toEqual({ model: 'o3', mcp_servers: { linear: { command: ARGV[0], args: ARGV.slice(1), startup_timeout_sec: 45, env: { DEBUG: '1' } }, time: { command: 'uvx' } } });
  });

  it('does not take a "[…]" line inside a multi-line string for a table', async () => {
    const text = `[mcp_servers.linear]\ncommand = "/old"\nargs = ["mcp-tokens", "bridge", "${SERVER.id}"]\ndescription = """\n[mcp_servers.time]\n"""\n`;
    const file = await write(text);
    await upsertBridgeEntry({ kind: 'codex', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW });
    expect(parseToml(await fsp.readFile(file, 'utf8'))).toEqual({ mcp_servers: { linear: { command: ARGV[0], args: ARGV.slice(1), description: '[mcp_servers.time]\n' } } });
  });

  it('refuses an entry written as an inline table (changing it would mean rewriting other lines), and a broken file with line and column', async () => {
    const inline = `mcp_servers = { linear = { command = "/old", args = ["mcp-tokens", "bridge", "${SERVER.id}"] } }\n`;
    const file = await write(inline);
    const err = await upsertBridgeEntry({ kind: 'codex', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigFileError);
    expect((err as Error).message).toMatch(/not written as one \[mcp_servers\.linear\] table/);
    expect(await fsp.readFile(file, 'utf8')).toBe(inline);
    expect(await backupsOf(file)).toEqual([]);

    await write('model = "o3"\n[mcp_servers.x]\nargs = ["a",\n');
    const bad = (await upsertBridgeEntry({ kind: 'codex', server: SERVER, env, platform: 'linux', launcher: LAUNCHER }).catch((e: unknown) => e)) as ConfigFileError;
    expect(bad).toBeInstanceOf(ConfigFileError);
    expect(bad.message).toMatch(/is not valid TOML: .* at line \d+, column \d+\./);
    expect(bad.line).toBeGreaterThanOrEqual(3);
  });
});

describe('YAML (Continue, Goose)', () => {
  it('refuses a broken file with line and column, and changes nothing', async () => {
    const file = defaultConfigPath('continue', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const text = 'name: x\nmcpServers:\n  - name: a\n    args: [1, 2\n';
    await fsp.writeFile(file, text);
    const err = (await upsertBridgeEntry({ kind: 'continue', server: SERVER, env, platform: 'linux', launcher: LAUNCHER }).catch((e: unknown) => e)) as ConfigFileError;
    expect(err).toBeInstanceOf(ConfigFileError);
    expect(err.message).toMatch(/is not valid YAML: .* at line \d+, column \d+\./);
    expect(err.line).toBeGreaterThanOrEqual(4);
    expect(await fsp.readFile(file, 'utf8')).toBe(text);
  });

  it('splices a replaced entry into its place, keeping the comments and spacing around it; a flow-style list goes through the Document API', async () => {
    const file = defaultConfigPath('continue', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const head = 'name: x   # mine\nversion: 1.0.0\nmcpServers:\n  # ours, from before\n';
    const tail = '  - name: time    # the clock\n    command: uvx\n';
    await fsp.writeFile(file, `${head}  - name: linear\n    command: /old/node\n    args: [mcp-tokens, bridge, ${SERVER.id}]\n    env: { DEBUG: "1" }\n${tail}`);
    const r = await upsertBridgeEntry({ kind: 'continue', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => NOW });
    expect(r).toMatchObject({ name: 'linear', action: 'updated' });
    const text = await fsp.readFile(file, 'utf8');
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    expect((parseYaml(text) as { mcpServers: unknown[] }).mcpServers[0]).toEqual({ name: 'linear', command: ARGV[0], args: ARGV.slice(1), env: { DEBUG: '1' } });

    // No list yet: it is added at the end, the rest of the file as it was.
    const bare = 'name: x    # mine\nversion: 1.0.0\n';
    await fsp.writeFile(file, bare);
    await upsertBridgeEntry({ kind: 'continue', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => new Date(NOW.getTime() + 500) });
    const added = await fsp.readFile(file, 'utf8');
    expect(added.startsWith(bare)).toBe(true);
    expect(parseYaml(added)).toEqual({ name: 'x', version: '1.0.0', mcpServers: [{ name: SLUG, command: ARGV[0], args: ARGV.slice(1) }] });

    await fsp.writeFile(file, 'name: x\nmcpServers: []\n');
    await upsertBridgeEntry({ kind: 'continue', server: SERVER, env, platform: 'linux', launcher: LAUNCHER, now: () => new Date(NOW.getTime() + 1000) });
    expect(parseYaml(await fsp.readFile(file, 'utf8'))).toEqual({ name: 'x', mcpServers: [{ name: SLUG, command: ARGV[0], args: ARGV.slice(1) }] });
  });

  it('refuses a list where Goose keeps a mapping', async () => {
    const file = defaultConfigPath('goose', env, 'linux');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, 'extensions:\n  - a\n');
    await expect(upsertBridgeEntry({ kind: 'goose', server: SERVER, env, platform: 'linux', launcher: LAUNCHER })).rejects.toThrow(/"extensions" is not a mapping/);
  });
});

describe('snippets', () => {
  it('prints each client its own format, which reads back to the entry', () => {
    for (const d of CLIENTS.filter((c) => c.kind !== 'claude-code')) {
      const { snippet } = configSnippet(d.kind, SERVER, LAUNCHER, { env, platform: 'linux' });
      const doc = (d.format === 'toml' ? parseToml(snippet) : d.format === 'yaml' ? parseYaml(snippet) : JSON.parse(snippet)) as { [k: string]: JsonValue };
      const holder = doc[d.container[0]!] as JsonValue;
      const entry = d.list ? (holder as JsonValue[])[0] : (holder as { [k: string]: JsonValue })[SLUG];
      expect(bridgeTargetOf(entry), d.kind).toBe(SERVER.id);
    }
  });

  it('config says in one line what Gemini CLI needs (trusted folders), written or not', async () => {
    const lines: string[] = [];
    const deps = { launcher: LAUNCHER, checkLauncher: async () => {}, lookup: async () => SERVER, platform: 'linux' as const, stdout: () => {}, stderr: (s: string) => void lines.push(s), now: () => NOW };
    await runConfigCommand(['gemini', SERVER.id], { write: true, json: false }, env, deps);
    expect(lines.join('')).toContain('Gemini CLI starts MCP servers only in folders you trust');
    lines.length = 0;
    await runConfigCommand(['gemini-cli', SERVER.id], { write: true, json: false }, env, deps);
    expect(lines.join('')).toMatch(/already has .*nothing changed[\s\S]*folders you trust/);
    lines.length = 0;
    await runConfigCommand(['codex', SERVER.id], { write: true, json: false }, env, deps);
    expect(lines.join('')).not.toContain('trust');
  });
});

describe('migrating mcp-remote entries in every client', () => {
  it('finds the mcp-remote entry of each fixture, replaces it in the client’s own shape, and keeps the rest', async () => {
    for (const [kind, fixture] of Object.entries(FIXTURE) as Array<[ClientKind, string]>) await place(kind, fixture);
    const plan = await planMigration(env, { platform: 'linux', launcher: LAUNCHER, authDir: path.join(home, '.mcp-auth') });
    const found = new Set(plan.entries.map((e) => e.kind));
    // vscode-insiders' fixture has none; every other one has "sentry".
    for (const kind of Object.keys(FIXTURE) as ClientKind[]) if (kind !== 'vscode-insiders') expect(found.has(kind), kind).toBe(true);
    const befores = new Map<ClientKind, { [k: string]: JsonValue }>();
    for (const kind of found) befores.set(kind, await valueOf(kind, defaultConfigPath(kind, env, 'linux')));

    const applied = await applyMigration(plan, { now: () => NOW });
    for (const f of applied.files) expect(f.error, f.path).toBeUndefined();
    for (const kind of found) {
      const d = descriptor(kind);
      const value = await valueOf(kind, defaultConfigPath(kind, env, 'linux'));
      const entries = entriesIn({ ...(await loadConfig(nodeClientFs, defaultConfigPath(kind, env, 'linux'), d.format)) }, d);
      const sentry = entries.sentry;
      expect(bridgeTargetOf(sentry), kind).toBe('https://mcp.sentry.dev/mcp');
      expect(sentry, kind).toMatchObject(SHAPE_KEYS[kind] && kind !== 'continue' && kind !== 'goose' ? SHAPE_KEYS[kind] : {});
      // Every other entry is as it was.
      const old = entriesIn({ ...(await loadConfig(nodeClientFs, defaultConfigPath(kind, env, 'linux'), d.format)), value: befores.get(kind)! }, d);
      for (const name of Object.keys(old)) if (name !== 'sentry') expect(entries[name], `${kind} ${name}`).toEqual(old[name]);
      expect(Object.keys(entries).sort()).toEqual(Object.keys(old).sort());
      expect(value).toBeTruthy();
    }
    // The flags are carried over and said so: Codex's entry had a header and a sub-table env.
    const codex = plan.entries.find((e) => e.kind === 'codex')!;
    expect(codex.notes.some((n) => n.flag.startsWith('--header'))).toBe(true);
    const codexEntry = (parseToml(await fsp.readFile(defaultConfigPath('codex', env, 'linux'), 'utf8')) as { mcp_servers: Record<string, Record<string, JsonValue>> }).mcp_servers.sentry!;
    // The header's value moves to the entry's env (process arguments are readable by other users); the person's env stays.
    expect(codexEntry).toMatchObject({ command: LAUNCHER.command, startup_timeout_sec: 30, env: { SENTRY_ORG: 'acme', MCP_TOKENS_HEADER_X_TEAM: 'blue' } });
    expect(codexEntry.args).toEqual([...LAUNCHER.args, 'bridge', 'https://mcp.sentry.dev/mcp', '--header', 'X-Team: ${MCP_TOKENS_HEADER_X_TEAM}']);
  });
});

describe('--import-tokens from entries in TOML and YAML files', () => {
  it('imports mcp-remote’s grant for a Codex table and a Continue item, then deletes its plaintext; no token printed', async () => {
    const url = 'https://mcp.sentry.dev/mcp';
    await place('codex', 'codex-config.toml');
    await place('continue', 'continue-config.yaml');
    // mcp-remote files the grant under md5 of the URL (with --header: of the URL and the headers too; both are looked up).
    const dir = path.join(home, '.mcp-auth', 'mcp-remote-0.1.29');
    await fsp.mkdir(dir, { recursive: true });
    const hash = createHash('md5').update(url).digest('hex');
    await fsp.writeFile(path.join(dir, `${hash}_tokens.json`), JSON.stringify({ access_token: 'at-PLAINTEXT-sentry-77', refresh_token: 'rt-PLAINTEXT-sentry-88', token_type: 'Bearer' }), { mode: 0o600 });
    const imported: string[] = [];
    const plan = await planMigration(env, { platform: 'linux', launcher: LAUNCHER, authDir: path.join(home, '.mcp-auth') });
    const kinds = plan.entries.filter((e) => e.url === url).map((e) => e.kind);
    expect(kinds.sort()).toEqual(['codex', 'continue']);
    expect(plan.entries.filter((e) => e.url === url).every((e) => e.grant?.hasRefreshToken === true)).toBe(true);
    expect(JSON.stringify(plan)).not.toContain('PLAINTEXT');
    const r = await applyMigration(plan, { now: () => NOW, importTokens: true, deletePlaintext: true, importGrant: async (g) => void imported.push(`${g.serverUrl} ${g.tokens.refresh_token}`) });
    // One grant, imported once although two clients use it.
    expect(imported).toEqual([`${url} rt-PLAINTEXT-sentry-88`]);
    expect(r.imports).toMatchObject([{ ok: true, deletedFiles: 1 }]);
    expect(await fsp.readdir(dir)).toEqual([]);
    expect(JSON.stringify(r)).not.toContain('PLAINTEXT');
    for (const f of r.files) expect(f.replaced).toContain('sentry');
  });
});

