// Where the desktop app keeps the bridge that MCP client configs run, and when to (re)install it.
// Client entries must outlive the app process and its updates: inside an AppImage the app's own
// files live under a /tmp/.mount_XXXX that changes name at every launch, and an update replaces
// them. So the app copies the bridge (the same dist/ CLI build npm users run) into the data dir:
//   <home>/bridge/<version>-<digest>/…   one folder per build, complete before it is named
//   <home>/bridge/mcp-tokens.mjs          the stable entry configs point at; it imports the
//                                         current folder and is replaced by an atomic rename
// The previous build's folder is kept, since a bridge still running may lazily load its chunks.
// This module decides; src-main/electron/bridge-install.ts does the copying.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';

export const BRIDGE_DIR = 'bridge';
export const BRIDGE_ENTRY = 'mcp-tokens.mjs';
/** Written by scripts/build-electron.mjs beside main.js: the dist/ files that make the CLI. */
export const BRIDGE_MANIFEST = 'bridge-manifest.json';
/** Folder names starting with this are unfinished copies (a crash mid-install). */
export const BRIDGE_TEMP_PREFIX = '.tmp-';

const relPath = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '' || s === '.' || s === '..'), 'a plain relative path');

const manifestSchema = z
  .object({
    version: z.string().regex(/^[0-9A-Za-z.+-]{1,40}$/),
    entry: relPath,
    files: z.array(z.object({ path: relPath, sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).strict()).min(1).max(1000),
  })
  .strict()
  .refine((m) => m.files.some((f) => f.path === m.entry), 'the entry must be one of the files');

export type BridgeManifest = z.infer<typeof manifestSchema>;

/** Throws with what is wrong: a damaged manifest means a damaged app install. */
export function parseBridgeManifest(text: string): BridgeManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the bridge manifest is not JSON');
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) throw new Error(`the bridge manifest is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The folder name of a build: its version plus a digest of its files, so rebuilds differ too. */
export function bridgeKey(m: BridgeManifest): string {
  const h = createHash('sha256');
  for (const f of [...m.files].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`${f.path}\0${f.sha256}\n`);
  return `${m.version}-${h.digest('hex').slice(0, 12)}`;
}

export function bridgePaths(home: string): { root: string; entry: string } {
  const root = join(home, BRIDGE_DIR);
  return { root, entry: join(root, BRIDGE_ENTRY) };
}

/** The stable entry's text: it runs the CLI of one installed build. */
export function bridgeEntryText(key: string, entry: string): string {
  return `// Written by MCP Token Manager: MCP client configs run this file; it starts the bridge build below.\nimport './${key}/${entry}';\n`;
}

/** The build the current entry points at, if it is one of ours. */
export function installedKeyOf(entryText: string | undefined): string | undefined {
  const m = entryText?.match(/^import '\.\/([0-9A-Za-z.+-]+-[0-9a-f]{12})\//m);
  return m?.[1];
}

export interface InstalledBridge {
  /** The stable entry's text, or undefined when missing. */
  entryText: string | undefined;
  /** Names of the folders in <home>/bridge. */
  folders: string[];
  /** sha256 of each file found in the folder of this build (undefined when the folder is missing). */
  files: Record<string, string> | undefined;
}

export interface BridgeInstallPlan {
  key: string;
  /** Copy the build into a temp folder, then rename it to `key` (replacing a damaged one). */
  copy: boolean;
  /** Atomically replace the stable entry. */
  writeEntry: boolean;
  /** Folders to delete: builds older than the previous one, and unfinished copies. */
  remove: string[];
}

export function planBridgeInstall(m: BridgeManifest, state: InstalledBridge): BridgeInstallPlan {
  const key = bridgeKey(m);
  const intact = state.files !== undefined && m.files.every((f) => state.files?.[f.path] === f.sha256);
  const previous = installedKeyOf(state.entryText);
  const keep = new Set([key, ...(previous ? [previous] : [])]);
  const remove = state.folders.filter((f) => f.startsWith(BRIDGE_TEMP_PREFIX) || (/^[0-9A-Za-z.+-]+-[0-9a-f]{12}$/.test(f) && !keep.has(f)));
  return { key, copy: !intact, writeEntry: !intact || state.entryText !== bridgeEntryText(key, m.entry), remove };
}

/**
 * The program client entries (and login items) start: the AppImage file when this process runs
 * inside one (its runtime sets APPIMAGE and APPDIR, the mount the executable lives in), else the
 * executable itself. An APPIMAGE merely inherited from another AppImage'd program is ignored.
 */
export function appExecutable(execPath: string, env: NodeJS.ProcessEnv, sep = '/'): string {
  const { APPIMAGE: image, APPDIR: dir } = env;
  if (!image || !dir) return execPath;
  const root = dir.endsWith(sep) ? dir : dir + sep;
  return execPath.startsWith(root) ? image : execPath;
}
