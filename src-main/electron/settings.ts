// Non-secret settings, persisted by electron-store in the data dir. Values read back are checked
// field by field against the contract, so a hand-edited or older file degrades to defaults
// for the bad fields only. Side effects (launch at login) run before a change is saved.
import { DEFAULT_SETTINGS, type Settings, settingsSchema } from '../../src-shared/contract.js';
import type { SettingsStore } from '../core/api/service.js';
import { UserError } from '../core/platform/errors.js';
import type { Logger } from '../core/platform/services.js';

/** The part of electron-store used here. */
export interface SettingsBackend {
  readonly store: Record<string, unknown>;
  set(values: Partial<Settings>): void;
}

export function readSettings(raw: Record<string, unknown>): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
    const r = settingsSchema.shape[key].safeParse(raw[key]);
    if (r.success) out[key] = r.data;
  }
  return out as Settings;
}

export function electronSettings(o: {
  backend: SettingsBackend;
  logger: Logger;
  /** Applies a change outside the store (login item); throws to refuse it. */
  apply?: (next: Settings, prev: Settings) => Promise<void>;
}): SettingsStore {
  return {
    async get() {
      return readSettings(o.backend.store);
    },
    async set(patch) {
      const parsed = settingsSchema.partial().strict().safeParse(patch);
      if (!parsed.success) throw new UserError('usage', `Invalid settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const prev = readSettings(o.backend.store);
      const next: Settings = { ...prev, ...parsed.data };
      try {
        await o.apply?.(next, prev);
      } catch (err) {
        o.logger.log('warn', `settings change not applied: ${err instanceof Error ? err.message : String(err)}`);
        if (err instanceof UserError) throw err;
        throw new UserError('usage', 'The system did not accept that setting; nothing was changed.', 'See the log for details.', { cause: err });
      }
      o.backend.set(next);
      return next;
    },
  };
}
