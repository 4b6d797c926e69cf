// `mcp-tokens migrate [--write] [--import-tokens [--delete-plaintext]]`: replace mcp-remote
// entries in every MCP client's config with the bridge. Without --write it only shows the plan.
// Tokens are never printed: grants are described by whether they exist and when they expire.
import { applyMigration, assertLauncherWorks, planMigration, runningLauncher, withDataDir, type ApplyResult, type ClientFs, type ImportGrant, type Launcher, type MigrationPlan, type PlannedEntry } from '../core/clients/index.js';
import type { NoteKind } from '../core/clients/mcp-remote-notes.js';
import { UserError } from '../core/platform/errors.js';

export interface MigrateCommandDeps {
  /** Re-encrypts one mcp-remote grant into the vault; needed for --import-tokens. */
  importGrant?: ImportGrant;
  /** How clients start mcp-tokens; default this Node and this CLI's bin script. */
  launcher?: Launcher;
  /** Checks the launcher starts before writing; default runs it with --version. */
  checkLauncher?: (l: Launcher, env: NodeJS.ProcessEnv) => Promise<void>;
  /** Whose `.cursor/mcp.json`, `.vscode/mcp.json` and `.mcp.json` count; default the cwd. */
  projectDir?: string;
  authDir?: string;
  fs?: ClientFs;
  now?: () => Date;
  platform?: NodeJS.Platform;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

const MARK: Record<NoteKind, string> = { automatic: '✓', dropped: '-', action: '!', blocking: '✗' };

function entryLines(e: PlannedEntry, write: boolean, importTokens: boolean): string[] {
  const lines = [`  ${e.name}: ${e.before}`];
  if (e.action === 'replace') lines.push(`    → ${e.after ?? ''}`);
  else lines.push('    stays on mcp-remote:');
  for (const n of e.notes) lines.push(`    ${MARK[n.kind]} ${n.flag}: ${n.text}`);
  if (e.linkCommand) lines.push(`    then, before first use: ${e.linkCommand}`);
  if (e.grant) {
    const g = e.grant;
    const what = `mcp-remote grant found (${g.hasRefreshToken ? 'with a refresh token' : 'no refresh token'}${g.expiresAt ? `, access token expires ${g.expiresAt}` : ''})`;
    const then = e.action !== 'replace' ? '' : importTokens ? (write ? '; importing it' : '; would be imported') : '; add --import-tokens to keep it';
    lines.push(`    ${what}${then}`);
  }
  return lines;
}

function publicPlan(plan: MigrationPlan) {
  return {
    files: plan.files.map((f) => ({ path: f.path, client: f.client, scope: f.scope, exists: f.exists, error: f.error ?? null })),
    entries: plan.entries.map((e) => ({
      file: e.file,
      client: e.client,
      scope: e.scope,
      name: e.name,
      server: e.displayUrl ?? null,
      action: e.action,
      before: e.before,
      after: e.after ?? null,
      notes: e.notes,
      linkCommand: e.linkCommand ?? null,
      grant: e.grant ?? null,
    })),
    unmatchedGrants: plan.unmatchedGrants,
  };
}

export async function runMigrateCommand(
  opts: { write: boolean; json: boolean; importTokens: boolean; deletePlaintext: boolean; followSymlinks?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  deps: MigrateCommandDeps = {},
): Promise<number> {
  const stdout = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  if (opts.deletePlaintext && !opts.importTokens) throw new UserError('usage', '--delete-plaintext needs --import-tokens.');
  if (opts.importTokens && opts.write && !deps.importGrant) {
    throw new UserError('vault', 'Importing mcp-remote grants is not available in this build.', 'Run without --import-tokens; the bridge signs in again on first use.');
  }
  const launcher = withDataDir(deps.launcher ?? runningLauncher(), env, deps.platform);
  const plan = await planMigration(env, {
    projectDir: deps.projectDir ?? process.cwd(),
    ...(deps.authDir !== undefined ? { authDir: deps.authDir } : {}),
    launcher,
    ...(deps.fs ? { fs: deps.fs } : {}),
    ...(deps.platform ? { platform: deps.platform } : {}),
  });

  let applied: ApplyResult | undefined;
  if (opts.write && plan.entries.some((e) => e.action === 'replace')) {
    await (deps.checkLauncher ?? ((l, e) => assertLauncherWorks(l, { env: e })))(launcher, env);
  }
  if (opts.write) {
    applied = await applyMigration(plan, {
      importTokens: opts.importTokens,
      deletePlaintext: opts.deletePlaintext,
      followSymlinks: opts.followSymlinks === true,
      ...(deps.importGrant ? { importGrant: deps.importGrant } : {}),
      ...(deps.fs ? { fs: deps.fs } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
  }
  const unreadable = plan.files.filter((f) => f.error);
  const failed = Boolean(applied?.files.some((f) => f.error) || applied?.imports.some((i) => !i.ok) || unreadable.some((f) => f.mentionsMcpRemote));

  if (opts.json) {
    stdout(`${JSON.stringify({ write: opts.write, ...publicPlan(plan), applied: applied ?? null }, null, 2)}\n`);
    return failed ? 1 : 0;
  }

  const say = (l = '') => stderr(`${l}\n`);
  const replaceable = plan.entries.filter((e) => e.action === 'replace');
  if (!plan.entries.length) {
    const seen = plan.files.filter((f) => f.exists && !f.error).map((f) => f.path);
    say(seen.length ? `No mcp-remote entries found in:\n${seen.map((p) => `  ${p}`).join('\n')}` : 'No MCP client config files found.');
  } else {
    say(`Found ${plan.entries.length} mcp-remote ${plan.entries.length === 1 ? 'entry' : 'entries'}; ${replaceable.length} can move to the bridge.`);
    for (const f of plan.files) {
      const es = plan.entries.filter((e) => e.file === f.path);
      if (!es.length) continue;
      say();
      say(`${f.client} (${f.scope}) — ${f.path}`);
      for (const e of es) for (const l of entryLines(e, opts.write, opts.importTokens)) say(l);
    }
  }
  for (const f of unreadable) {
    say();
    say(`Skipped ${f.path}: ${f.error}${f.mentionsMcpRemote ? ' It mentions mcp-remote, so entries may have been missed.' : ''}`);
  }
  if (plan.unmatchedGrants.length) {
    say();
    say(`${plan.unmatchedGrants.length} more mcp-remote grant(s) in ${plan.authDir} belong to no entry found here (server unknown); they are left alone.`);
  }
  if (!applied) {
    if (replaceable.length) {
      say();
      say('Nothing was changed. Run `mcp-tokens migrate --write` to apply this (each file is backed up first).');
    }
    return failed ? 1 : 0;
  }
  say();
  for (const i of applied.imports) {
    say(i.ok ? `Imported the grant for ${i.server}${i.id ? ` as "${i.id}"` : ''}${i.deletedFiles ? `; deleted ${i.deletedFiles} plaintext file(s)` : ''}.` : `Could not import the grant for ${i.server}: ${i.error ?? 'unknown error'}. The bridge will sign in on first use.`);
  }
  for (const f of applied.files) {
    if (f.error) say(`Not changed: ${f.path}: ${f.error}`);
    else if (f.replaced.length) say(`Updated ${f.path}: ${f.replaced.join(', ')}${f.backup ? ` (backup: ${f.backup})` : ''}.`);
    for (const s of f.skipped) say(`  Skipped ${s.name}: ${s.reason}.`);
  }
  if (applied.files.some((f) => f.replaced.length)) say('Restart the affected clients to use the bridge.');
  return failed ? 1 : 0;
}
