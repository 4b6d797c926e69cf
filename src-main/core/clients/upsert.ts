// Adding (or updating) the one bridge entry for a server in a client's config, in that client's
// format and shape, with the care of config-file.ts: backup first, a minimal edit checked by
// re-parsing, an atomic write, and no write at all when nothing would change.
import { nodeClientFs, sameUrlKey, withFreshConfig, writeConfig, type WriteOptions } from './config-file.js';
import { descriptor } from './descriptors.js';
import { bridgeCommand, bridgeTargetOf, entrySlug, type BridgeServer, type Launcher } from './entries.js';
import { entriesIn, textWithEntry } from './entry-edit.js';
import { jsonEqual, type JsonValue } from './jsonc.js';
import { runningLauncher } from './launcher.js';
import { defaultConfigPath, type ClientKind } from './locations.js';
import { mergedEntry } from './shapes.js';

export interface UpsertOptions extends WriteOptions {
  kind: ClientKind;
  server: BridgeServer;
  /** Default: the client's user-scope file. */
  file?: string;
  launcher?: Launcher;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export interface UpsertResult {
  file: string;
  client: string;
  /** The entry's key in the file. */
  name: string;
  action: 'added' | 'updated' | 'unchanged';
  created: boolean;
  backup?: string;
  /** Set when the wanted name was taken by another entry, which was left alone. */
  nameTakenBy?: string;
  entry: JsonValue;
  /** What the person must do for the client to use it, when the product cannot do it for them. */
  gate?: string;
}

/**
 * Adds (or updates) the one bridge entry for `server` in a client's config. An entry that
 * already bridges this server (by id or URL) is updated under its own name; an unrelated
 * entry holding the wanted name is never replaced: the new one gets `name-2`.
 */
export async function upsertBridgeEntry(opts: UpsertOptions): Promise<UpsertResult> {
  const fs = opts.fs ?? nodeClientFs;
  const d = descriptor(opts.kind);
  const file = opts.file ?? defaultConfigPath(opts.kind, opts.env ?? process.env, opts.platform ?? process.platform);
  const launcher = opts.launcher ?? runningLauncher();
  const cmd = { ...bridgeCommand(opts.server.id, launcher), ...(launcher.env ? { env: launcher.env } : {}) };
  return withFreshConfig(file, d.format, fs, async (cfg) => {
    const entries = entriesIn(cfg, d);
    const base = entrySlug(opts.server.name, opts.server.id);
    const url = sameUrlKey(opts.server.url);
    const ours = Object.keys(entries).find((k) => {
      const t = bridgeTargetOf(entries[k]);
      return t !== undefined && (t === opts.server.id || sameUrlKey(t) === url);
    });
    let name = ours ?? base;
    let nameTakenBy: string | undefined;
    if (ours === undefined && Object.hasOwn(entries, base)) {
      nameTakenBy = base;
      for (let i = 2; Object.hasOwn(entries, name); i++) name = `${base}-${i}`;
    }
    const result = { file: cfg.path, client: d.name, name, ...(nameTakenBy !== undefined ? { nameTakenBy } : {}), ...(d.gate !== undefined ? { gate: d.gate } : {}) };
    const old = Object.hasOwn(entries, name) ? entries[name] : undefined;
    const merged = mergedEntry(d, name, old, cmd);
    if (old !== undefined && jsonEqual(old, merged)) return { ...result, action: 'unchanged' as const, created: false, entry: merged };
    const text = textWithEntry(cfg, d, name, merged);
    const w = await writeConfig(cfg, text, opts);
    return { ...result, file: w.path, action: old === undefined ? ('added' as const) : ('updated' as const), created: w.created, ...(w.backup !== undefined ? { backup: w.backup } : {}), entry: merged };
  });
}
