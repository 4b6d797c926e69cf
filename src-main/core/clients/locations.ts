// Where each MCP client keeps its config, as pure functions of (env, platform), so tests
// point HOME/APPDATA at a temp dir and every platform's branch runs on any machine.
import os from 'node:os';
import path from 'node:path';
import type { Syntax } from './jsonc.js';

export type ClientKind = 'claude' | 'cursor' | 'vscode' | 'claude-code';
export const CLIENT_KINDS: readonly ClientKind[] = ['claude', 'cursor', 'vscode', 'claude-code'];

export type ClientName = 'Claude Desktop' | 'Cursor' | 'VS Code' | 'Claude Code';

export const CLIENT_NAMES: Record<ClientKind, ClientName> = {
  claude: 'Claude Desktop',
  cursor: 'Cursor',
  vscode: 'VS Code',
  'claude-code': 'Claude Code',
};

export interface ClientFormat {
  /** The key holding the server entries. */
  container: 'mcpServers' | 'servers';
  /**
   * Claude Desktop and Claude Code read their files with a strict JSON parser, so a comment there
   * is already a broken file; VS Code (and Cursor, a VS Code fork) accept comments and trailing commas.
   */
  syntax: Syntax;
}

export const CLIENT_FORMATS: Record<ClientKind, ClientFormat> = {
  claude: { container: 'mcpServers', syntax: 'json' },
  cursor: { container: 'mcpServers', syntax: 'jsonc' },
  vscode: { container: 'servers', syntax: 'jsonc' },
  'claude-code': { container: 'mcpServers', syntax: 'json' },
};

export interface ClientFileLocation {
  kind: ClientKind;
  client: ClientName;
  scope: 'user' | 'project';
  path: string;
}

export interface LocationOptions {
  platform?: NodeJS.Platform;
  /** A project directory whose `.cursor/mcp.json`, `.vscode/mcp.json` and `.mcp.json` count too. */
  projectDir?: string;
}

function pathApi(platform: NodeJS.Platform) {
  return platform === 'win32' ? path.win32 : path.posix;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** The user's home: from the env first (tests), the OS otherwise. */
export function homeDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const fromEnv = platform === 'win32' ? (nonEmpty(env.USERPROFILE) ?? nonEmpty(env.HOME)) : nonEmpty(env.HOME);
  return fromEnv ?? os.homedir();
}

/** Electron apps' per-user data root: %APPDATA%, ~/Library/Application Support, or XDG config. */
function appDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  const p = pathApi(platform);
  const home = homeDir(env, platform);
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support');
  if (platform === 'win32') return nonEmpty(env.APPDATA) ?? p.join(home, 'AppData', 'Roaming');
  const xdg = env.XDG_CONFIG_HOME;
  return xdg !== undefined && p.isAbsolute(xdg) ? xdg : p.join(home, '.config');
}

/** The file `config <kind> --write` edits when no --file is given (user scope). */
export function defaultConfigPath(kind: ClientKind, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const p = pathApi(platform);
  switch (kind) {
    case 'claude':
      return p.join(appDataDir(env, platform), 'Claude', 'claude_desktop_config.json');
    case 'cursor':
      return p.join(homeDir(env, platform), '.cursor', 'mcp.json');
    case 'vscode':
      return p.join(appDataDir(env, platform), 'Code', 'User', 'mcp.json');
    case 'claude-code': {
      const dir = nonEmpty(env.CLAUDE_CONFIG_DIR);
      return dir !== undefined ? p.join(dir, '.claude.json') : p.join(homeDir(env, platform), '.claude.json');
    }
  }
}

/** Every config file worth scanning (migrate, "who uses the bridge"), whether it exists or not. */
export function clientConfigLocations(env: NodeJS.ProcessEnv, opts: LocationOptions = {}): ClientFileLocation[] {
  const platform = opts.platform ?? process.platform;
  const p = pathApi(platform);
  const at = (kind: ClientKind, scope: 'user' | 'project', file: string): ClientFileLocation => ({ kind, client: CLIENT_NAMES[kind], scope, path: file });
  const out = [
    at('claude', 'user', defaultConfigPath('claude', env, platform)),
    at('cursor', 'user', defaultConfigPath('cursor', env, platform)),
    at('vscode', 'user', defaultConfigPath('vscode', env, platform)),
    at('vscode', 'user', p.join(appDataDir(env, platform), 'Code - Insiders', 'User', 'mcp.json')),
    at('claude-code', 'user', defaultConfigPath('claude-code', env, platform)),
  ];
  if (opts.projectDir !== undefined) {
    const dir = p.resolve(opts.projectDir);
    out.push(
      at('cursor', 'project', p.join(dir, '.cursor', 'mcp.json')),
      at('vscode', 'project', p.join(dir, '.vscode', 'mcp.json')),
      at('claude-code', 'project', p.join(dir, '.mcp.json')),
    );
  }
  // One file seen once, even when two rules name it (e.g. the project dir is HOME).
  const seen = new Set<string>();
  return out.filter((l) => (seen.has(l.path) ? false : (seen.add(l.path), true)));
}
