// The Clients page: each MCP client's user config, which servers it runs through the bridge,
// and removing a server's bridge entry again (the same care as adding: a backup first, a
// minimal text edit checked by re-parsing, an atomic write, never a file that does not parse).
import path from 'node:path';
import { bridgeTargetOf, CLIENT_KINDS, CLIENT_NAMES, clientFound, commandLineOf, homeDir, installMarkers, sharedConfigDirs, defaultConfigPath, descriptor, entriesIn, parseMcpRemote, scanClientConfigs, textWithoutEntries, type ClientFs } from '../clients/index.js';
import { nodeClientFs, sameUrlKey, withFreshConfig, writeConfig } from '../clients/config-file.js';
import type { JsonValue } from '../clients/jsonc.js';
import { redact } from '../platform/redact.js';
import type { ClientKind, ClientOverview, ClientRemoveResult } from '../../../src-shared/contract.js';

export interface ClientEntriesDeps {
  env: () => NodeJS.ProcessEnv;
  fs?: ClientFs;
  platform?: NodeJS.Platform;
  now?: () => Date;
}

function isMcpRemote(entry: JsonValue | undefined): boolean {
  const cmd = commandLineOf(entry);
  return cmd !== undefined && parseMcpRemote(cmd.command, cmd.args) !== undefined;
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
    // A client never configured counts as installed when its own folder is there (not the home folder).
    const home = homeDir(env, platform);
    const exists = async (p: string) => (await fs.mode(p).catch(() => undefined)) !== undefined;
    // The client's own signs (its folders, its command on PATH), from the clients table.
    const signs = installMarkers(s.kind, env, platform);
    const p = platform === 'win32' ? path.win32 : path.posix;
    const bins = signs.bin ? (env.PATH ?? '').split(p.delimiter).filter((d) => d && p.isAbsolute(d)).flatMap((d) => (platform === 'win32' ? [`${signs.bin}.exe`, `${signs.bin}.cmd`] : [signs.bin!]).map((b) => p.join(d, b))) : [];
    const markers = await Promise.all([...signs.dirs, ...bins].map(async (m) => ({ path: m, exists: await exists(m) })));
    const found = clientFound({ file: s.path, fileExists: s.exists, dirExists: await exists(path.dirname(s.path)), sharedDirs: sharedConfigDirs(env, platform, home), markers, platform });
    const top = s.containers.find((c) => c.path.join('\0') === descriptor(s.kind).container.join('\0'));
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

/** Removes every bridge entry for `server` (by id or URL) from the client's user-scope file. */
export async function removeBridgeEntry(d: ClientEntriesDeps, kind: ClientKind, server: { id: string; url: string }): Promise<ClientRemoveResult> {
  const fs = d.fs ?? nodeClientFs;
  const client = descriptor(kind);
  const file = defaultConfigPath(kind, d.env(), d.platform ?? process.platform);
  const url = sameUrlKey(server.url);
  return withFreshConfig(file, client.format, fs, async (cfg) => {
    if (!cfg.exists) return { client: kind, file, removed: [] };
    const entries = entriesIn(cfg, client);
    const removed = Object.keys(entries).filter((k) => {
      const t = bridgeTargetOf(entries[k]);
      return t !== undefined && (t === server.id || sameUrlKey(t) === url);
    });
    if (!removed.length) return { client: kind, file: cfg.path, removed };
    // A minimal edit, re-parsed and checked to be the old content minus exactly these entries.
    const text = textWithoutEntries(cfg, client, removed);
    const w = await writeConfig(cfg, text, { fs, ...(d.now ? { now: d.now } : {}) });
    return { client: kind, file: w.path, removed, ...(w.backup !== undefined ? { backup: w.backup } : {}) };
  });
}
