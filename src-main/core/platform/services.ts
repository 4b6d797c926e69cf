// Platform services injected into core, so core runs under plain Node and in tests.
// Electron glue provides its own implementations (safeStorage, shell.openExternal).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Encrypts the vault's secrets. Implementations: OS keyring key, 0600 key file, Electron safeStorage. */
export interface Cipher {
  /** Where the key lives, for `status`: e.g. 'keyring', 'key-file', 'safe-storage'. */
  readonly kind: CipherKind;
  /** One line for people: "OS keyring (Secret Service)", "key file ~/.../key (mode 0600)". */
  readonly description: string;
  /** True when the protection is weak (key beside the data, or basic_text). `status` warns. */
  readonly weak: boolean;
  encrypt(plain: Buffer): Promise<Buffer>;
  decrypt(sealed: Buffer): Promise<Buffer>;
}

export type CipherKind = 'keyring' | 'key-file' | 'safe-storage' | 'basic-text' | 'test';

/** The small file-system surface core needs; node:fs backs it, tests may inject failures. */
export interface FileSystem {
  readFile(path: string): Promise<Buffer>;
  /** Atomic: write temp in the same dir, fsync, rename over. Mode applies to the new file. */
  writeFileAtomic(path: string, data: Buffer | string, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, mode?: number): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/** Opens an http(s) URL in the user's browser. Validated before it gets here. */
export interface BrowserOpener {
  open(url: string): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logger; implementations must pass every message through redaction. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}
