// Wires the headless platform (key file or keyring, node fs, $BROWSER opener) into core.
import { openHeadlessCipher } from '../core/vault/cipher.js';
import { nodeFileSystem } from '../core/vault/fs.js';
import { createLogger } from '../core/platform/log.js';
import { Manager } from '../core/manager/manager.js';
import { createBrowserOpener, redirectPagesDir } from '../core/platform/opener.js';
import { dataHome } from '../core/vault/paths.js';
import type { BrowserOpener, Cipher, Logger } from '../core/platform/services.js';
import { systemClock } from '../core/platform/services.js';
import { Vault } from '../core/vault/vault.js';

export interface CliContext {
  home: string;
  cipher: Cipher;
  vault: Vault;
  manager: Manager;
  logger: Logger;
  opener: BrowserOpener;
  startupReport: string[];
}

export async function openContext(opts: { progress: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<CliContext> {
  const env = opts.env ?? process.env;
  const home = dataHome(env);
  const logger = createLogger({ home, stderr: Boolean(env.MCP_TOKENS_DEBUG), level: env.MCP_TOKENS_DEBUG ? 'debug' : 'info' });
  const cipher = await openHeadlessCipher({ home, fs: nodeFileSystem, env });
  const vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock, logger });
  const opener = createBrowserOpener(env, process.platform, logger, redirectPagesDir(home));
  const manager = new Manager({ vault, cipher, clock: systemClock, opener, logger, progress: opts.progress });
  return { home, cipher, vault, manager, logger, opener, startupReport: vault.startupReport };
}
