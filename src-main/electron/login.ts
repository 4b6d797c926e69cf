// Launch at login. macOS and Windows go through app.setLoginItemSettings; Electron does not
// support Linux there, so on Linux this writes the XDG autostart entry the desktop reads.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoginItemSettings, Settings as LoginSettings } from 'electron';

/** Argument marking a start at login: the app may then stay in the tray (see core startHidden). */
export const HIDDEN_ARG = '--hidden';

export interface LoginItemsDeps {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  argv: readonly string[];
  /** app.setLoginItemSettings / app.getLoginItemSettings */
  setLoginItemSettings(s: LoginSettings): void;
  getLoginItemSettings(): Pick<LoginItemSettings, 'openAtLogin' | 'wasOpenedAtLogin'>;
  /** The program to start: the AppImage when running from one, else the executable. */
  executable: string;
}

export interface LoginItems {
  set(openAtLogin: boolean): Promise<void>;
  openedAtLogin(): boolean;
}

function autostartFile(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config');
  return path.join(base, 'autostart', 'mcp-token-manager.desktop');
}

/** Quotes an Exec argument per the Desktop Entry spec (double quotes; \ " ` $ escaped). */
function execArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/([\\"`$])/g, '\\$1')}"`;
}

export function createLoginItems(d: LoginItemsDeps): LoginItems {
  if (d.platform === 'linux') {
    const file = autostartFile(d.env);
    return {
      async set(open) {
        if (!open) {
          await fsp.rm(file, { force: true });
          return;
        }
        const entry = [
          '[Desktop Entry]',
          'Type=Application',
          'Name=MCP Token Manager',
          'Comment=Keeps the OAuth tokens of your MCP servers fresh',
          `Exec=${execArg(d.executable)} ${HIDDEN_ARG}`,
          'Terminal=false',
          'X-GNOME-Autostart-enabled=true',
          '',
        ].join('\n');
        await fsp.mkdir(path.dirname(file), { recursive: true });
        await fsp.writeFile(file, entry, { mode: 0o644 });
      },
      openedAtLogin: () => d.argv.includes(HIDDEN_ARG),
    };
  }
  return {
    async set(open) {
      // args only matter on Windows; macOS reports wasOpenedAtLogin instead.
      d.setLoginItemSettings({ openAtLogin: open, ...(d.platform === 'win32' ? { path: d.executable, args: [HIDDEN_ARG] } : {}) });
    },
    openedAtLogin: () => d.argv.includes(HIDDEN_ARG) || (d.platform === 'darwin' && d.getLoginItemSettings().wasOpenedAtLogin === true),
  };
}
