// `mcp-tokens`: the headless command line. Contract (DESIGN.md): --json on stdout, people's
// words on stderr, exit 0 ok / 1 failure with a one-line reason / 2 usage error.
import { readFile, stat } from 'node:fs/promises';
import { isUserError, UserError } from '../core/platform/errors.js';
import type { ServerView } from '../core/manager/manager.js';
import { redact as redactText } from '../core/platform/redact.js';
import { parseArgs, UsageError } from './args.js';
import { checkHeaders, parseHeaderFlag } from '../core/platform/custom-headers.js';

import { VERSION } from '../core/platform/version.js';

const USAGE = `Usage: mcp-tokens <command> [options]

Commands:
  link <url>      Discover, register, authorize and store a grant for a remote MCP server
                  [--name N] [--flow browser|device] [--client-id ID] [--client-secret-file F]
                  [--client-metadata-url URL] [--scope "a b"] [--no-open]
                  [--dpop auto|on|off] DPoP-bound tokens (RFC 9449); off for a server that refuses them
                  [--header "Name: value"]... sent by the bridge to this server only;
                  \${VAR} is read from the bridge's environment when it runs
                  A URL linked already: --name N signs that account in again, or adds
                  another account named N (its own id and tokens) [--login-hint ACCOUNT]
  link <url> --grant client-credentials --client-id ID (--client-secret-file F | --client-key-file KEY.pem)
                  Machine credentials (SEP-1046): no browser, a new token on expiry
  link <url> --grant jwt-bearer --assertion-file F [--client-id ID]
                  Workload identity (SEP-1933): the file is re-read at every token request
  link <url> --idp <name> --client-id ID [--client-secret-file F]
                  Company sign-in (SEP-990) through an identity provider added with \`idp add\`
  idp add <name> --issuer URL --client-id ID [--client-secret-file F] [--token-endpoint URL] [--id-token-file F]
  idp list | idp sign-in <name> | idp sign-out <name> | idp remove <name>
                  Company identity providers: one sign-in reused for every server that accepts it
  list            Linked servers and their state
  status [id]     One server (or all) in detail, and where secrets are kept
  refresh <id>    Refresh the access token now
  revoke <id>     Revoke the grant at the authorization server (RFC 7009) and drop the tokens
  unlink <id>     Revoke, then forget the server and its client registration
  bridge <id|url> The stdio MCP bridge for MCP clients (links a new URL on first use)
                  [--header "Name: value"]... added to the server's own headers
  daemon          The headless token broker [--idle-exit SECONDS]
  ui              Serve the manager UI on 127.0.0.1 and open it [--no-open] [--port N]
  config <client> <id> [--write [--file F] [--follow-symlinks]]
                  Print a client's config entry for the bridge, or merge it (with a backup).
                  Clients: claude, cursor, vscode, vscode-insiders, claude-code, gemini-cli,
                  codex, copilot-cli, opencode, qwen-code, cline, continue, kilo, windsurf,
                  zed, goose, lm-studio, roo-code
  migrate [--write [--follow-symlinks]] [--import-tokens [--delete-plaintext]]
                  Replace mcp-remote entries in MCP client configs with the bridge
                  (a config file that is a symlink is written only with --follow-symlinks)

Every command takes --json (machine output on stdout). Data lives in $MCP_TOKENS_HOME when set.
The browser is opened with $BROWSER when set, else the platform's opener.`;

const COMMON = { values: [] as string[], booleans: ['json', 'help'] };
const SPECS: Record<string, { values: readonly string[]; booleans: readonly string[]; multiple?: readonly string[]; min: number; max: number }> = {
  link: { values: ['name', 'flow', 'client-id', 'client-secret-file', 'client-metadata-url', 'scope', 'timeout', 'dpop', 'grant', 'client-key-file', 'assertion-file', 'idp', 'login-hint'], multiple: ['header'], booleans: ['no-open', ...COMMON.booleans], min: 1, max: 1 },
  list: { ...COMMON, min: 0, max: 0 },
  idp: { values: ['issuer', 'client-id', 'client-secret-file', 'token-endpoint', 'id-token-file', 'timeout'], booleans: ['no-open', ...COMMON.booleans], min: 1, max: 3 },
  status: { ...COMMON, min: 0, max: 1 },
  refresh: { ...COMMON, min: 1, max: 1 },
  revoke: { ...COMMON, min: 1, max: 1 },
  unlink: { ...COMMON, min: 1, max: 1 },
  daemon: { values: ['idle-exit'], booleans: COMMON.booleans, min: 0, max: 0 },
  bridge: { values: ['name'], multiple: ['header'], booleans: ['help'], min: 1, max: 1 },
  ui: { values: ['port'], booleans: [...COMMON.booleans, 'no-open'], min: 0, max: 0 },
  config: { values: ['file'], booleans: [...COMMON.booleans, 'write', 'follow-symlinks'], min: 2, max: 2 },
  migrate: { values: [], booleans: [...COMMON.booleans, 'write', 'import-tokens', 'delete-plaintext', 'follow-symlinks'], min: 0, max: 0 },
};

function err(line: string) {
  process.stderr.write(`${line}\n`);
}

function out(json: unknown) {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

async function readSecretFile(path: string): Promise<string> {
  let text: string;
  try {
    const st = await stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      err(`Warning: ${path} is readable by other users; consider chmod 600.`);
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError('usage', `Cannot read the client secret file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  const secret = text.trim();
  if (!secret) throw new UserError('usage', `The client secret file ${path} is empty.`);
  return secret;
}

function relTime(iso: string | undefined, now: number): string {
  if (!iso) return '-';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const unit = abs >= 86_400_000 ? `${Math.round(abs / 86_400_000)} d` : abs >= 3_600_000 ? `${Math.round(abs / 3_600_000)} h` : abs >= 60_000 ? `${Math.round(abs / 60_000)} min` : `${Math.round(abs / 1000)} s`;
  return ms >= 0 ? `in ${unit}` : `${unit} ago`;
}

function statusWord(v: ServerView): string {
  return v.status === 'needs-reauth' ? `needs-reauth (${v.reason ?? 'unknown'})` : v.status;
}

function printTable(views: ServerView[]) {
  const now = Date.now();
  const rows = [['ID', 'STATUS', 'EXPIRES', 'URL'], ...views.map((v) => [v.id, statusWord(v), relTime(v.expiresAt, now), v.url])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
}

function printDetail(v: ServerView) {
  const now = Date.now();
  const lines = [
    `${v.name} (${v.id})`,
    `  URL:            ${v.url}`,
    `  Resource:       ${v.resource}`,
    `  Authorization:  ${v.issuer}`,
    `  Signed in by:   ${v.grant.label}${v.grant.assertionFile ? ` (assertion file ${v.grant.assertionFile})` : ''}`,
    `  Status:         ${statusWord(v)}${v.detail ? ` — ${v.detail}` : ''}`,
    `  Scopes:         ${v.scopes.join(' ') || '(none)'}`,
    `  Access token:   ${v.expiresAt ? `expires ${relTime(v.expiresAt, now)} (${v.expiresAt})` : 'no expiry given'}`,
    `  Refresh token:  ${v.hasRefreshToken ? 'yes' : 'no'}${v.lastRefreshAt ? `, last refresh ${relTime(v.lastRefreshAt, now)}` : ''}`,
    `  Registration:   ${v.registration.method}${v.registration.clientId ? ` (client ${v.registration.clientId})` : ''}`,
    `  Secrets kept:   ${v.secretsKeptIn}${v.secretsWeak ? ' (weak protection)' : ''}`,
  ];
  if (v.headers?.length) lines.push(`  Headers:        ${v.headers.map((h) => `${h.name}: ${h.value}`).join(', ')}`);
  if (v.dpop) lines.push(`  DPoP:           ${v.dpop.bound ? `bound (key thumbprint ${v.dpop.thumbprint})` : 'off'}`);
  if (v.lastError) lines.push(`  Last error:     ${v.lastError}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const spec = SPECS[cmd];
  if (!spec) throw new UsageError(`Unknown command "${cmd}".`);
  const a = parseArgs(rest, spec);
  if (a.flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (a.positionals.length < spec.min || a.positionals.length > spec.max) {
    throw new UsageError(`"${cmd}" takes ${spec.min === spec.max ? spec.min : `${spec.min} to ${spec.max}`} argument${spec.max === 1 ? '' : 's'}.`);
  }
  const json = a.flags.has('json');
  if (cmd === 'bridge') {
    // The bridge never opens the vault: the broker is the one owner of tokens.
    const { runBridgeCommand } = await import('./bridge-command.js');
    return runBridgeCommand(a.positionals[0]!, { ...(a.values.name ? { name: a.values.name } : {}), ...(a.lists.header ? { headers: a.lists.header } : {}) });
  }
  if (cmd === 'config') {
    const { runConfigCommand } = await import('./config-command.js');
    return runConfigCommand(a.positionals, { write: a.flags.has('write'), json, followSymlinks: a.flags.has('follow-symlinks'), ...(a.values.file ? { file: a.values.file } : {}) });
  }
  if (cmd === 'migrate') {
    const { runMigrateCommand } = await import('./migrate-command.js');
    const { managerGrantImporter } = await import('../core/clients/import-grant.js');
    const importTokens = a.flags.has('import-tokens');
    if (a.flags.has('delete-plaintext') && !importTokens) throw new UsageError('--delete-plaintext needs --import-tokens.');
    const ctx = importTokens ? await openContext({ progress: err }) : undefined;
    return runMigrateCommand({ write: a.flags.has('write'), json, importTokens, deletePlaintext: a.flags.has('delete-plaintext'), followSymlinks: a.flags.has('follow-symlinks') }, process.env, {
      ...(ctx ? { importGrant: managerGrantImporter(ctx.manager) } : {}),
    });
  }
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  if (cmd === 'daemon') {
    const idle = a.values['idle-exit'] !== undefined ? Number(a.values['idle-exit']) : undefined;
    if (idle !== undefined && !(idle >= 0)) throw new UsageError('--idle-exit must be a number of seconds.');
    const { runDaemon } = await import('./daemon.js');
    // The daemon opens the vault itself, so a failure there reaches the bridge that started it.
    return runDaemon(() => openContext({ progress: err }), { ...(idle !== undefined ? { idleExitMs: idle * 1000 } : {}), version: VERSION });
  }
  const ctx = await openContext({ progress: err });
  for (const line of ctx.startupReport) err(`Note: ${line}`);
  if (cmd === 'ui') {
    const port = a.values.port !== undefined ? Number(a.values.port) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError('--port must be a port number.');
    const { runUiCommand } = await import('./ui-command.js');
    return runUiCommand(ctx, { open: !a.flags.has('no-open'), json, version: VERSION, ...(port !== undefined ? { port } : {}) });
  }
  const m = ctx.manager;

  switch (cmd) {
    case 'idp': {
      const { runIdpCommand } = await import('./idp-command.js');
      return runIdpCommand(m, { positionals: a.positionals, values: a.values, json, open: !a.flags.has('no-open'), signal: ac.signal }, err);
    }
    case 'link': {
      const { wantsGrant, linkGrantCommand } = await import('./grant-link.js');
      if (wantsGrant(a.values)) {
        const v = await linkGrantCommand(m, a.positionals[0]!, a.values, {
          ...(a.values.name ? { name: a.values.name } : {}),
          ...(a.values.scope !== undefined ? { scopes: a.values.scope.split(/\s+/).filter(Boolean) } : {}),
          ...(a.lists.header ? { headers: checkHeaders(a.lists.header.map(parseHeaderFlag)) } : {}),
        }, err);
        if (json) out({ id: v.id, url: v.url, resource: v.resource, issuer: v.issuer, scopes: v.scopes, expiresAt: v.expiresAt ?? null, grant: v.grant });
        else process.stdout.write(`${v.id}\n`);
        return 0;
      }
      if (a.values['client-key-file'] !== undefined || a.values['assertion-file'] !== undefined) throw new UsageError('--client-key-file and --assertion-file go with --grant.');
      const flow = a.values.flow;
      if (flow !== undefined && flow !== 'browser' && flow !== 'device') throw new UsageError('--flow must be "browser" or "device".');
      const timeout = a.values.timeout !== undefined ? Number(a.values.timeout) : undefined;
      if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout must be a number of seconds.');
      if (a.values['client-secret-file'] && !a.values['client-id']) throw new UsageError('--client-secret-file needs --client-id.');
      const dpop = a.values.dpop;
      if (dpop !== undefined && dpop !== 'auto' && dpop !== 'on' && dpop !== 'off') throw new UsageError('--dpop must be "auto", "on" or "off".');
      // A URL linked already: --name picks the account to sign in again, or names another account.
      const { cliLinkChoice } = await import('../core/manager/link.js');
      const { normalizeUrl } = await import('../core/manager/records.js');
      const choice = cliLinkChoice(await m.list(), normalizeUrl(a.positionals[0]!), a.values.name);
      if (choice.account === 'new') err(`Adding another account to ${a.positionals[0]!}: "${a.values.name}". Choose the account in the browser.`);
      const v = await m.link(a.positionals[0]!, {
        ...choice,
        ...(a.values['login-hint'] ? { loginHint: a.values['login-hint'] } : {}),
        ...(a.values.name ? { name: a.values.name } : {}),
        ...(flow ? { flow } : {}),
        ...(a.values['client-id'] ? { clientId: a.values['client-id'] } : {}),
        ...(a.values['client-secret-file'] ? { clientSecret: await readSecretFile(a.values['client-secret-file']) } : {}),
        ...(a.values['client-metadata-url'] ? { clientMetadataUrl: a.values['client-metadata-url'] } : {}),
        ...(dpop ? { dpop } : {}),
        ...(a.values.scope !== undefined ? { scopes: a.values.scope.split(/\s+/).filter(Boolean) } : {}),
        ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
        ...(a.lists.header ? { headers: checkHeaders(a.lists.header.map(parseHeaderFlag)) } : {}),
        open: !a.flags.has('no-open'),
        signal: ac.signal,
      });
      if (json) out({ id: v.id, url: v.url, resource: v.resource, issuer: v.issuer, scopes: v.scopes, expiresAt: v.expiresAt ?? null, ...(v.dpop ? { dpop: v.dpop } : {}), ...(v.note ? { note: v.note } : {}) });
      else process.stdout.write(`${v.id}\n`);
      return 0;
    }
    case 'list': {
      const views = await m.list();
      if (json) out({ servers: views, secretsKeptIn: ctx.cipher.description, secretsWeak: ctx.cipher.weak });
      else if (!views.length) err('No servers linked yet. Link one with `mcp-tokens link <url>`.');
      else printTable(views);
      return 0;
    }
    case 'status': {
      const id = a.positionals[0];
      const views = id ? [await m.status(id)] : await m.list();
      if (json) out(id ? views[0] : { servers: views, secretsKeptIn: ctx.cipher.description, secretsWeak: ctx.cipher.weak });
      else {
        views.forEach((v, i) => {
          if (i) process.stdout.write('\n');
          printDetail(v);
        });
        if (!id) process.stdout.write(`${views.length ? '\n' : ''}Secrets are kept in: ${ctx.cipher.description}\n`);
      }
      return 0;
    }
    case 'refresh': {
      const v = await refreshThroughBroker(ctx.home, a.positionals[0]!, () => m.refresh(a.positionals[0]!));
      if (json) out(v);
      else if (v.note) err(v.note);
      else err(`Refreshed "${v.id}"; the access token ${v.expiresAt ? `expires ${relTime(v.expiresAt, Date.now())}` : 'has no stated expiry'}.`);
      return 0;
    }
    case 'revoke': {
      const r = await m.revoke(a.positionals[0]!);
      if (json) out({ id: r.view.id, revokedAtAs: r.revokedAtAs, note: r.note ?? null, asAnswer: r.asAnswer ?? null, status: r.view.status, reason: r.view.reason ?? null });
      else err(`"${r.view.id}" is ${r.asAnswer === undefined ? 'revoked' : 'signed out here'}; it stays linked and shows needs-reauth until you link it again.`);
      return 0;
    }
    case 'unlink': {
      const r = await m.unlink(a.positionals[0]!);
      if (json) out(r);
      return 0;
    }
  }
  return 2;
}

/** Loaded only by commands that open the vault: the bridge never does, and starts faster for it. */
async function openContext(opts: { progress: (line: string) => void }) {
  return (await import('./context.js')).openContext(opts);
}

/**
 * Refresh through a running broker (the app or the daemon), so it happens in line with the
 * bridges' own requests; with no broker running, the vault lock gives the same guarantee.
 */
async function refreshThroughBroker(home: string, id: string, direct: () => Promise<ServerView & { note?: string }>): Promise<ServerView & { note?: string }> {
  const { BrokerClient } = await import('../core/broker/client.js');
  const { brokerAddress } = await import('../core/broker/protocol.js');
  const c = new BrokerClient({ address: brokerAddress(home), home, clientName: 'cli' });
  try {
    await c.request('hello', { client: 'cli' }, 2000);
  } catch {
    c.close();
    return direct();
  }
  try {
    const r = await c.request('refresh', { server: id }, 60_000);
    return { ...r.server, ...(r.note ? { note: r.note } : {}) };
  } finally {
    c.close();
  }
}

async function main() {
  let code: number;
  try {
    code = await run(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      err(`mcp-tokens: ${e.message}\nRun \`mcp-tokens --help\` for usage.`);
      code = 2;
    } else if (isUserError(e)) {
      err(`mcp-tokens: ${redactText(e.message)}`);
      if (e.hint) err(`  ${redactText(e.hint)}`);
      code = e.code === 'usage' ? 2 : 1;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      err(`mcp-tokens: unexpected error: ${redactText(msg)}`);
      if (process.env.MCP_TOKENS_DEBUG && e instanceof Error && e.stack) err(redactText(e.stack));
      code = 1;
    }
  }
  process.exitCode = code;
  // Timers (keep-alive sockets, lock retries) must not hold a finished command open.
  setTimeout(() => process.exit(code), 50).unref();
}

void main();
