// Settings of `mcp-tokens ui`, kept in the data dir (the desktop app keeps its own in
// electron-store). A file that does not parse is kept aside, never silently replaced.
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, errnoCode } from '../vault/fs.js';
import type { Logger } from '../platform/services.js';
import { DEFAULT_SETTINGS, type Settings, settingsSchema } from '../../../src-shared/contract.js';
import type { SettingsStore } from './service.js';

export const UI_SETTINGS_FILE = 'ui-settings.json';

export function fileSettings(home: string, logger?: Logger): SettingsStore {
  const file = join(home, UI_SETTINGS_FILE);
  let cur: Settings | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  async function load(): Promise<Settings> {
    if (cur) return cur;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      return (cur = { ...DEFAULT_SETTINGS });
    }
    const parsed = settingsSchema.partial().strip().safeParse((() => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    })());
    if (parsed.success) return (cur = { ...DEFAULT_SETTINGS, ...parsed.data });
    const aside = `${file}.unreadable-${Date.now()}`;
    await rename(file, aside).catch(() => undefined);
    logger?.log('warn', `${file} could not be read; kept as ${aside}, defaults used`);
    return (cur = { ...DEFAULT_SETTINGS });
  }

  return {
    get: () => load(),
    set(p) {
      const next = chain.then(async () => {
        const s: Settings = { ...(await load()), ...p };
        await writeFileAtomic(file, `${JSON.stringify(s, null, 2)}\n`, 0o600);
        return (cur = s);
      });
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
