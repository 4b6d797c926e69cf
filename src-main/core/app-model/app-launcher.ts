// How a bridge starts the broker: the desktop app when the vault is sealed by it (only the app
// can unseal it), else the headless daemon. The app records its own launch command at start.
import { join } from 'node:path';
import { z } from 'zod';

export const APP_LAUNCHER_FILE = join('run', 'app-launcher.json');
export const APP_SEALED_KEY_FILE = 'vault.key.safe-storage';
/** The argument that tells the app a bridge started it (it then stays in the tray). */
export const STARTED_BY_BRIDGE = '--started-by-bridge';

const launcherSchema = z.object({ command: z.string().min(1).max(4096), args: z.array(z.string().max(4096)).max(20) }).strict();
export type AppLauncher = z.infer<typeof launcherSchema>;

/** Parses the recorded launcher; undefined when absent or not trustworthy-looking. */
export function parseAppLauncher(text: string | undefined): AppLauncher | undefined {
  if (!text) return undefined;
  try {
    const r = launcherSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What to start when no broker answers: the app if it sealed the vault and left its launcher,
 * else the daemon. An app-sealed vault without a launcher cannot be opened headless: say so.
 */
export function brokerToStart(o: { appSealed: boolean; launcher: AppLauncher | undefined }): { kind: 'app'; launcher: AppLauncher } | { kind: 'daemon' } | { kind: 'none'; why: string } {
  if (!o.appSealed) return { kind: 'daemon' };
  if (o.launcher) return { kind: 'app', launcher: o.launcher };
  return { kind: 'none', why: 'The vault is sealed by the MCP Token Manager app, and only the app can open it. Start the app once, then retry.' };
}
