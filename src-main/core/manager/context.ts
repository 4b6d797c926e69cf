// What every part of the manager works with: its dependencies and one way to report progress.
// The parts are plain functions taking this context; `Manager` (manager.ts) composes them.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FetchFn } from '../oauth/http.js';
import type { BrowserOpener, Cipher, Clock, Logger } from '../platform/services.js';
import type { VaultData } from '../types.js';

export interface VaultStore {
  read(): Promise<VaultData>;
  update<T>(fn: (d: VaultData) => T | Promise<T>): Promise<T>;
}

export interface ManagerDeps {
  vault: VaultStore;
  cipher: Pick<Cipher, 'kind' | 'description' | 'weak'>;
  clock: Clock;
  opener: BrowserOpener;
  logger: Logger;
  /** Human progress lines (stderr in the CLI, events in the app). */
  progress?: (line: string) => void;
  fetchFn?: FetchFn;
}

export interface ManagerContext {
  readonly d: ManagerDeps;
  /** A progress line: to the deps' listener, the running link's listener, and the log. */
  say(line: string): void;
  /** The refresh of each grant running in this process: a second one waits for it (see tokens.ts). */
  readonly refreshing: Map<string, Promise<unknown>>;
}

/** Progress lines of the link running in this async context (the app shows them on its card). */
export const linkProgress = new AsyncLocalStorage<(line: string) => void>();

export function makeContext(deps: ManagerDeps): ManagerContext {
  return {
    d: deps,
    refreshing: new Map(),
    say(line: string) {
      deps.progress?.(line);
      linkProgress.getStore()?.(line);
      deps.logger.log('info', line);
    },
  };
}
