// The MCP-client channels of the contract (`clients/*`): write the bridge entry into a client's
// config, and the mcp-remote migration. Only secret-free summaries leave this module: the plan
// and the result keep URLs without query values, commands without header values, no tokens.
import {
  applyMigration,
  managerGrantImporter,
  planMigration,
  runningLauncher,
  upsertBridgeEntry,
  withDataDir,
  type ApplyResult,
  type ClientFs,
  type ImportGrant,
  type Launcher,
  type MigrationPlan,
  type UpsertResult,
} from '../clients/index.js';
import { UserError } from '../platform/errors.js';
import type { Manager } from '../manager/manager.js';
import { redact } from '../platform/redact.js';
import type { ClientAddResult, ClientKind, MigrateOptions, MigrationPlanSummary, MigrationResultSummary } from '../../../src-shared/contract.js';

export interface ClientsDeps {
  manager: Pick<Manager, 'status' | 'importGrant'>;
  /** Where the client configs are (HOME, APPDATA, XDG_CONFIG_HOME…); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How the entries start the bridge (the packaged app's own binary); default this installation's Node and bin script. */
  launcher?: Launcher;
  /** Re-seals one mcp-remote grant; default: the manager's import, as `mcp-tokens migrate` does. */
  importGrant?: ImportGrant;
  /** A project whose `.cursor/mcp.json`, `.vscode/mcp.json`, `.mcp.json` count too; default none (the app has no project). */
  projectDir?: string;
  /** mcp-remote's token directory; default $MCP_REMOTE_CONFIG_DIR or ~/.mcp-auth. */
  authDir?: string;
  fs?: ClientFs;
  platform?: NodeJS.Platform;
  now?: () => Date;
}

const CLAUDE_CODE_NOTE = 'New Claude Code sessions pick it up. A Claude Code that is running may save over the file: check with `claude mcp list`.';

export function clientAddResult(kind: ClientKind, r: UpsertResult): ClientAddResult {
  return {
    client: kind,
    file: r.file,
    name: r.name,
    action: r.action,
    created: r.created,
    ...(r.backup !== undefined ? { backup: r.backup } : {}),
    ...(r.nameTakenBy !== undefined ? { nameTakenBy: r.nameTakenBy } : {}),
    ...(kind === 'claude-code' && r.action !== 'unchanged' ? { note: CLAUDE_CODE_NOTE } : r.gate !== undefined ? { note: r.gate } : {}),
  };
}

export function summarizePlan(plan: MigrationPlan): MigrationPlanSummary {
  return {
    entries: plan.entries.map((e) => ({
      client: e.client,
      kind: e.kind,
      scope: e.scope,
      file: e.file,
      name: e.name,
      // displayUrl hides query values (API keys are sometimes passed that way).
      ...(e.displayUrl !== undefined ? { url: e.displayUrl } : {}),
      action: e.action,
      before: redact(e.before),
      ...(e.after !== undefined ? { after: redact(e.after) } : {}),
      notes: e.notes.map((n) => ({ flag: redact(n.flag), kind: n.kind, text: redact(n.text) })),
      ...(e.linkCommand !== undefined ? { linkCommand: redact(e.linkCommand) } : {}),
      hasGrant: e.grant !== undefined,
      ...(e.grant ? { grantHasRefreshToken: e.grant.hasRefreshToken } : {}),
      ...(e.grant?.expiresAt !== undefined ? { grantExpiresAt: e.grant.expiresAt } : {}),
    })),
    unreadable: plan.files
      .filter((f) => f.error !== undefined)
      .map((f) => ({ file: f.path, client: f.client, error: redact(f.error ?? ''), mentionsMcpRemote: f.mentionsMcpRemote === true })),
    unmatchedGrants: plan.unmatchedGrants.length,
    authDir: plan.authDir,
  };
}

export function summarizeApply(r: ApplyResult): MigrationResultSummary {
  return {
    files: r.files.map((f) => ({
      file: f.path,
      client: f.client,
      ...(f.backup !== undefined ? { backup: f.backup } : {}),
      replaced: f.replaced,
      skipped: f.skipped.map((s) => ({ name: s.name, reason: redact(s.reason) })),
      ...(f.error !== undefined ? { error: redact(f.error) } : {}),
    })),
    imports: r.imports.map((i) => ({
      server: i.server,
      ok: i.ok,
      ...(i.id !== undefined ? { id: i.id } : {}),
      ...(i.error !== undefined ? { error: redact(i.error) } : {}),
      deletedFiles: i.deletedFiles,
    })),
  };
}

export interface ClientsApi {
  add(serverId: string, kind: ClientKind): Promise<ClientAddResult>;
  plan(): Promise<MigrationPlanSummary>;
  migrate(o: MigrateOptions): Promise<MigrationResultSummary>;
}

export function clientsApi(d: ClientsDeps): ClientsApi {
  const env = () => d.env ?? process.env;
  // A non-default data dir travels in the entry: clients start the bridge with their own env.
  const launcher = () => withDataDir(d.launcher ?? runningLauncher(), env(), d.platform);
  const planOptions = () => ({
    ...(d.projectDir !== undefined ? { projectDir: d.projectDir } : {}),
    ...(d.authDir !== undefined ? { authDir: d.authDir } : {}),
    launcher: launcher(),
    ...(d.fs ? { fs: d.fs } : {}),
    ...(d.platform ? { platform: d.platform } : {}),
  });
  let migrating = false;

  return {
    async add(serverId, kind) {
      const v = await d.manager.status(serverId);
      const r = await upsertBridgeEntry({
        kind,
        server: { id: v.id, name: v.name, url: v.url },
        env: env(),
        launcher: launcher(),
        ...(d.fs ? { fs: d.fs } : {}),
        ...(d.platform ? { platform: d.platform } : {}),
        ...(d.now ? { now: d.now } : {}),
      });
      return clientAddResult(kind, r);
    },

    async plan() {
      return summarizePlan(await planMigration(env(), planOptions()));
    },

    async migrate(o) {
      // A second click while the first runs would import the same grants twice.
      if (migrating) throw new UserError('usage', 'A migration is already running.', 'Wait for it to finish.');
      migrating = true;
      try {
        // Planned afresh: the entries are re-read now, and apply skips any that change meanwhile.
        const plan = await planMigration(env(), planOptions());
        const r = await applyMigration(plan, {
          importTokens: o.importTokens,
          deletePlaintext: o.importTokens && o.deletePlaintext,
          ...(o.importTokens ? { importGrant: d.importGrant ?? managerGrantImporter(d.manager) } : {}),
          ...(d.fs ? { fs: d.fs } : {}),
          ...(d.now ? { now: d.now } : {}),
        });
        return summarizeApply(r);
      } finally {
        migrating = false;
      }
    },
  };
}
