// Copies the app's bridge (the dist/ CLI build it ships) into the data dir, as planned by
// core/app-model/bridge-install.ts, and checks the copy at every start. Reads go through plain
// fs calls, which Electron serves from inside app.asar too.
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { BRIDGE_MANIFEST, BRIDGE_TEMP_PREFIX, bridgeEntryText, bridgePaths, type BridgeManifest, type InstalledBridge, parseBridgeManifest, planBridgeInstall } from '../core/app-model/bridge-install.js';
import { writeFileAtomic } from '../core/vault/fs.js';
import type { Logger } from '../core/platform/services.js';

export interface InstalledBridgeResult {
  /** The stable file client configs run (with the app's binary and ELECTRON_RUN_AS_NODE=1). */
  entry: string;
  key: string;
  copied: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readIfPresent(p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

async function hashesIn(dir: string, m: BridgeManifest): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {};
  try {
    await fsp.access(dir);
  } catch {
    return undefined;
  }
  for (const f of m.files) {
    const b = await fsp.readFile(path.join(dir, f.path)).catch(() => undefined);
    if (b) out[f.path] = sha256(b);
  }
  return out;
}

/**
 * Installs (or repairs) the bridge from `distDir` (the app's dist/: manifest in electron/, the
 * CLI files beside it). Throws when the shipped files do not match their manifest.
 */
export async function installBridge(o: { home: string; distDir: string; logger: Logger }): Promise<InstalledBridgeResult> {
  const m = parseBridgeManifest(await fsp.readFile(path.join(o.distDir, 'electron', BRIDGE_MANIFEST), 'utf8'));
  const { root, entry } = bridgePaths(o.home);
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  const state: InstalledBridge = {
    entryText: await readIfPresent(entry),
    folders: await fsp.readdir(root).catch(() => []),
    files: undefined,
  };
  const plan0 = planBridgeInstall(m, state);
  state.files = await hashesIn(path.join(root, plan0.key), m);
  const plan = planBridgeInstall(m, state);

  if (plan.copy) {
    const tmp = path.join(root, `${BRIDGE_TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      for (const f of m.files) {
        const data = await fsp.readFile(path.join(o.distDir, f.path));
        if (sha256(data) !== f.sha256) throw new Error(`the app's bridge file ${f.path} does not match its manifest; reinstall MCP Token Manager`);
        await fsp.mkdir(path.dirname(path.join(tmp, f.path)), { recursive: true, mode: 0o700 });
        await fsp.writeFile(path.join(tmp, f.path), data, { mode: 0o600 });
      }
      // The CLI files are ES modules with a .js name: Node needs to be told.
      await fsp.writeFile(path.join(tmp, 'package.json'), '{ "type": "module" }\n', { mode: 0o600 });
      // A folder of this name that failed the check is damaged: replace it whole.
      await fsp.rm(path.join(root, plan.key), { recursive: true, force: true });
      await fsp.rename(tmp, path.join(root, plan.key));
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    o.logger.log('info', `installed the bridge ${plan.key} into ${root}`);
  }
  if (plan.writeEntry) await writeFileAtomic(entry, bridgeEntryText(plan.key, m.entry), 0o600);
  for (const f of plan.remove) {
    await fsp.rm(path.join(root, f), { recursive: true, force: true }).catch((e: Error) => o.logger.log('warn', `could not remove the old bridge ${f}: ${e.message}`));
  }
  return { entry, key: plan.key, copied: plan.copy };
}
