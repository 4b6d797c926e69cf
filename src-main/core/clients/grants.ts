// mcp-remote's plaintext grant store: `<dir>/mcp-remote-<store>/<hash>_tokens.json` (plus
// `_client_info.json`, `_code_verifier*.txt`, …), where <dir> is $MCP_REMOTE_CONFIG_DIR or
// ~/.mcp-auth and <store> is the package version (0.1.x) or `v1` (newer). The hash is an md5
// of the server URL and some flags (see mcpRemoteHashes), so a grant's server is known only
// when a config entry that hashes to it is found. Nothing here prints or logs a token.
import path from 'node:path';
import { errnoCode } from '../vault/fs.js';
import { nodeClientFs, type ClientFs } from './config-file.js';
import { homeDir } from './locations.js';
import { mcpRemoteHashes, type McpRemoteInvocation } from './mcp-remote.js';

export interface McpRemoteTokens {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  /** Epoch milliseconds (newer mcp-remote). */
  expires_at?: number;
  scope?: string;
  requested_scope?: string;
  issuer?: string;
  [k: string]: unknown;
}

export interface McpRemoteClientInfo {
  client_id: string;
  client_secret?: string;
  redirect_uris?: string[];
  token_endpoint_auth_method?: string;
  issuer?: string;
  [k: string]: unknown;
}

export interface McpRemoteGrant {
  /** The store directory the files are in. */
  dir: string;
  /** `v1`, or the mcp-remote version for old stores (`0.1.29`). */
  store: string;
  hash: string;
  /** Known when a candidate invocation hashes to `hash`. */
  serverUrl?: string;
  tokens: McpRemoteTokens;
  clientInfo?: McpRemoteClientInfo;
  /** Every file of this grant (`<hash>_*`), for deleting the plaintext after an import. */
  files: string[];
}

/** What may be shown of a grant: never a token or a client secret. */
export interface GrantSummary {
  hash: string;
  store: string;
  serverUrl?: string;
  hasRefreshToken: boolean;
  expiresAt?: string;
  scope?: string;
  clientId?: string;
}

export function summarizeGrant(g: McpRemoteGrant): GrantSummary {
  const exp = typeof g.tokens.expires_at === 'number' && Number.isFinite(g.tokens.expires_at) ? new Date(g.tokens.expires_at).toISOString() : undefined;
  return {
    hash: g.hash,
    store: g.store,
    ...(g.serverUrl !== undefined ? { serverUrl: g.serverUrl } : {}),
    hasRefreshToken: typeof g.tokens.refresh_token === 'string' && g.tokens.refresh_token !== '',
    ...(exp !== undefined ? { expiresAt: exp } : {}),
    ...(typeof g.tokens.scope === 'string' ? { scope: g.tokens.scope } : {}),
    ...(g.clientInfo ? { clientId: g.clientInfo.client_id } : {}),
  };
}

/** mcp-remote's base directory: $MCP_REMOTE_CONFIG_DIR, else ~/.mcp-auth. */
export function mcpRemoteAuthDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const o = env.MCP_REMOTE_CONFIG_DIR;
  return o !== undefined && o !== '' ? o : (platform === 'win32' ? path.win32 : path.posix).join(homeDir(env, platform), '.mcp-auth');
}

const TOKENS_FILE = /^([0-9a-f]{32})_tokens\.json$/;

async function listDir(fs: ClientFs, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

async function readJson(fs: ClientFs, file: string): Promise<unknown> {
  try {
    return JSON.parse((await fs.readFile(file)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface ReadGrantsOptions {
  /** Entries whose URL (and flags) name the grants' servers. */
  candidates?: readonly McpRemoteInvocation[];
  fs?: ClientFs;
}

/**
 * Every grant with a usable tokens file under `dir`: either mcp-remote's base dir (all its
 * `mcp-remote-*` stores) or one store dir. Unreadable or malformed files are skipped.
 */
export async function readMcpRemoteGrants(dir: string, opts: ReadGrantsOptions = {}): Promise<McpRemoteGrant[]> {
  const fs = opts.fs ?? nodeClientFs;
  const byHash = new Map<string, string>();
  for (const inv of opts.candidates ?? []) {
    for (const h of mcpRemoteHashes(inv)) if (!byHash.has(h) && inv.url !== undefined) byHash.set(h, inv.url);
  }
  const top = await listDir(fs, dir);
  const stores: Array<{ dir: string; store: string; names: string[] }> = [];
  if (top.some((n) => TOKENS_FILE.test(n))) stores.push({ dir, store: path.basename(dir).replace(/^mcp-remote-/, ''), names: top });
  for (const n of top.filter((x) => x.startsWith('mcp-remote-')).sort()) {
    const d = path.join(dir, n);
    stores.push({ dir: d, store: n.slice('mcp-remote-'.length), names: await listDir(fs, d) });
  }
  const out: McpRemoteGrant[] = [];
  for (const s of stores) {
    for (const name of s.names) {
      const m = TOKENS_FILE.exec(name);
      if (!m) continue;
      const hash = m[1]!;
      const tokens = await readJson(fs, path.join(s.dir, name));
      if (!isObject(tokens) || typeof tokens.access_token !== 'string' || tokens.access_token === '') continue;
      const info = await readJson(fs, path.join(s.dir, `${hash}_client_info.json`));
      const serverUrl = byHash.get(hash);
      out.push({
        dir: s.dir,
        store: s.store,
        hash,
        ...(serverUrl !== undefined ? { serverUrl } : {}),
        tokens: tokens as McpRemoteTokens,
        ...(isObject(info) && typeof info.client_id === 'string' ? { clientInfo: info as McpRemoteClientInfo } : {}),
        files: s.names.filter((f) => f.startsWith(`${hash}_`)).map((f) => path.join(s.dir, f)),
      });
    }
  }
  return out;
}

/** The grant to import for `url`: of several stores, the one whose token lives longest. */
export function bestGrantFor(grants: readonly McpRemoteGrant[], url: string): McpRemoteGrant | undefined {
  const exp = (g: McpRemoteGrant) => (typeof g.tokens.expires_at === 'number' ? g.tokens.expires_at : 0) + (g.tokens.refresh_token ? 1e15 : 0);
  return grants.filter((g) => g.serverUrl === url).sort((a, b) => exp(b) - exp(a))[0];
}

/** Deletes a grant's plaintext files; returns the ones removed. */
export async function deleteGrantFiles(grant: McpRemoteGrant, fs: ClientFs = nodeClientFs): Promise<string[]> {
  const removed: string[] = [];
  for (const f of grant.files) {
    try {
      await fs.unlink(f);
      removed.push(f);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return removed;
}
