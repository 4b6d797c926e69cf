// Headless encryption of the vault's secrets: AES-256-GCM with a 32-byte master key that
// lives in the OS keyring when one answers, else in a 0600 key file beside the vault.
//
// Sealed format: [version 1 byte][nonce 12][GCM tag 16][ciphertext].
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fsp from 'node:fs/promises';
import { UserError } from '../platform/errors.js';
import { errnoCode } from './fs.js';
import { defaultKeyring, KEYRING_SERVICE, type KeyringBackend, keyringAccount } from './keyring.js';
import { keyFilePath, vaultPath } from './paths.js';
import type { Cipher, CipherKind, FileSystem } from '../platform/services.js';

const FORMAT_VERSION = 1;
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES;
// Binds ciphertexts to this use, so a blob sealed for something else never opens as a vault.
const AAD = Buffer.from('mcp-token-manager/vault-secrets');

export class CipherError extends UserError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('vault', message, hint, options);
    this.name = 'CipherError';
  }
}

export function seal(key: Buffer, plain: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new CipherError('The vault key has the wrong length.');
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(AAD);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), nonce, c.getAuthTag(), body]);
}

export function unseal(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < HEADER_BYTES || sealed[0] !== FORMAT_VERSION) {
    throw new CipherError('The sealed data is not in a format this version understands.');
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(1 + NONCE_BYTES, HEADER_BYTES);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(AAD);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(sealed.subarray(HEADER_BYTES)), d.final()]);
  } catch (err) {
    throw new CipherError('The sealed data could not be decrypted: wrong key, or the data was altered.', undefined, { cause: err });
  }
}

/** A Cipher over a key held in memory. */
export function keyCipher(key: Buffer, kind: CipherKind, description: string, weak: boolean): Cipher {
  const k = Buffer.from(key); // own copy: the caller may wipe theirs
  return {
    kind,
    description,
    weak,
    encrypt: async (plain) => seal(k, plain),
    decrypt: async (sealed) => unseal(k, sealed),
  };
}

/** A stored master key (base64 of KEY_BYTES bytes), or null when the text is not one. */
export function decodeKey(text: string): Buffer | null {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  const key = Buffer.from(t, 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/**
 * The master key from the keyring: the stored one, or (when `create`) a new one that is
 * only trusted after it reads back identically. Null when the keyring does not answer
 * (module missing, no session bus, locked, timed out) or holds no key and `create` is false.
 */
export async function keyFromKeyring(
  backend: KeyringBackend,
  account: string,
  create: boolean,
): Promise<{ key: Buffer } | { key: null; why: string }> {
  let existing: string | null;
  try {
    existing = await backend.get(KEYRING_SERVICE, account);
  } catch (err) {
    return { key: null, why: whyNot(backend, err) };
  }
  if (existing !== null) {
    const key = decodeKey(existing);
    if (key === null) return { key: null, why: `the key stored in ${backend.name} is damaged` };
    return { key };
  }
  if (!create) return { key: null, why: `${backend.name} holds no key for this vault` };
  const key = randomBytes(KEY_BYTES);
  try {
    await backend.set(KEYRING_SERVICE, account, key.toString('base64'));
    const back = await backend.get(KEYRING_SERVICE, account);
    const decoded = back === null ? null : decodeKey(back);
    if (decoded === null || !decoded.equals(key)) return { key: null, why: `${backend.name} did not give back what was stored` };
    return { key };
  } catch (err) {
    return { key: null, why: whyNot(backend, err) };
  }
}

function whyNot(backend: KeyringBackend, err: unknown): string {
  return `${backend.name} did not answer (${err instanceof Error ? err.message : String(err)})`;
}

// ---------------------------------------------------------------------------------------
// Key file

function modeString(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Reads the key file, creating it (O_EXCL, mode 0600) when `create` and it does not exist.
 * Refuses a key file others can read or write on POSIX. Returns null when absent and not creating.
 */
export async function loadKeyFile(
  path: string,
  options: { create: boolean; platform?: NodeJS.Platform },
): Promise<Buffer | null> {
  const posix = (options.platform ?? process.platform) !== 'win32';
  if (options.create) {
    const key = randomBytes(KEY_BYTES);
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw keyFileError(path, err);
    }
    if (handle !== undefined) {
      try {
        await handle.writeFile(`${key.toString('base64')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return key;
    }
  }
  // Another process may have created it a moment ago and be mid-write: a few short retries.
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      const st = await fsp.stat(path);
      if (posix && (st.mode & 0o077) !== 0) {
        throw new CipherError(
          `The key file ${path} can be read or changed by other users (mode ${modeString(st.mode)}); it is not used.`,
          `Run: chmod 600 "${path}" — and, if others may have read it, unlink and re-link your servers.`,
        );
      }
      text = await fsp.readFile(path, 'utf8');
    } catch (err) {
      if (err instanceof CipherError) throw err;
      if (errnoCode(err) === 'ENOENT' && !options.create) return null;
      throw keyFileError(path, err);
    }
    const key = decodeKey(text);
    if (key !== null) return key;
    if (attempt >= 5) {
      throw new CipherError(
        `The key file ${path} is damaged (not a base64 32-byte key).`,
        'Restore it from a backup; without it the secrets in the vault cannot be decrypted.',
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function keyFileError(path: string, err: unknown): CipherError {
  return new CipherError(`Could not use the key file ${path}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}.`, undefined, { cause: err });
}

// ---------------------------------------------------------------------------------------
// Choosing the key source

export type KeySource = 'keyring' | 'key-file';

/** The key source recorded in an existing vault file's clear part, if any. */
async function sealedWithOf(fs: FileSystem, file: string): Promise<string | null> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const doc = JSON.parse(raw.toString('utf8')) as { sealedWith?: unknown; sealed?: unknown };
    if (typeof doc.sealed !== 'string') return null;
    return typeof doc.sealedWith === 'string' ? doc.sealedWith : null;
  } catch {
    return null; // unparseable: the vault reports it and keeps it aside
  }
}

export interface HeadlessCipherOptions {
  home: string;
  fs: FileSystem;
  env?: NodeJS.ProcessEnv;
  /** Undefined: the platform's keyring (keyring.ts). Null: no keyring. Tests pass a fake. */
  keyring?: KeyringBackend | null;
  platform?: NodeJS.Platform;
}

/**
 * The Cipher for headless use. A new vault uses the OS keyring when it answers, else a key
 * file. An existing vault stays with the source it was sealed with; if that source is gone
 * this fails rather than making a new key, which would orphan the sealed secrets.
 * `MCP_TOKENS_KEYRING=off` never touches the keyring.
 */
export async function openHeadlessCipher(options: HeadlessCipherOptions): Promise<Cipher> {
  const { home, fs } = options;
  const env = options.env ?? process.env;
  const keyringOff = (env.MCP_TOKENS_KEYRING ?? '').toLowerCase() === 'off';
  const backend = keyringOff ? null : options.keyring === undefined ? defaultKeyring(options.platform) : options.keyring;
  const account = keyringAccount(home);
  const keyPath = keyFilePath(home);
  const vault = vaultPath(home);

  await fs.mkdir(home, 0o700);
  const sealedWith = await sealedWithOf(fs, vault);

  const keyringCipher = (key: Buffer, name: string) =>
    keyCipher(key, 'keyring', `OS keyring (${name})`, false);
  const fileCipher = (key: Buffer) =>
    keyCipher(
      key,
      'key-file',
      `key file ${keyPath} (mode 0600), beside the vault: anyone who can read your files can decrypt the tokens`,
      true,
    );

  if (sealedWith === 'keyring') {
    let why: string;
    if (keyringOff) why = 'MCP_TOKENS_KEYRING=off is set';
    else if (backend === null) why = 'no OS keyring is available on this system';
    else {
      const r = await keyFromKeyring(backend, account, false);
      if (r.key !== null) return keyringCipher(r.key, backend.name);
      why = r.why;
    }
    throw new CipherError(
      `The vault ${vault} was sealed with a key in the OS keyring, but it cannot be read: ${why}.`,
      'Unlock or start your keyring (and unset MCP_TOKENS_KEYRING=off), then try again. The vault file was not changed.',
    );
  }

  if (sealedWith === 'key-file') {
    const key = await loadKeyFile(keyPath, { create: false, platform: options.platform });
    if (key === null) {
      throw new CipherError(
        `The vault ${vault} was sealed with the key file ${keyPath}, which is missing.`,
        'Restore the key file from a backup. The vault file was not changed; a new key would not open it.',
      );
    }
    return fileCipher(key);
  }

  if (sealedWith !== null) {
    throw new CipherError(
      `The vault ${vault} was sealed with '${sealedWith}', which the command line cannot open.`,
      sealedWith === 'safe-storage' ? 'Use the desktop app for this data dir.' : undefined,
    );
  }

  // No sealed data yet: pick the best source that answers now.
  if (backend !== null) {
    const r = await keyFromKeyring(backend, account, true);
    if (r.key !== null) return keyringCipher(r.key, backend.name);
  }
  const key = await loadKeyFile(keyPath, { create: true, platform: options.platform });
  if (key === null) throw new CipherError(`Could not create the key file ${keyPath}.`);
  return fileCipher(key);
}
