// An entry's command line in each client's own shape, both ways: reading it (whatever shape it
// is written in, so migrate and "who uses the bridge" see every client's entries) and writing it.
import type { JsonValue } from './jsonc.js';
import type { ClientDescriptor, EntryShape } from './descriptors.js';

export interface CommandLine {
  command: string;
  args: string[];
  env: Record<string, string>;
}

type Obj = { [k: string]: JsonValue };

function isObject(v: JsonValue | undefined): v is Obj {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function strings(v: JsonValue | undefined): string[] | undefined {
  return Array.isArray(v) && v.every((a) => typeof a === 'string') ? (v as string[]) : undefined;
}

function stringMap(v: JsonValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * The command line of an entry in any client's shape: `command` + `args` (most), `command` as an
 * array (opencode, Kilo), `cmd` + `args` (Goose), `command: { path, args }` (Zed's older form).
 */
export function commandLineOf(entry: JsonValue | undefined): CommandLine | undefined {
  if (!isObject(entry)) return undefined;
  const env = { ...stringMap(entry.env), ...stringMap(entry.environment), ...stringMap(entry.envs) };
  const { command } = entry;
  if (typeof command === 'string') {
    const args = entry.args === undefined ? [] : strings(entry.args);
    return args ? { command, args, env } : undefined;
  }
  const argv = strings(command);
  if (argv && argv.length) return { command: argv[0]!, args: argv.slice(1), env };
  if (typeof entry.cmd === 'string') {
    const args = entry.args === undefined ? [] : strings(entry.args);
    return args ? { command: entry.cmd, args, env } : undefined;
  }
  if (isObject(command) && typeof command.path === 'string') {
    const args = command.args === undefined ? [] : strings(command.args);
    return args ? { command: command.path, args, env: { ...env, ...stringMap(command.env) } } : undefined;
  }
  return undefined;
}

function envKey(shape: EntryShape): string {
  return shape === 'opencode' ? 'environment' : shape === 'goose' ? 'envs' : 'env';
}

interface Parts {
  /** Always ours: the command line (and `type`, which says how it is started). */
  core: Obj;
  /** Only in a new entry: settings the person may have changed since (enabled, tools, …). */
  defaults: Obj;
}

function parts(d: ClientDescriptor, name: string, cmd: { command: string; args: string[]; env?: Record<string, string> }): Parts {
  const env = cmd.env && Object.keys(cmd.env).length ? { [envKey(d.shape)]: { ...cmd.env } } : {};
  const plain = { command: cmd.command, args: [...cmd.args], ...env };
  switch (d.shape) {
    case 'plain':
      return { core: plain, defaults: {} };
    case 'stdio':
      return { core: { type: 'stdio', ...plain }, defaults: {} };
    case 'copilot':
      // Copilot CLI's documented shape lists the tools the agent may use; "*" is all of them.
      return { core: { type: 'local', ...plain }, defaults: { tools: ['*'] } };
    case 'qwen':
      // Without it Qwen Code defers MCP tools behind its tool search and the model does not see them.
      return { core: plain, defaults: { alwaysLoadTools: true } };
    case 'opencode':
      return { core: { type: 'local', command: [cmd.command, ...cmd.args], ...env }, defaults: { enabled: true } };
    case 'goose':
      return { core: { type: 'stdio', cmd: cmd.command, args: [...cmd.args], ...env }, defaults: { name, enabled: true, timeout: 300 } };
    case 'continue':
      return { core: { name, ...plain }, defaults: {} };
  }
}

/** A new entry in the client's shape. */
export function ownEntry(d: ClientDescriptor, name: string, cmd: { command: string; args: string[]; env?: Record<string, string> }): Obj {
  const { core, defaults } = parts(d, name, cmd);
  return { ...pick(core, ['name', 'type']), ...defaults, ...core };
}

function pick(o: Obj, keys: string[]): Obj {
  return Object.fromEntries(keys.filter((k) => Object.hasOwn(o, k)).map((k) => [k, o[k]!]));
}

/**
 * The entry after writing our command line into `old` (an entry of the user's, or ours from
 * before): every other key of the user's stays (a disabled entry stays disabled); the env is the
 * user's with ours on top.
 */
export function mergedEntry(d: ClientDescriptor, name: string, old: JsonValue | undefined, cmd: { command: string; args: string[]; env?: Record<string, string> }): Obj {
  if (!isObject(old)) return ownEntry(d, name, cmd);
  const { core, defaults } = parts(d, name, cmd);
  const k = envKey(d.shape);
  const merged: Obj = { ...defaults, ...old, ...core };
  if (isObject(old[k]) && isObject(core[k])) merged[k] = { ...old[k], ...core[k] };
  return merged;
}
