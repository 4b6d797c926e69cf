// The bridge entry each client wants, in its own shape, and how to recognise one already there.
import { stringify as yamlStringify } from 'yaml';
import { descriptor } from './descriptors.js';
import type { JsonValue } from './jsonc.js';
import { runningLauncher, type Launcher } from './launcher.js';
import { defaultConfigPath, type ClientKind } from './locations.js';
import { commandLineOf, ownEntry } from './shapes.js';
import { tableText } from './toml-doc.js';

export type { Launcher } from './launcher.js';

export interface BridgeServer {
  id: string;
  name: string;
  url: string;
}

/** `command` and `args` of a bridge entry for `target` (a server id or URL). */
export function bridgeCommand(target: string, launcher: Launcher = runningLauncher()): { command: string; args: string[] } {
  return { command: launcher.command, args: [...launcher.args, 'bridge', target] };
}

/** The entry object, in the client's shape; `name` is its key (Goose and Continue repeat it inside). */
export function bridgeEntry(kind: ClientKind, target: string, launcher: Launcher = runningLauncher(), name = target): { [k: string]: JsonValue } {
  return ownEntry(descriptor(kind), name, { ...bridgeCommand(target, launcher), ...(launcher.env ? { env: launcher.env } : {}) });
}

/**
 * The entry's key: the server's name made safe to type. Letters of any script stay (a name in
 * Japanese keeps being Japanese); accents are folded; anything else becomes one dash.
 */
export function entrySlug(name: string, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    // Only Latin accents fold (é → e); marks are part of other scripts' letters (バ is ハ + ゙).
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug || fallback;
}

/** POSIX shell quoting, only when needed, for commands people paste. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface Snippet {
  snippet: string;
  /** The user-scope file the snippet belongs in. */
  file?: string;
}

/**
 * What to paste into (or run for) a client. Claude Code gets its own CLI command, which edits
 * its config safely even while it runs.
 */
export function configSnippet(
  kind: ClientKind,
  server: BridgeServer,
  launcher?: Launcher,
  where: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform } = {},
): Snippet {
  launcher ??= runningLauncher();
  const name = entrySlug(server.name, server.id);
  const file = defaultConfigPath(kind, where.env ?? process.env, where.platform ?? process.platform);
  if (kind === 'claude-code') {
    const { command, args } = bridgeCommand(server.id, launcher);
    const envFlags = Object.entries(launcher.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const snippet = ['claude', 'mcp', 'add', '--scope', 'user', ...envFlags, name, '--', command, ...args].map(shellQuote).join(' ');
    return { snippet, file };
  }
  const d = descriptor(kind);
  const entry = bridgeEntry(kind, server.id, launcher, name);
  if (d.format === 'toml') return { snippet: tableText([...d.container, name], entry, '\n').trimEnd(), file };
  let doc: JsonValue = d.list ? [entry] : { [name]: entry };
  for (let i = d.container.length - 1; i >= 0; i--) doc = { [d.container[i]!]: doc };
  if (d.format === 'yaml') return { snippet: yamlStringify(doc, { lineWidth: 0 }).trimEnd(), file };
  return { snippet: JSON.stringify(doc, null, 2), file };
}

function baseName(p: string): string {
  return (p.split(/[\\/]/).pop() ?? p).toLowerCase();
}

const OUR_NAMES = /mcp-tokens|mcp-token-manager|mcp token manager/i;

/**
 * The target of a bridge entry (`… mcp-tokens bridge <target>`), or undefined for any other
 * entry. Recognises npx, a global install, `node …/mcp-tokens.js` and the app's own binary.
 */
export function bridgeTargetOf(entry: JsonValue | undefined): string | undefined {
  const cmd = commandLineOf(entry);
  if (!cmd) return undefined;
  const argv = [cmd.command, ...cmd.args];
  const at = argv.indexOf('bridge');
  if (at < 1 || !argv.slice(0, at).some((a) => OUR_NAMES.test(baseName(a)) || OUR_NAMES.test(a))) return undefined;
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--name') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}
