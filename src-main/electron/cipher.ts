// The app's Cipher. A random 32-byte vault key is sealed with Electron's safeStorage (Keychain,
// DPAPI, libsecret/KWallet) and kept sealed in the data dir; the vault itself uses the same
// keyCipher as headless, so its format does not depend on which process wrote it.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { APP_SEALED_KEY_FILE } from '../core/app-model/app-launcher.js';
import { CipherError, decodeKey, KEY_BYTES, keyCipher, openHeadlessCipher } from '../core/vault/cipher.js';
import { errnoCode } from '../core/vault/fs.js';
import { vaultPath } from '../core/vault/paths.js';
import type { Cipher, FileSystem, Logger } from '../core/platform/services.js';

/**
 * safeStorage as this module uses it. Electron 41 has only the synchronous calls; newer
 * versions add the async ones (and later drop the sync ones), so every member is optional
 * and probed at run time.
 */
export interface SafeStorageLike {
  isEncryptionAvailable?(): boolean;
  encryptString?(plain: string): Buffer;
  decryptString?(sealed: Buffer): string;
  getSelectedStorageBackend?(): string;
  setUsePlainTextEncryption?(usePlainText: boolean): void;
  isAsyncEncryptionAvailable?(): Promise<boolean>;
  encryptStringAsync?(plain: string): Promise<Buffer>;
  decryptStringAsync?(sealed: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
}

interface SealOps {
  encrypt(plain: string): Promise<Buffer>;
  decrypt(sealed: Buffer): Promise<{ plain: string; reseal: boolean }>;
  api: 'async' | 'sync';
}

export const SEALED_KEY_FILE = APP_SEALED_KEY_FILE;

export function sealedKeyPath(home: string): string {
  return path.join(home, SEALED_KEY_FILE);
}

/** Words for `status` and the Settings screen, per platform and Linux backend. */
export function describeSafeStorage(platform: NodeJS.Platform, backend: string | undefined): { description: string; weak: boolean } {
  if (platform === 'darwin') return { description: 'macOS Keychain (Electron safeStorage)', weak: false };
  if (platform === 'win32') return { description: 'Windows DPAPI, tied to your Windows account (Electron safeStorage)', weak: false };
  switch (backend) {
    case 'gnome_libsecret':
      return { description: 'Secret Service, e.g. GNOME Keyring (Electron safeStorage)', weak: false };
    case 'kwallet':
    case 'kwallet5':
    case 'kwallet6':
      return { description: `KWallet (Electron safeStorage, ${backend})`, weak: false };
    case 'basic_text':
      return {
        description: 'no keyring found: Electron safeStorage fell back to "basic_text", a fixed built-in key, so anyone who can read your files can decrypt the tokens',
        weak: true,
      };
    default:
      return { description: `Electron safeStorage (${backend ?? 'unknown backend'})`, weak: false };
  }
}

async function sealOps(ss: SafeStorageLike, allowPlainText: boolean): Promise<SealOps> {
  const { isAsyncEncryptionAvailable, encryptStringAsync, decryptStringAsync } = ss;
  if (isAsyncEncryptionAvailable && encryptStringAsync && decryptStringAsync && (await isAsyncEncryptionAvailable.call(ss))) {
    return {
      api: 'async',
      encrypt: (plain) => encryptStringAsync.call(ss, plain),
      decrypt: async (sealed) => {
        const r = await decryptStringAsync.call(ss, sealed);
        return { plain: r.result, reseal: r.shouldReEncrypt };
      },
    };
  }
  const { isEncryptionAvailable, encryptString, decryptString } = ss;
  if (!isEncryptionAvailable || !encryptString || !decryptString) {
    throw new CipherError('This version of Electron offers no safeStorage API that MCP Token Manager knows.');
  }
  // Linux without a keyring: Electron only encrypts with its fixed key when told to; we say so in status.
  if (!isEncryptionAvailable.call(ss) && allowPlainText) ss.setUsePlainTextEncryption?.(true);
  if (!isEncryptionAvailable.call(ss)) {
    throw new CipherError(
      'The system secure storage is not available, so the vault cannot be unlocked.',
      'Unlock your keyring (GNOME Keyring, KWallet) or log in to your desktop session, then start MCP Token Manager again.',
    );
  }
  return {
    api: 'sync',
    encrypt: async (plain) => encryptString.call(ss, plain),
    decrypt: async (sealed) => ({ plain: decryptString.call(ss, sealed), reseal: false }),
  };
}


async function sealedWithOf(fs: FileSystem, home: string): Promise<string | null> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(vaultPath(home));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const doc = JSON.parse(raw.toString('utf8')) as { sealedWith?: unknown };
    return typeof doc.sealedWith === 'string' ? doc.sealedWith : null;
  } catch {
    return null; // the vault reports an unparseable file itself and keeps it aside
  }
}

export interface AppCipherOptions {
  home: string;
  fs: FileSystem;
  safeStorage: SafeStorageLike;
  platform: NodeJS.Platform;
  logger: Logger;
}

/**
 * The Cipher for the app. A vault the command line already sealed (keyring or key file) stays
 * with that key, so the app and `mcp-tokens` keep sharing it; otherwise safeStorage.
 * Must be called after app 'ready' (safeStorage is not usable before).
 */
export async function openAppCipher(o: AppCipherOptions): Promise<Cipher> {
  await o.fs.mkdir(o.home, 0o700);
  const sealedWith = await sealedWithOf(o.fs, o.home);
  if (sealedWith === 'keyring' || sealedWith === 'key-file') {
    o.logger.log('info', `vault sealed with ${sealedWith} by the command line; the app uses the same key`);
    return openHeadlessCipher({ home: o.home, fs: o.fs, platform: o.platform });
  }

  const backend = o.platform === 'linux' ? o.safeStorage.getSelectedStorageBackend?.() : undefined;
  const { description, weak } = describeSafeStorage(o.platform, backend);
  const ops = await sealOps(o.safeStorage, backend === 'basic_text');
  const file = sealedKeyPath(o.home);

  let sealed: Buffer | undefined;
  try {
    sealed = await o.fs.readFile(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new CipherError(`Could not read ${file}: ${errnoCode(err) ?? String(err)}.`, undefined, { cause: err });
  }

  if (sealed !== undefined) {
    let opened: { plain: string; reseal: boolean };
    try {
      opened = await ops.decrypt(sealed);
    } catch (err) {
      throw new CipherError(
        `The vault key in ${file} could not be unsealed with Electron safeStorage.`,
        'This happens when the keyring was reset or the data dir was copied from another account or machine. The vault file was not changed.',
        { cause: err },
      );
    }
    const key = decodeKey(opened.plain);
    if (key === null) throw new CipherError(`The sealed vault key in ${file} is damaged.`, 'Restore it from a backup; without it the vault cannot be decrypted.');
    if (opened.reseal) {
      // safeStorage rotated its key or found a better backend: store the key under the new one.
      await o.fs.writeFileAtomic(file, await ops.encrypt(opened.plain), 0o600);
      o.logger.log('info', 'vault key re-sealed after a safeStorage key change');
    }
    return keyCipher(key, 'safe-storage', description, weak);
  }

  if (sealedWith === 'safe-storage') {
    throw new CipherError(
      `The vault was sealed with a key kept in ${file}, which is missing.`,
      'Restore that file from a backup. The vault file was not changed; a new key would not open it.',
    );
  }

  const key = randomBytes(KEY_BYTES);
  const plain = key.toString('base64');
  const fresh = await ops.encrypt(plain);
  // Trust the new key only if it unseals: a backend that cannot read back would orphan every secret.
  const back = await ops.decrypt(fresh).catch(() => undefined);
  if (back?.plain !== plain) throw new CipherError('The system secure storage did not give back what was stored; nothing was saved.');
  await o.fs.writeFileAtomic(file, fresh, 0o600);
  o.logger.log('info', `new vault key sealed with safeStorage (${ops.api} API)`);
  return keyCipher(key, 'safe-storage', description, weak);
}
