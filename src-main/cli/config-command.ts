// `mcp-tokens config <client> <id> [--write [--file F]]`: print the client's bridge entry, or
// merge it into the client's config file (backup first). The clients and their files, formats
// and entry shapes are the table in core/clients/descriptors.ts.
import { assertLauncherWorks, configSnippet, runningLauncher, upsertBridgeEntry, withDataDir, type ClientFs, type Launcher } from '../core/clients/index.js';
import { descriptor, isClientKind } from '../core/clients/descriptors.js';
import { CLIENT_KINDS, CLIENT_NAMES, type ClientKind } from '../core/clients/locations.js';
import { UserError } from '../core/platform/errors.js';
import { openContext } from './context.js';

export interface ConfigCommandDeps {
  /** How clients start mcp-tokens (the app's bundled binary); default this Node and this CLI's bin script. */
  launcher?: Launcher;
  /** Checks the launcher starts before writing; default runs it with --version. */
  checkLauncher?: (l: Launcher, env: NodeJS.ProcessEnv) => Promise<void>;
  /** Finds a linked server; default: the vault through openContext. */
  lookup?: (idOrUrl: string) => Promise<{ id: string; name: string; url: string } | undefined>;
  fs?: ClientFs;
  now?: () => Date;
  platform?: NodeJS.Platform;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

const ALIASES: Record<string, ClientKind> = {
  'claude-desktop': 'claude',
  code: 'vscode',
  'vs-code': 'vscode',
  claudecode: 'claude-code',
  gemini: 'gemini-cli',
  'codex-cli': 'codex',
  copilot: 'copilot-cli',
  qwen: 'qwen-code',
  'continue-cli': 'continue',
  'kilo-code': 'kilo',
  kilocode: 'kilo',
  lmstudio: 'lm-studio',
  roo: 'roo-code',
  'code-insiders': 'vscode-insiders',
};

function parseKind(raw: string | undefined): ClientKind {
  const k = (raw ?? '').toLowerCase();
  const kind = isClientKind(k) ? k : ALIASES[k];
  if (!kind) throw new UserError('usage', `Unknown client "${raw ?? ''}".`, `Use one of: ${CLIENT_KINDS.join(', ')}.`);
  return kind;
}

export async function runConfigCommand(
  positionals: string[],
  opts: { write: boolean; file?: string; json: boolean; followSymlinks?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  deps: ConfigCommandDeps = {},
): Promise<number> {
  const stdout = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  if (positionals.length !== 2) throw new UserError('usage', '"config" takes a client and a server id.', `mcp-tokens config <${CLIENT_KINDS.join('|')}> <id> [--write [--file F]]`);
  const kind = parseKind(positionals[0]);
  const id = positionals[1]!;
  if (opts.file !== undefined && !opts.write) throw new UserError('usage', '--file needs --write.');
  if (opts.followSymlinks && !opts.write) throw new UserError('usage', '--follow-symlinks needs --write.');
  const client = CLIENT_NAMES[kind];

  const lookup =
    deps.lookup ??
    (async (x: string) => {
      const ctx = await openContext({ progress: (l) => stderr(`${l}\n`), env });
      return ctx.manager.lookup(x);
    });
  const view = await lookup(id);
  if (!view) throw new UserError('not-found', `No linked server "${id}".`, 'See `mcp-tokens list`, or link it first with `mcp-tokens link <url>`.');
  const server = { id: view.id, name: view.name, url: view.url };
  const platform = deps.platform ?? process.platform;
  // A non-default data dir travels in the entry: clients start the bridge with their own env.
  const launcher = withDataDir(deps.launcher ?? runningLauncher(), env, platform);
  const snip = configSnippet(kind, server, launcher, { env, platform });

  if (!opts.write) {
    if (opts.json) {
      stdout(`${JSON.stringify({ client: kind, clientName: client, server, file: snip.file ?? null, snippet: snip.snippet, written: false }, null, 2)}\n`);
    } else {
      stderr(kind === 'claude-code' ? `Run this to add "${server.name}" to Claude Code:\n` : `Add this to ${snip.file ?? `${client}'s config`} (or run again with --write):\n`);
      stdout(`${snip.snippet}\n`);
      const gate = descriptor(kind).gate;
      if (gate) stderr(`${gate}\n`);
    }
    return 0;
  }

  await (deps.checkLauncher ?? ((l, e) => assertLauncherWorks(l, { env: e })))(launcher, env);
  const r = await upsertBridgeEntry({
    kind,
    server,
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    launcher,
    followSymlinks: opts.followSymlinks === true,
    ...(deps.fs ? { fs: deps.fs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    env,
    platform,
  });
  if (opts.json) {
    stdout(
      `${JSON.stringify({ client: kind, clientName: client, server, file: r.file, name: r.name, action: r.action, created: r.created, backup: r.backup ?? null, nameTakenBy: r.nameTakenBy ?? null, gate: r.gate ?? null, written: r.action !== 'unchanged' }, null, 2)}\n`,
    );
    return 0;
  }
  if (r.action === 'unchanged') stderr(`${client} already has "${r.name}" for this server in ${r.file}; nothing changed.\n`);
  else {
    stderr(`${r.action === 'added' ? 'Added' : 'Updated'} "${r.name}" in ${r.file}${r.created ? ' (new file)' : ''}.\n`);
    if (r.backup) stderr(`Backup of the previous file: ${r.backup}\n`);
    if (r.nameTakenBy) stderr(`An unrelated entry already uses the name "${r.nameTakenBy}"; it was left as it was.\n`);
    stderr(
      kind === 'claude-code'
        ? `New Claude Code sessions pick it up. A running Claude Code may save over it: check with \`claude mcp list\`, or use \`${configSnippet(kind, server, launcher, { env, platform }).snippet}\`.\n`
        : `Restart ${client} to use it.\n`,
    );
  }
  // Said even when nothing changed: it is why the client may still not show the server.
  if (r.gate) stderr(`${r.gate}\n`);
  return 0;
}
