// The OS keyring that holds the headless vault key: macOS Keychain, the Secret Service on
// Linux (GNOME Keyring, KWallet), the Windows Credential Manager, all through the native
// binding @napi-rs/keyring. It is loaded on first use only, so commands that never touch the
// vault (and the bridge, which never imports this folder) do not load a native module.
import { createHash } from 'node:crypto';
import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';

export const KEYRING_SERVICE = 'MCP Token Manager';
// A locked keyring may pop up an unlock prompt; past this we fall back or report, not hang.
const KEYRING_TIMEOUT_MS = 3_000;

export interface KeyringBackend {
  /** For people: "Secret Service", "macOS Keychain", "Windows Credential Manager". */
  readonly name: string;
  /** The stored secret, or null when there is none. Throws when the keyring cannot be asked. */
  get(service: string, account: string): Promise<string | null>;
  set(service: string, account: string, secret: string): Promise<void>;
}

/** Keyring account for a data dir, so separate homes (tests, profiles) never share a key. */
export function keyringAccount(home: string): string {
  return `vault-key-${createHash('sha256').update(home).digest('hex').slice(0, 16)}`;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${KEYRING_TIMEOUT_MS / 1000} s`)), KEYRING_TIMEOUT_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

type KeyringModule = typeof import('@napi-rs/keyring');
let loaded: Promise<KeyringModule> | undefined;

function loadModule(): Promise<KeyringModule> {
  loaded ??= import('@napi-rs/keyring').catch((err: unknown) => {
    loaded = undefined;
    throw new Error(`the native keyring module could not be loaded (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  });
  return loaded;
}

/** The platform's store through @napi-rs/keyring. */
export function nativeKeyring(name: string, options?: EntryOptions): KeyringBackend {
  const entry = async (service: string, account: string): Promise<AsyncEntry> => {
    const { AsyncEntry: Entry } = await loadModule();
    // The constructor connects (on Linux, to the session bus) and throws when it cannot.
    return new Entry(service, account, options);
  };
  return {
    name,
    get: (service, account) => withTimeout(entry(service, account).then((e) => e.getPassword()).then((v) => v ?? null), name),
    set: (service, account, secret) => withTimeout(entry(service, account).then((e) => e.setPassword(secret)), name),
  };
}

/** The keyring for this platform, or null where there is none. */
export function defaultKeyring(platform: NodeJS.Platform = process.platform): KeyringBackend | null {
  // Pinned to the Secret Service: the binding would otherwise fall back to the kernel keyring,
  // which forgets the key at logout or reboot and so would orphan the vault.
  if (platform === 'linux' || platform === 'freebsd') return nativeKeyring('Secret Service', { linux: { store: 'secret-service' } });
  if (platform === 'darwin') return nativeKeyring('macOS Keychain');
  if (platform === 'win32') return nativeKeyring('Windows Credential Manager');
  return null;
}
