// The Clients page: each MCP client's user config, which servers it runs through the bridge,
// and removing a server's bridge entry again (the same care as adding: a backup first, a
// minimal text edit checked by re-parsing, an atomic write, never a file that does not parse).
import path from 'node:path';
import {
  bridgeTargetOf,
  CLIENT_FORMATS,
  CLIENT_KINDS,
  CLIENT_NAMES,
  defaultConfigPath,
  parseMcpRemote,
  scanClientConfigs,
  type ClientFs,
} from '../clients/index.js';
import { entriesAt, nodeClientFs, sameUrlKey, withFreshConfig, writeConfig } from '../clients/config-file.js';
import { nodeAt, parseTree, toValue, type JsonValue, type Syntax } from '../clients/jsonc.js';
import { redact } from '../platform/redact.js';
import type { ClientKind, ClientOverview, ClientRemoveResult } from '../../../src-shared/contract.js';

export interface ClientEntriesDeps {
  env: () => NodeJS.ProcessEnv;
  fs?: ClientFs;
  platform?: NodeJS.Platform;
  now?: () => Date;
}

function isMcpRemote(entry: JsonValue | undefined): boolean {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return false;
  const { command, args } = entry;
  if (typeof command !== 'string') return false;
  const list = Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [];
  return parseMcpRemote(command, list) !== undefined;
}

/** Every client's user-scope file: found or not, its bridge entries (servers matched by id or URL) and mcp-remote ones. */
export async function listClients(d: ClientEntriesDeps, servers: Array<{ id: string; url: string }>): Promise<ClientOverview[]> {
  const fs = d.fs ?? nodeClientFs;
  const env = d.env();
  const platform = d.platform ?? process.platform;
  const locations = CLIENT_KINDS.map((kind) => ({ kind, client: CLIENT_NAMES[kind], scope: 'user' as const, path: defaultConfigPath(kind, env, platform) }));
  const scanned = await scanClientConfigs(env, { fs, platform, locations });
  const out: ClientOverview[] = [];
  for (const s of scanned) {
    // A client that was never configured still counts as installed when its folder is there.
    const found = s.exists || (await fs.mode(path.dirname(s.path)).catch(() => undefined)) !== undefined;
    const top = s.containers.find((c) => c.path.length === 1);
    const bridged: ClientOverview['bridged'] = [];
    let mcpRemote = 0;
    for (const [name, entry] of Object.entries(top?.entries ?? {})) {
      const target = bridgeTargetOf(entry);
      if (target !== undefined) {
        const server = servers.find((x) => x.id === target || sameUrlKey(x.url) === sameUrlKey(target));
        bridged.push({ name, target, ...(server ? { serverId: server.id } : {}) });
      } else if (isMcpRemote(entry)) mcpRemote++;
    }
    out.push({
      kind: s.kind,
      label: CLIENT_NAMES[s.kind],
      file: s.path,
      found,
      ...(s.error ? { error: redact(s.error.message) } : {}),
      bridged,
      mcpRemote,
    });
  }
  return out;
}

/**
 * The text without one entry of the container: the entry and the comma that joins it go; the
 * rest of the file is kept byte for byte (the caller re-parses and checks the result).
 */
function withoutProp(text: string, syntax: Syntax, container: string, key: string): string {
  const { root } = parseTree(text, syntax);
  const obj = root ? nodeAt(root, [container]) : undefined;
  if (!obj || obj.type !== 'object') return text;
  const i = obj.props.findIndex((p) => p.key === key);
  if (i < 0) return text;
  const cut = (from: number, to: number) => text.slice(0, from) + text.slice(to);
  const props = obj.props;
  if (i < props.length - 1) return cut(props[i]!.keyStart, props[i + 1]!.keyStart);
  if (i > 0) return cut(props[i - 1]!.value.end, props[i]!.value.end);
  return cut(obj.start + 1, props[i]!.value.end);
}

/** Removes every bridge entry for `server` (by id or URL) from the client's user-scope file. */
export async function removeBridgeEntry(d: ClientEntriesDeps, kind: ClientKind, server: { id: string; url: string }): Promise<ClientRemoveResult> {
  const fs = d.fs ?? nodeClientFs;
  const format = CLIENT_FORMATS[kind];
  const file = defaultConfigPath(kind, d.env(), d.platform ?? process.platform);
  const url = sameUrlKey(server.url);
  return withFreshConfig(file, format.syntax, fs, async (cfg) => {
    if (!cfg.exists) return { client: kind, file, removed: [] };
    const entries = entriesAt(cfg, [format.container]);
    const removed = Object.keys(entries).filter((k) => {
      const t = bridgeTargetOf(entries[k]);
      return t !== undefined && (t === server.id || sameUrlKey(t) === url);
    });
    if (!removed.length) return { client: kind, file: cfg.path, removed };
    let text = cfg.text;
    for (const k of removed) text = withoutProp(text, format.syntax, format.container, k);
    // The result must be the old content minus exactly these entries.
    const check = toValue(parseTree(text, format.syntax).root!) as { [k: string]: JsonValue };
    const left = entriesAt({ ...cfg, value: check }, [format.container]);
    if (removed.some((k) => Object.hasOwn(left, k)) || Object.keys(left).length !== Object.keys(entries).length - removed.length) {
      throw new Error(`Internal error: the edit of ${cfg.path} did not remove exactly the bridge entries; nothing was written.`);
    }
    const w = await writeConfig(cfg, text, { fs, ...(d.now ? { now: d.now } : {}) });
    return { client: kind, file: w.path, removed, ...(w.backup !== undefined ? { backup: w.backup } : {}) };
  });
}
