// Every MCP client we write entries for, as data: where its file is on each OS, the file's format,
// where the server entries sit in it and what shape an entry has. Adding a client is a row here
// (and a fixture); the readers, writers, migration and the Clients page all work from this table.
import os from 'node:os';
import path from 'node:path';

export type ClientKind =
  | 'claude'
  | 'cursor'
  | 'vscode'
  | 'claude-code'
  | 'gemini-cli'
  | 'codex'
  | 'copilot-cli'
  | 'opencode'
  | 'qwen-code'
  | 'cline'
  | 'continue'
  | 'kilo'
  | 'windsurf'
  | 'zed'
  | 'goose'
  | 'lm-studio'
  | 'roo-code'
  | 'vscode-insiders';

/**
 * json: RFC 8259 (the client reads it with a strict parser, so a comment is already a broken file);
 * jsonc: comments and trailing commas allowed; toml and yaml as their specs say.
 */
export type FileFormat = 'json' | 'jsonc' | 'toml' | 'yaml';

/**
 * How an entry is laid out:
 * - plain: `{ command, args, env }` (Claude Desktop's shape, which most clients copied)
 * - stdio: plain with `type: "stdio"` (VS Code requires it; Claude Code writes it itself)
 * - copilot: `{ type: "local", command, args, env, tools: ["*"] }`
 * - qwen: plain with `alwaysLoadTools: true` (else Qwen Code hides the tools behind its tool search)
 * - opencode: `{ type: "local", command: [command, ...args], environment, enabled: true }`
 * - goose: `{ type: "stdio", name, cmd, args, envs, enabled: true, timeout }`
 * - continue: an item of a list, `{ name, command, args, env }`
 */
export type EntryShape = 'plain' | 'stdio' | 'copilot' | 'qwen' | 'opencode' | 'goose' | 'continue';

export interface PathContext {
  home: string;
  /** Electron apps' data root: %APPDATA%, ~/Library/Application Support, or $XDG_CONFIG_HOME / ~/.config. */
  appData: string;
  /** $XDG_CONFIG_HOME or ~/.config, on every OS (tools written with XDG libraries use it on macOS too). */
  xdgConfig: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  p: typeof path.posix;
}

export interface ClientDescriptor {
  kind: ClientKind;
  /** The name people know it by. */
  name: string;
  format: FileFormat;
  /** Keys leading to the object (or, with `list`, the array) holding the entries. */
  container: string[];
  /** The entries are a list of objects named by their `name` key (Continue). */
  list?: boolean;
  shape: EntryShape;
  /** The user-scope file `config --write` edits. */
  file(c: PathContext): string;
  /** Project-scope files (for migrate), relative to a project directory. */
  project?: string[][];
  /** What a new file starts with, when the client needs more than the entries. */
  newFile?: Record<string, string>;
  /**
   * One line `config` prints after writing, when the client gates MCP servers in a way the
   * product cannot change safely for the person.
   */
  gate?: string;
  /** An npm CLI whose own commands are tested here; else tested on files only. */
  npm?: string;
  /**
   * Signs that the client is installed, for the Clients page's "found": directories only it
   * makes (never a shared one such as the home directory or ~/.config) and its command's name.
   */
  installed: { dirs(c: PathContext): string[]; bin?: string };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** A directory from an env var, when it is set to an absolute path. */
function envDir(c: PathContext, name: string): string | undefined {
  const v = nonEmpty(c.env[name]);
  return v !== undefined && c.p.isAbsolute(v) ? v : undefined;
}

/** A client's own folder: the one its environment variable names, else `~/<dot>`. */
function clientDir(c: PathContext, name: string, dot: string): string {
  return envDir(c, name) ?? c.p.join(c.home, dot);
}

export const CLIENTS: readonly ClientDescriptor[] = [
  {
    kind: 'claude',
    name: 'Claude Desktop',
    format: 'json',
    container: ['mcpServers'],
    shape: 'plain',
    file: (c) => c.p.join(c.appData, 'Claude', 'claude_desktop_config.json'),
    installed: { dirs: (c) => [c.p.join(c.appData, 'Claude')] },
  },
  { kind: 'cursor', name: 'Cursor', format: 'jsonc', container: ['mcpServers'], shape: 'plain', file: (c) => c.p.join(c.home, '.cursor', 'mcp.json'), project: [['.cursor', 'mcp.json']], installed: { dirs: (c) => [c.p.join(c.home, '.cursor')], bin: 'cursor' } },
  { kind: 'vscode', name: 'VS Code', format: 'jsonc', container: ['servers'], shape: 'stdio', file: (c) => c.p.join(c.appData, 'Code', 'User', 'mcp.json'), project: [['.vscode', 'mcp.json']], installed: { dirs: (c) => [c.p.join(c.appData, 'Code')], bin: 'code' } },
  {
    kind: 'claude-code',
    name: 'Claude Code',
    format: 'json',
    container: ['mcpServers'],
    shape: 'stdio',
    file: (c) => c.p.join(envDir(c, 'CLAUDE_CONFIG_DIR') ?? c.home, '.claude.json'),
    project: [['.mcp.json']],
    npm: '@anthropic-ai/claude-code',
    installed: { dirs: (c) => [c.p.join(envDir(c, 'CLAUDE_CONFIG_DIR') ?? c.home, '.claude')], bin: 'claude' },
  },
  {
    kind: 'gemini-cli',
    name: 'Gemini CLI',
    // Gemini CLI reads its settings with comments allowed and keeps them when it saves.
    format: 'jsonc',
    container: ['mcpServers'],
    shape: 'plain',
    file: (c) => c.p.join(c.home, '.gemini', 'settings.json'),
    project: [['.gemini', 'settings.json']],
    gate: 'Gemini CLI starts MCP servers only in folders you trust: trust the folder when it asks (or with /permissions in it).',
    npm: '@google/gemini-cli',
    installed: { dirs: (c) => [c.p.join(c.home, '.gemini')], bin: 'gemini' },
  },
  {
    kind: 'codex',
    name: 'Codex',
    format: 'toml',
    container: ['mcp_servers'],
    shape: 'plain',
    file: (c) => c.p.join(clientDir(c, 'CODEX_HOME', '.codex'), 'config.toml'),
    npm: '@openai/codex',
    installed: { dirs: (c) => [clientDir(c, 'CODEX_HOME', '.codex')], bin: 'codex' },
  },
  {
    kind: 'copilot-cli',
    name: 'Copilot CLI',
    format: 'json',
    container: ['mcpServers'],
    shape: 'copilot',
    file: (c) => c.p.join(clientDir(c, 'COPILOT_HOME', '.copilot'), 'mcp-config.json'),
    npm: '@github/copilot',
    installed: { dirs: (c) => [clientDir(c, 'COPILOT_HOME', '.copilot')], bin: 'copilot' },
  },
  {
    kind: 'opencode',
    name: 'opencode',
    format: 'jsonc',
    container: ['mcp'],
    shape: 'opencode',
    file: (c) => c.p.join(c.xdgConfig, 'opencode', 'opencode.json'),
    project: [['opencode.json']],
    npm: 'opencode-ai',
    installed: { dirs: (c) => [c.p.join(c.xdgConfig, 'opencode'), c.p.join(c.home, '.local', 'share', 'opencode')], bin: 'opencode' },
  },
  {
    kind: 'qwen-code',
    name: 'Qwen Code',
    format: 'jsonc',
    container: ['mcpServers'],
    shape: 'qwen',
    file: (c) => c.p.join(c.home, '.qwen', 'settings.json'),
    project: [['.qwen', 'settings.json']],
    npm: '@qwen-code/qwen-code',
    installed: { dirs: (c) => [c.p.join(c.home, '.qwen')], bin: 'qwen' },
  },
  {
    kind: 'cline',
    name: 'Cline',
    format: 'json',
    container: ['mcpServers'],
    shape: 'plain',
    file: (c) => c.p.join(clientDir(c, 'CLINE_DIR', '.cline'), 'data', 'settings', 'cline_mcp_settings.json'),
    npm: 'cline',
    installed: { dirs: (c) => [clientDir(c, 'CLINE_DIR', '.cline')], bin: 'cline' },
  },
  {
    kind: 'continue',
    name: 'Continue',
    format: 'yaml',
    container: ['mcpServers'],
    list: true,
    shape: 'continue',
    file: (c) => c.p.join(clientDir(c, 'CONTINUE_GLOBAL_DIR', '.continue'), 'config.yaml'),
    // Continue's config.yaml schema requires these at the top.
    newFile: { name: 'Local Config', version: '1.0.0', schema: 'v1' },
    npm: '@continuedev/cli',
    installed: { dirs: (c) => [clientDir(c, 'CONTINUE_GLOBAL_DIR', '.continue')], bin: 'cn' },
  },
  {
    kind: 'kilo',
    name: 'Kilo',
    format: 'jsonc',
    container: ['mcp'],
    shape: 'opencode',
    file: (c) => c.p.join(c.xdgConfig, 'kilo', 'kilo.json'),
    project: [['kilo.json']],
    npm: '@kilocode/cli',
    installed: { dirs: (c) => [c.p.join(c.xdgConfig, 'kilo')], bin: 'kilo' },
  },
  { kind: 'windsurf', name: 'Windsurf', format: 'json', container: ['mcpServers'], shape: 'plain', file: (c) => c.p.join(c.home, '.codeium', 'windsurf', 'mcp_config.json'), installed: { dirs: (c) => [c.p.join(c.home, '.codeium', 'windsurf')], bin: 'windsurf' } },
  {
    kind: 'zed',
    name: 'Zed',
    format: 'jsonc',
    container: ['context_servers'],
    shape: 'plain',
    file: (c) => (c.platform === 'win32' ? c.p.join(c.appData, 'Zed', 'settings.json') : c.p.join(c.xdgConfig, 'zed', 'settings.json')),
    project: [['.zed', 'settings.json']],
    installed: { dirs: (c) => [c.platform === 'win32' ? c.p.join(c.appData, 'Zed') : c.p.join(c.xdgConfig, 'zed')], bin: 'zed' },
  },
  {
    kind: 'goose',
    name: 'Goose',
    format: 'yaml',
    container: ['extensions'],
    shape: 'goose',
    file: (c) => (c.platform === 'win32' ? c.p.join(c.appData, 'Block', 'goose', 'config', 'config.yaml') : c.p.join(c.xdgConfig, 'goose', 'config.yaml')),
    installed: { dirs: (c) => [c.platform === 'win32' ? c.p.join(c.appData, 'Block', 'goose') : c.p.join(c.xdgConfig, 'goose')], bin: 'goose' },
  },
  { kind: 'lm-studio', name: 'LM Studio', format: 'json', container: ['mcpServers'], shape: 'plain', file: (c) => c.p.join(c.home, '.lmstudio', 'mcp.json'), installed: { dirs: (c) => [c.p.join(c.home, '.lmstudio')], bin: 'lms' } },
  {
    kind: 'roo-code',
    name: 'Roo Code',
    format: 'json',
    container: ['mcpServers'],
    shape: 'plain',
    file: (c) => c.p.join(c.appData, 'Code', 'User', 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings', 'mcp_settings.json'),
    project: [['.roo', 'mcp.json']],
    installed: { dirs: (c) => [c.p.join(c.appData, 'Code', 'User', 'globalStorage', 'rooveterinaryinc.roo-cline')] },
  },
  { kind: 'vscode-insiders', name: 'VS Code Insiders', format: 'jsonc', container: ['servers'], shape: 'stdio', file: (c) => c.p.join(c.appData, 'Code - Insiders', 'User', 'mcp.json'), installed: { dirs: (c) => [c.p.join(c.appData, 'Code - Insiders')], bin: 'code-insiders' } },
];

const BY_KIND = new Map(CLIENTS.map((d) => [d.kind, d]));

export function descriptor(kind: ClientKind): ClientDescriptor {
  const d = BY_KIND.get(kind);
  if (!d) throw new Error(`unknown client kind ${kind}`);
  return d;
}

export const CLIENT_KINDS: readonly ClientKind[] = CLIENTS.map((d) => d.kind);

export function isClientKind(s: string): s is ClientKind {
  return BY_KIND.has(s as ClientKind);
}

export function pathApi(platform: NodeJS.Platform): typeof path.posix {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** The user's home: from the env first (tests), the OS otherwise. */
export function homeDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const fromEnv = platform === 'win32' ? (nonEmpty(env.USERPROFILE) ?? nonEmpty(env.HOME)) : nonEmpty(env.HOME);
  return fromEnv ?? os.homedir();
}

export function pathContext(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): PathContext {
  const p = pathApi(platform);
  const home = homeDir(env, platform);
  const xdg = env.XDG_CONFIG_HOME;
  const xdgConfig = xdg !== undefined && p.isAbsolute(xdg) ? xdg : p.join(home, '.config');
  const appData = platform === 'darwin' ? p.join(home, 'Library', 'Application Support') : platform === 'win32' ? (nonEmpty(env.APPDATA) ?? p.join(home, 'AppData', 'Roaming')) : xdgConfig;
  return { home, appData, xdgConfig, env, platform, p };
}

/** Where to look for signs that a client is installed (see `installed`), for this env and OS. */
export function installMarkers(kind: ClientKind, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): { dirs: string[]; bin?: string } {
  const d = descriptor(kind);
  return { dirs: d.installed.dirs(pathContext(env, platform)), ...(d.installed.bin !== undefined ? { bin: d.installed.bin } : {}) };
}
