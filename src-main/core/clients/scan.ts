// Reading every client config there is, for migrate and for "which clients use this server".
import { bridgeTargetOf } from './entries.js';
import { ConfigFileError, loadConfig, nodeClientFs, type ClientFs, type LoadedConfig } from './config-file.js';
import { descriptor } from './descriptors.js';
import { entriesIn } from './entry-edit.js';
import type { JsonValue } from './jsonc.js';
import { CLIENT_KINDS, CLIENT_NAMES, clientConfigLocations, type ClientFileLocation, type ClientName, type LocationOptions } from './locations.js';

export interface ScanOptions extends LocationOptions {
  fs?: ClientFs;
  /** Scan these instead of the standard locations (tests, `--file`). */
  locations?: ClientFileLocation[];
}

export interface EntryContainer {
  /** Keys leading to the object (or list) holding the entries, e.g. ["mcpServers"]. */
  path: string[];
  entries: { [name: string]: JsonValue };
}

export interface ScannedConfig extends ClientFileLocation {
  exists: boolean;
  cfg?: LoadedConfig;
  /** Why the file could not be read; it is then left alone. */
  error?: ConfigFileError;
  containers: EntryContainer[];
}

/**
 * Claude Code keeps user-scope servers at the top of ~/.claude.json and local-scope ones under
 * `projects.<dir>.mcpServers`; every other file has one container.
 */
function containersOf(loc: ClientFileLocation, cfg: LoadedConfig): EntryContainer[] {
  const d = descriptor(loc.kind);
  const out: EntryContainer[] = [];
  const add = (p: string[]) => {
    try {
      const entries = entriesIn(cfg, d, p);
      if (Object.keys(entries).length) out.push({ path: p, entries });
    } catch {
      // not an object: nothing of ours can be in there
    }
  };
  add(d.container);
  const projects = cfg.value.projects;
  if (loc.kind === 'claude-code' && loc.scope === 'user' && projects !== null && typeof projects === 'object' && !Array.isArray(projects)) {
    for (const dir of Object.keys(projects)) add(['projects', dir, ...d.container]);
  }
  return out;
}

export async function scanClientConfigs(env: NodeJS.ProcessEnv, opts: ScanOptions = {}): Promise<ScannedConfig[]> {
  const fs = opts.fs ?? nodeClientFs;
  const locations = opts.locations ?? clientConfigLocations(env, opts);
  const out: ScannedConfig[] = [];
  for (const loc of locations) {
    try {
      const cfg = await loadConfig(fs, loc.path, descriptor(loc.kind).format);
      out.push({ ...loc, exists: cfg.exists, cfg, containers: containersOf(loc, cfg) });
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      out.push({ ...loc, exists: true, error: err, containers: [] });
    }
  }
  return out;
}

/**
 * Bridge target (server id or URL, as written after `bridge`) → the clients whose config runs
 * the bridge for it. Files that do not parse are skipped.
 */
export async function findBridgeUsers(env: NodeJS.ProcessEnv, opts: ScanOptions = {}): Promise<Map<string, string[]>> {
  const found = new Map<string, Set<ClientName>>();
  for (const file of await scanClientConfigs(env, opts)) {
    for (const c of file.containers) {
      for (const name of Object.keys(c.entries)) {
        const target = bridgeTargetOf(c.entries[name]);
        if (target === undefined) continue;
        const set = found.get(target) ?? new Set<ClientName>();
        set.add(file.client);
        found.set(target, set);
      }
    }
  }
  const order = CLIENT_KINDS.map((k) => CLIENT_NAMES[k]);
  return new Map([...found].map(([t, s]) => [t, order.filter((n) => s.has(n))]));
}
