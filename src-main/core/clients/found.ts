// When the Clients page may say a client is "Found" (issue 27, item 9): its config file exists,
// or a folder that is the client's own exists. The folder a config file sits in is evidence only
// when it belongs to the client: ~/.claude.json sits in the home folder, which every machine has.
import path from 'node:path';

/** Folders shared by many programs: a config file's folder among these says nothing about its client. */
export function sharedConfigDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, homedir: string): string[] {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const out = [homedir, env.XDG_CONFIG_HOME || p.join(homedir, '.config')];
  if (platform === 'win32') out.push(env.APPDATA || p.join(homedir, 'AppData', 'Roaming'), env.LOCALAPPDATA || p.join(homedir, 'AppData', 'Local'), env.USERPROFILE || homedir);
  if (platform === 'darwin') out.push(p.join(homedir, 'Library', 'Application Support'), p.join(homedir, 'Library', 'Preferences'));
  return out;
}

export interface FoundFacts {
  /** The client's user-scope config file. */
  file: string;
  fileExists: boolean;
  /** The folder the file is in exists. */
  dirExists: boolean;
  /** Folders of other programs too (see sharedConfigDirs). */
  sharedDirs: string[];
  /** Other paths only the installed client makes (e.g. ~/.claude for Claude Code), and whether each exists. */
  markers?: Array<{ path: string; exists: boolean }>;
  platform?: NodeJS.Platform;
}

/** "Found": the config file exists, the client's own folder exists, or one of its markers does. */
export function clientFound(f: FoundFacts): boolean {
  if (f.fileExists) return true;
  if (f.markers?.some((m) => m.exists)) return true;
  if (!f.dirExists) return false;
  const p = f.platform === 'win32' ? path.win32 : path.posix;
  const norm = (d: string) => {
    const r = p.resolve(d);
    return f.platform === 'win32' || f.platform === 'darwin' ? r.toLowerCase() : r;
  };
  const dir = norm(p.dirname(f.file));
  return !f.sharedDirs.some((s) => norm(s) === dir);
}
