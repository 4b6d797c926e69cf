import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CipherError, loadKeyFile, openHeadlessCipher, seal, unseal } from '../../src-main/core/vault/cipher.js';
import { type KeyringBackend, KEYRING_SERVICE, keyringAccount } from '../../src-main/core/vault/keyring.js';
import { nodeFileSystem } from '../../src-main/core/vault/fs.js';
import { keyFilePath, vaultPath } from '../../src-main/core/vault/paths.js';

// The one allowed fake: an OS keychain cannot exist on this machine.
class FakeKeyring implements KeyringBackend {
  readonly name = 'Fake Keyring';
  readonly items = new Map<string, string>();
  answering = true;
  calls = 0;
  async get(service: string, account: string): Promise<string | null> {
    this.calls++;
    if (!this.answering) throw new Error('no session bus');
    return this.items.get(`${service}/${account}`) ?? null;
  }
  async set(service: string, account: string, secret: string): Promise<void> {
    this.calls++;
    if (!this.answering) throw new Error('no session bus');
    this.items.set(`${service}/${account}`, secret);
  }
}

let home: string;
beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-cipher-'));
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

const env = {} as NodeJS.ProcessEnv;
const sealedVault = (sealedWith: string) => fsp.writeFile(vaultPath(home), JSON.stringify({ version: 1, sealedWith, servers: {}, clients: {}, pending: [], sealed: 'AAAA' }));

describe('seal / unseal', () => {
  const key = randomBytes(32);
  it('round-trips, in the documented format, with a fresh nonce each time', () => {
    const plain = Buffer.from('{"tokens":{"a":"secret"}}');
    const a = seal(key, plain);
    const b = seal(key, plain);
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + 16 + plain.length);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(unseal(key, a).toString()).toBe(plain.toString());
    expect(a.includes(Buffer.from('secret'))).toBe(false);
  });
  it('rejects altered data, a wrong key, and an unknown version', () => {
    const s = seal(key, Buffer.from('hello world'));
    const flipped = Buffer.from(s);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => unseal(key, flipped)).toThrow(CipherError);
    expect(() => unseal(randomBytes(32), s)).toThrow(/could not be decrypted/);
    const v2 = Buffer.from(s);
    v2[0] = 2;
    expect(() => unseal(key, v2)).toThrow(/format/);
  });
});

describe('key file', () => {
  it('is created with mode 0600 holding 32 random bytes, and reused', async () => {
    const p = keyFilePath(home);
    const k1 = await loadKeyFile(p, { create: true });
    const st = await fsp.stat(p);
    if (process.platform !== 'win32') expect(st.mode & 0o777).toBe(0o600);
    expect(Buffer.from((await fsp.readFile(p, 'utf8')).trim(), 'base64').length).toBe(32);
    const k2 = await loadKeyFile(p, { create: true });
    expect(k2!.equals(k1!)).toBe(true);
  });
  it('concurrent creators end up with one key (O_EXCL)', async () => {
    const p = keyFilePath(home);
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadKeyFile(p, { create: true })));
    for (const k of keys) expect(k!.equals(keys[0]!)).toBe(true);
  });
  it.skipIf(process.platform === 'win32')('refuses a key file others can read, and says how to fix it', async () => {
    const p = keyFilePath(home);
    await loadKeyFile(p, { create: true });
    await fsp.chmod(p, 0o644);
    const err = await loadKeyFile(p, { create: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CipherError);
    expect((err as CipherError).message).toContain('mode 0644');
    expect((err as CipherError).hint).toContain(`chmod 600 "${p}"`);
    await fsp.chmod(p, 0o640);
    await expect(loadKeyFile(p, { create: true })).rejects.toThrow(/0640/);
    await fsp.chmod(p, 0o600);
    await expect(loadKeyFile(p, { create: false })).resolves.toBeInstanceOf(Buffer);
  });
  it('reports a damaged key file instead of replacing it', async () => {
    const p = keyFilePath(home);
    await fsp.writeFile(p, 'not a key', { mode: 0o600 });
    await expect(loadKeyFile(p, { create: true })).rejects.toThrow(/damaged/);
    expect(await fsp.readFile(p, 'utf8')).toBe('not a key');
  });
});

describe('openHeadlessCipher', () => {
  it('uses the keyring when it answers, keyed per data dir', async () => {
    const kr = new FakeKeyring();
    const c = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr });
    expect(c.kind).toBe('keyring');
    expect(c.weak).toBe(false);
    expect(c.description).toContain('Fake Keyring');
    expect(kr.items.has(`${KEYRING_SERVICE}/${keyringAccount(home)}`)).toBe(true);
    expect(await fsp.stat(keyFilePath(home)).catch(() => null)).toBeNull();
    const sealed = await c.encrypt(Buffer.from('x'));
    const again = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr });
    expect((await again.decrypt(sealed)).toString()).toBe('x');
  });
  it('falls back to a weak key file when the keyring does not answer', async () => {
    const kr = new FakeKeyring();
    kr.answering = false;
    const c = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr });
    expect(c.kind).toBe('key-file');
    expect(c.weak).toBe(true);
    expect(c.description).toContain(keyFilePath(home));
    expect(c.description).toContain('0600');
    expect(c.description).toMatch(/beside the vault/);
  });
  it('falls back when the keyring stores but gives back something else (no round trip)', async () => {
    const kr = new FakeKeyring();
    kr.set = async () => undefined; // accepts and forgets
    const c = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr });
    expect(c.kind).toBe('key-file');
  });
  it('MCP_TOKENS_KEYRING=off never touches the keyring', async () => {
    const kr = new FakeKeyring();
    const c = await openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' }, keyring: kr });
    expect(c.kind).toBe('key-file');
    expect(kr.calls).toBe(0);
  });
  it('stays with the key file a vault was sealed with, even when a keyring answers', async () => {
    const first = await openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' } });
    const blob = await first.encrypt(Buffer.from('kept'));
    await sealedVault('key-file');
    const kr = new FakeKeyring();
    const c = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr });
    expect(c.kind).toBe('key-file');
    expect((await c.decrypt(blob)).toString()).toBe('kept');
    expect(kr.items.size).toBe(0);
  });
  it('fails clearly, making no new key, when the sealing keyring is gone', async () => {
    await sealedVault('keyring');
    const kr = new FakeKeyring();
    kr.answering = false;
    const err = await openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CipherError);
    expect((err as Error).message).toMatch(/sealed with a key in the OS keyring/);
    expect(await fsp.stat(keyFilePath(home)).catch(() => null)).toBeNull();
    // Answering but holding no key: still no new key anywhere.
    kr.answering = true;
    await expect(openHeadlessCipher({ home, fs: nodeFileSystem, env, keyring: kr })).rejects.toThrow(/holds no key/);
    expect(kr.items.size).toBe(0);
    await expect(openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' }, keyring: kr })).rejects.toThrow(/MCP_TOKENS_KEYRING=off/);
    expect(await fsp.stat(keyFilePath(home)).catch(() => null)).toBeNull();
  });
  it('fails clearly, making no new key file, when the sealing key file is gone', async () => {
    await sealedVault('key-file');
    const err = await openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/key file .* is missing/);
    expect(await fsp.stat(keyFilePath(home)).catch(() => null)).toBeNull();
  });
});
