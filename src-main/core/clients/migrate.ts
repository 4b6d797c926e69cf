// `mcp-tokens migrate`: find entries that run mcp-remote in every client config, plan their
// replacement by the bridge (saying what carries over and what does not), and apply the plan
// file by file with a backup each. Optionally hand mcp-remote's stored grants to an importer.
import { createHash } from 'node:crypto';
import { redact } from '../platform/redact.js';
import { isUserError } from '../platform/errors.js';
import { bridgeCommand, shellQuote, type Launcher } from './entries.js';
import { runningLauncher } from './launcher.js';
import { nodeClientFs, parseConfigText, withFreshConfig, writeConfig, type ClientFs, type LoadedConfig } from './config-file.js';
import { descriptor } from './descriptors.js';
import { entriesIn, textWithEntry } from './entry-edit.js';
import { bestGrantFor, deleteGrantFiles, mcpRemoteAuthDir, readMcpRemoteGrants, summarizeGrant, type GrantSummary, type McpRemoteClientInfo, type McpRemoteGrant, type McpRemoteTokens } from './grants.js';
import type { ClientKind, ClientName } from './locations.js';
import { describeCommand, displayServerUrl, mcpRemoteHashes, parseMcpRemote, type McpRemoteInvocation } from './mcp-remote.js';
import { migrationNotes, type MigrationNote, type NotesResult } from './mcp-remote-notes.js';
import { scanClientConfigs, type ScanOptions } from './scan.js';
import { commandLineOf, mergedEntry } from './shapes.js';

export interface PlannedEntry {
  file: string;
  kind: ClientKind;
  client: ClientName;
  scope: 'user' | 'project';
  /** Keys of the entry in the file: the container's, then the entry's name. */
  path: string[];
  /** The entry's key. */
  name: string;
  /** The server URL as written (may carry a query); print `displayUrl` instead. */
  url?: string;
  displayUrl?: string;
  /** The current command line, header values and client info hidden. */
  before: string;
  /** `replace` with the bridge, or `keep` on mcp-remote because a blocking note says why. */
  action: 'replace' | 'keep';
  /** The new `command` and `args`, and env keys added to the entry's own (other keys stay). */
  replacement?: { command: string; args: string[]; env?: Record<string, string> };
  /** The replacement for people, URL query values hidden. */
  after?: string;
  notes: MigrationNote[];
  /** Run before the first use when the registration settings need carrying over. */
  linkCommand?: string;
  /** mcp-remote's possible store keys for this entry. */
  hashes: string[];
  grant?: GrantSummary;
  /** Fingerprint of the original command line: apply refuses if the entry changed since. */
  fingerprint: string;
}

export interface PlannedFile {
  path: string;
  kind: ClientKind;
  client: ClientName;
  scope: 'user' | 'project';
  exists: boolean;
  /** Parse error (with line and column); the file is left alone. */
  error?: string;
  /** True when an unreadable file mentions mcp-remote: entries may be missed. */
  mentionsMcpRemote?: boolean;
}

export interface MigrationPlan {
  files: PlannedFile[];
  entries: PlannedEntry[];
  /** Grants in mcp-remote's store that no entry accounts for (server unknown). */
  unmatchedGrants: GrantSummary[];
  authDir: string;
}

export interface PlanOptions extends ScanOptions {
  launcher?: Launcher;
  /** mcp-remote's base dir; default $MCP_REMOTE_CONFIG_DIR or ~/.mcp-auth. */
  authDir?: string;
}

function fingerprint(command: string, args: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([command, ...args])).digest('hex');
}

/** The bridge's command line; `cmd /c` wrappers (there for npx's .cmd shim) go: the launcher is a real executable. */
function replacementFor(url: string, launcher: Launcher, headers: NotesResult['bridgeHeaders'], envAdd: Record<string, string>): { command: string; args: string[]; env?: Record<string, string> } {
  const cmd = bridgeCommand(url, launcher);
  const env = { ...envAdd, ...launcher.env };
  return {
    command: cmd.command,
    args: [...cmd.args, ...headers.flatMap((h) => ['--header', `${h.name}: ${h.value}`])],
    ...(Object.keys(env).length ? { env } : {}),
  };
}

export async function planMigration(env: NodeJS.ProcessEnv, opts: PlanOptions = {}): Promise<MigrationPlan> {
  const fs = opts.fs ?? nodeClientFs;
  const launcher = opts.launcher ?? runningLauncher();
  const authDir = opts.authDir ?? mcpRemoteAuthDir(env, opts.platform);
  const scanned = await scanClientConfigs(env, opts);
  const files: PlannedFile[] = [];
  const entries: PlannedEntry[] = [];
  const invocations: McpRemoteInvocation[] = [];
  for (const f of scanned) {
    const pf: PlannedFile = { path: f.path, kind: f.kind, client: f.client, scope: f.scope, exists: f.exists };
    if (f.error) {
      pf.error = f.error.message;
      try {
        pf.mentionsMcpRemote = (await fs.readFile(f.path)).toString('utf8').includes('mcp-remote');
      } catch {
        pf.mentionsMcpRemote = false;
      }
    }
    files.push(pf);
    for (const c of f.containers) {
      for (const name of Object.keys(c.entries)) {
        const cmd = commandLineOf(c.entries[name]);
        if (!cmd) continue;
        const inv = parseMcpRemote(cmd.command, cmd.args);
        if (!inv) continue;
        invocations.push(inv);
        const { notes, linkFlags, bridgeHeaders, envAdd } = migrationNotes(inv, cmd.env);
        const blocked = notes.some((n) => n.kind === 'blocking');
        const url = inv.url;
        const e: PlannedEntry = {
          file: f.path,
          kind: f.kind,
          client: f.client,
          scope: f.scope,
          path: [...c.path, name],
          name,
          ...(url !== undefined ? { url, displayUrl: displayServerUrl(url) } : {}),
          before: describeCommand(cmd.command, cmd.args),
          action: blocked || url === undefined ? 'keep' : 'replace',
          notes,
          hashes: mcpRemoteHashes(inv),
          fingerprint: fingerprint(cmd.command, cmd.args),
        };
        if (e.action === 'replace' && url !== undefined) {
          e.replacement = replacementFor(url, launcher, bridgeHeaders, envAdd);
          e.after = describeCommand(e.replacement.command, e.replacement.args);
          if (linkFlags.length) e.linkCommand = ['mcp-tokens', 'link', displayServerUrl(url), ...linkFlags].map(shellQuote).join(' ');
        }
        entries.push(e);
      }
    }
  }
  const grants = await readMcpRemoteGrants(authDir, { candidates: invocations, fs });
  for (const e of entries) {
    const g = e.url !== undefined ? bestGrantFor(grants, e.url) : undefined;
    if (g) e.grant = summarizeGrant(g);
  }
  const matched = new Set(entries.flatMap((e) => e.hashes));
  const unmatchedGrants = grants.filter((g) => !matched.has(g.hash)).map(summarizeGrant);
  return { files, entries, unmatchedGrants, authDir };
}

// ------------------------------------------------------------------ apply

/** What the importer gets: the raw grant. It must never log or echo the tokens. */
export interface GrantToImport {
  serverUrl: string;
  hash: string;
  store: string;
  tokens: McpRemoteTokens;
  clientInfo?: McpRemoteClientInfo;
  /** The authorization server, when mcp-remote recorded it. */
  issuer?: string;
}

/** Re-encrypts one grant into the vault (wired by the CLI/app); returns the server id. */
export type ImportGrant = (grant: GrantToImport) => Promise<{ id?: string } | void>;

export interface ApplyOptions {
  fs?: ClientFs;
  now?: () => Date;
  importTokens?: boolean;
  /** Delete mcp-remote's plaintext files of each grant imported (and no longer used by a kept entry). */
  deletePlaintext?: boolean;
  importGrant?: ImportGrant;
  /** Write to the files symlinks point to (`--follow-symlinks`); default: refuse them. */
  followSymlinks?: boolean;
}

export interface AppliedFile {
  path: string;
  client: ClientName;
  backup?: string;
  replaced: string[];
  skipped: Array<{ name: string; reason: string }>;
  error?: string;
}

export interface ImportOutcome {
  /** Query values hidden. */
  server: string;
  hash: string;
  ok: boolean;
  id?: string;
  error?: string;
  deletedFiles: number;
}

export interface ApplyResult {
  files: AppliedFile[];
  imports: ImportOutcome[];
}

function messageOf(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}

async function importGrants(plan: MigrationPlan, opts: ApplyOptions, fs: ClientFs): Promise<ImportOutcome[]> {
  const importGrant = opts.importGrant;
  if (!importGrant) throw new Error('importTokens needs an importGrant function');
  const replaced = plan.entries.filter((e) => e.action === 'replace' && e.url !== undefined);
  const keptHashes = new Set(plan.entries.filter((e) => e.action === 'keep').flatMap((e) => e.hashes));
  const all = await readMcpRemoteGrants(plan.authDir, { fs });
  const out: ImportOutcome[] = [];
  const done = new Set<string>();
  for (const e of replaced) {
    const url = e.url!;
    if (done.has(url)) continue;
    done.add(url);
    const grant = bestGrantFor(
      all.filter((g) => e.hashes.includes(g.hash)).map((g): McpRemoteGrant => ({ ...g, serverUrl: url })),
      url,
    );
    if (!grant) continue;
    const issuer = typeof grant.tokens.issuer === 'string' ? grant.tokens.issuer : grant.clientInfo?.issuer;
    const outcome: ImportOutcome = { server: displayServerUrl(url), hash: grant.hash, ok: false, deletedFiles: 0 };
    try {
      const r = await importGrant({
        serverUrl: url,
        hash: grant.hash,
        store: grant.store,
        tokens: grant.tokens,
        ...(grant.clientInfo ? { clientInfo: grant.clientInfo } : {}),
        ...(typeof issuer === 'string' ? { issuer } : {}),
      });
      outcome.ok = true;
      if (r && r.id !== undefined) outcome.id = r.id;
    } catch (err) {
      outcome.error = messageOf(err);
    }
    if (outcome.ok && opts.deletePlaintext && !keptHashes.has(grant.hash)) {
      // Every store's copy of this grant goes, not only the one imported.
      for (const g of all.filter((x) => x.hash === grant.hash)) outcome.deletedFiles += (await deleteGrantFiles(g, fs)).length;
    }
    out.push(outcome);
  }
  return out;
}

/**
 * Applies the `replace` entries of a plan. Each file is re-read; an entry that changed since the
 * plan is skipped, not overwritten. One file failing does not stop the others.
 */
export async function applyMigration(plan: MigrationPlan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const fs = opts.fs ?? nodeClientFs;
  // Import first: once the clients restart on the new entries, the grant is already there.
  const imports = opts.importTokens ? await importGrants(plan, opts, fs) : [];
  const byFile = new Map<string, PlannedEntry[]>();
  for (const e of plan.entries) if (e.action === 'replace' && e.replacement) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  const files: AppliedFile[] = [];
  for (const [file, planned] of byFile) {
    const first = planned[0]!;
    const d = descriptor(first.kind);
    const result: AppliedFile = { path: file, client: first.client, replaced: [], skipped: [] };
    try {
      await withFreshConfig(file, d.format, fs, async (cfg) => {
        result.replaced = [];
        result.skipped = [];
        let now: LoadedConfig = cfg;
        for (const e of planned) {
          const container = e.path.slice(0, -1);
          const old = entriesIn(now, d, container)[e.name];
          const cmd = commandLineOf(old);
          if (!cmd || fingerprint(cmd.command, cmd.args) !== e.fingerprint) {
            result.skipped.push({ name: e.name, reason: 'the entry changed since the plan was made' });
            continue;
          }
          const text = textWithEntry(now, d, e.name, mergedEntry(d, e.name, old, e.replacement!), container);
          now = { ...now, text, blank: false, ...parseConfigText(file, text, d.format) };
          result.replaced.push(e.name);
        }
        if (now === cfg) return;
        const w = await writeConfig(cfg, now.text, opts);
        if (w.backup !== undefined) result.backup = w.backup;
      });
    } catch (err) {
      result.replaced = [];
      result.error = isUserError(err) ? err.message : messageOf(err);
    }
    files.push(result);
  }
  return { files, imports };
}
