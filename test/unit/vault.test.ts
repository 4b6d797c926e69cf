import { spawn, spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyCipher, openHeadlessCipher } from '../../src-main/core/vault/cipher.js';
import { ensurePrivateDir, nodeFileSystem, writeFileAtomic } from '../../src-main/core/vault/fs.js';
import { dataHome, keyFilePath, logDir, runDir, vaultPath } from '../../src-main/core/vault/paths.js';
import type { Cipher, FileSystem, Logger } from '../../src-main/core/platform/services.js';
import { Redactor } from '../../src-main/core/platform/redact.js';
import type { ServerRecord, VaultData } from '../../src-main/core/types.js';
import { Vault, VaultCorruptError, VaultWriteError } from '../../src-main/core/vault/vault.js';

const ACCESS = 'at-PLAINTEXT-access-4f1c2a';
const REFRESH = 'rt-PLAINTEXT-refresh-9d8e7f';
const CLIENT_SECRET = 'cs-PLAINTEXT-client-secret-1b2c';
const clock = { now: () => Date.UTC(2025, 4, 6, 7, 8, 9) };
// Tests never touch a real keyring.
const env = { MCP_TOKENS_KEYRING: 'off' } as NodeJS.ProcessEnv;

let root: string;
let home: string;
beforeEach(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-vault-'));
  home = path.join(root, 'data', 'home'); // does not exist yet: open must create it
});
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

async function openVault(extra: { fs?: FileSystem; cipher?: Cipher; redactor?: Redactor; logger?: Logger } = {}) {
  const fs = extra.fs ?? nodeFileSystem;
  const cipher = extra.cipher ?? (await openHeadlessCipher({ home, fs: nodeFileSystem, env }));
  return Vault.open({ home, fs, cipher, clock, retryDelayMs: 1, ...(extra.redactor ? { redactor: extra.redactor } : {}), ...(extra.logger ? { logger: extra.logger } : {}) });
}

function server(id: string, name = 'Example MCP'): ServerRecord {
  return {
    id,
    name,
    url: 'https://mcp.example/mcp',
    resource: 'https://mcp.example/mcp',
    issuer: 'https://as.example',
    asMetadata: { issuer: 'https://as.example' },
    clientKey: 'https://as.example',
    requestedScopes: ['read'],
    flow: 'browser',
    createdAt: 1,
    updatedAt: 1,
    state: { status: 'ok' },
    activity: [],
  };
}

async function seed(v: Vault): Promise<void> {
  await v.update((d) => {
    d.servers.s1 = server('s1');
    d.secrets.tokens.s1 = { accessToken: ACCESS, refreshToken: REFRESH };
    d.secrets.clients['https://as.example'] = { clientSecret: CLIENT_SECRET };
  });
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('Vault storage', () => {
  it('starts empty, round-trips, and seals secrets: no plaintext secret in the file', async () => {
    const v = await openVault();
    expect(await v.read()).toEqual({ version: 1, servers: {}, clients: {}, secrets: { tokens: {}, clients: {} }, pending: [] });
    await seed(v);

    const bytes = await fsp.readFile(vaultPath(home));
    for (const s of [ACCESS, REFRESH, CLIENT_SECRET, 'PLAINTEXT']) {
      expect(bytes.includes(Buffer.from(s)), s).toBe(false);
      expect(bytes.includes(Buffer.from(Buffer.from(s).toString('base64').slice(0, 16))), `${s} as base64`).toBe(false);
    }
    const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    expect(doc).toMatchObject({ version: 1, sealedWith: 'key-file', servers: { s1: { name: 'Example MCP' } }, pending: [] });
    expect(typeof doc.sealed).toBe('string');

    const again = await openVault();
    const d = await again.read();
    expect(d.secrets.tokens.s1).toEqual({ accessToken: ACCESS, refreshToken: REFRESH });
    expect(d.secrets.clients['https://as.example']?.clientSecret).toBe(CLIENT_SECRET);
    expect(d.servers.s1?.name).toBe('Example MCP');
  });

  it.skipIf(process.platform === 'win32')('creates the home dir 0700 and the file 0600', async () => {
    const v = await openVault();
    await seed(v);
    expect((await fsp.stat(home)).mode & 0o777).toBe(0o700);
    expect((await fsp.stat(vaultPath(home))).mode & 0o777).toBe(0o600);
  });

  it('returns what fn returned, and writes nothing when fn throws', async () => {
    const v = await openVault();
    await seed(v);
    const before = await fsp.readFile(vaultPath(home));
    expect(await v.update((d) => Object.keys(d.servers).length)).toBe(1);
    await expect(
      v.update((d) => {
        delete d.servers.s1;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await fsp.readFile(vaultPath(home))).equals(before)).toBe(true);
    expect((await v.read()).servers.s1).toBeDefined();
  });

  it('registers loaded secrets with the redactor', async () => {
    const r = new Redactor();
    await seed(await openVault());
    const v = await openVault({ redactor: r });
    await v.read();
    expect(r.redact(`x ${REFRESH} ${CLIENT_SECRET}`)).toBe('x [REDACTED] [REDACTED]');
  });

  it('concurrent updates in one process lose nothing', async () => {
    const v = await openVault();
    await seed(v);
    await Promise.all(
      Array.from({ length: 15 }, () =>
        v.update((d) => {
          d.servers.s1!.updatedAt += 1;
        }),
      ),
    );
    expect((await v.read()).servers.s1!.updatedAt).toBe(16);
  });

  it('concurrent updates from two processes lose nothing (20 + 20 = 40)', async () => {
    await seed(await openVault()); // creates the key file before the children race
    const mod = (p: string) => JSON.stringify(pathToFileURL(path.resolve(p)).href);
    const script = path.join(root, 'child.mts');
    await fsp.writeFile(
      script,
      `import { openHeadlessCipher } from ${mod('src-main/core/vault/cipher.ts')};
import { nodeFileSystem } from ${mod('src-main/core/vault/fs.ts')};
import { systemClock } from ${mod('src-main/core/platform/services.ts')};
import { Vault } from ${mod('src-main/core/vault/vault.ts')};
const home = process.argv[2];
const cipher = await openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' } });
const vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
for (let i = 0; i < 20; i++) {
  await vault.update((d) => {
    const n = Number(d.secrets.tokens.s1.accessToken.split(':')[1] ?? 0);
    d.secrets.tokens.s1.accessToken = 'counter:' + (n + 1);
    d.servers.s1.updatedAt += 1;
  });
}
`,
    );
    const run = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, home], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stderr });
        });
      });
    const results = await Promise.all([run(), run()]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const d = await (await openVault()).read();
    expect(d.secrets.tokens.s1!.accessToken).toBe('counter:40');
    expect(d.servers.s1!.updatedAt).toBe(41);
  });
});

describe('Vault failures', () => {
  it('a failed write is retried, then reported without secrets, and the previous vault stays intact', async () => {
    const v0 = await openVault();
    await seed(v0);
    const before = await fsp.readFile(vaultPath(home));
    let attempts = 0;
    const failing: FileSystem = {
      ...nodeFileSystem,
      async writeFileAtomic() {
        attempts++;
        throw Object.assign(new Error(`disk trouble while writing ${ACCESS}`), { code: 'ENOSPC', syscall: 'write' });
      },
    };
    const v = await openVault({ fs: failing });
    const err = await v
      .update((d) => {
        d.secrets.tokens.s1 = { accessToken: 'at-NEW-never-saved-77', refreshToken: 'rt-NEW-never-saved-88' };
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultWriteError);
    expect(attempts).toBe(3);
    const msg = `${(err as VaultWriteError).message} ${(err as VaultWriteError).hint}`;
    expect(msg).toContain(vaultPath(home));
    expect(msg).toContain('ENOSPC');
    expect((err as VaultWriteError).errno).toBe('ENOSPC');
    for (const s of [ACCESS, REFRESH, 'at-NEW-never-saved-77', 'rt-NEW-never-saved-88']) expect(msg).not.toContain(s);

    expect((await fsp.readFile(vaultPath(home))).equals(before)).toBe(true);
    const d = await (await openVault()).read();
    expect(d.secrets.tokens.s1).toEqual({ accessToken: ACCESS, refreshToken: REFRESH });
  });

  it('a write error without errno is described with secrets redacted', async () => {
    await seed(await openVault());
    const failing: FileSystem = {
      ...nodeFileSystem,
      async writeFileAtomic() {
        throw new Error('backend echoed at-NEW-echoed-secret-55');
      },
    };
    const v = await openVault({ fs: failing, redactor: new Redactor() });
    const err = await v
      .update((d) => {
        d.secrets.tokens.s1 = { accessToken: 'at-NEW-echoed-secret-55' };
      })
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(VaultWriteError);
    expect((err as Error).message).not.toContain('at-NEW-echoed-secret-55');
    expect((err as Error).message).toContain('backend echoed [REDACTED]');
  });

  it('a vault.json that is not JSON is kept aside, never replaced, and the error says where', async () => {
    await fsp.mkdir(home, { recursive: true });
    await fsp.writeFile(vaultPath(home), '{"version":1, "servers": {  <truncated');
    const err = await openVault().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultCorruptError);
    const e = err as VaultCorruptError;
    expect(e.reason).toBe('unparseable');
    expect(e.keptAt).toBe(`${vaultPath(home)}.corrupt-2025-05-06T07-08-09-000Z`);
    expect(e.message).toContain(e.keptAt);
    expect(await fsp.readFile(e.keptAt, 'utf8')).toBe('{"version":1, "servers": {  <truncated');
    expect(await fsp.stat(vaultPath(home)).catch(() => null)).toBeNull();
    // From now on a new, empty vault; the old file is still there.
    const v = await openVault();
    expect((await v.read()).servers).toEqual({});
    expect(await fsp.readFile(e.keptAt, 'utf8')).toContain('<truncated');
  });

  it('read() also sets an unparseable file aside (not overwriting an earlier one)', async () => {
    const v = await openVault();
    await seed(v);
    await fsp.writeFile(vaultPath(home), 'garbage 1');
    const e1 = (await v.read().catch((e: unknown) => e)) as VaultCorruptError;
    await fsp.writeFile(vaultPath(home), 'garbage 2');
    const e2 = (await v.read().catch((e: unknown) => e)) as VaultCorruptError;
    expect(e1).toBeInstanceOf(VaultCorruptError);
    expect(e2.keptAt).not.toBe(e1.keptAt);
    expect(await fsp.readFile(e1.keptAt, 'utf8')).toBe('garbage 1');
    expect(await fsp.readFile(e2.keptAt, 'utf8')).toBe('garbage 2');
  });

  it('a vault that cannot be decrypted stays in place, unchanged', async () => {
    await seed(await openVault());
    const before = await fsp.readFile(vaultPath(home));
    // Someone replaced the key file with another valid key.
    await fsp.writeFile(keyFilePath(home), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    const err = await openVault().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultCorruptError);
    const e = err as VaultCorruptError;
    expect(e.reason).toBe('undecryptable');
    expect(e.keptAt).toBe(vaultPath(home));
    expect(e.message).toContain(vaultPath(home));
    expect(e.message).toMatch(/left in place/);
    expect((await fsp.readFile(vaultPath(home))).equals(before)).toBe(true);
    expect((await fsp.readdir(home)).some((n) => n.includes('corrupt'))).toBe(false);
  });

  it('refuses a vault sealed with another key source instead of overwriting it', async () => {
    await seed(await openVault());
    const before = await fsp.readFile(vaultPath(home));
    const other = keyCipher(Buffer.alloc(32, 1), 'test', 'test key', false);
    const err = await openVault({ cipher: other }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'key-mismatch' });
    expect((await fsp.readFile(vaultPath(home))).equals(before)).toBe(true);
  });
});

describe('Vault recovery at open', () => {
  it('deletes leftover temp files and reports them', async () => {
    await seed(await openVault());
    const tmp = path.join(home, `.vault.json.${deadPid()}.a1b2c3d4e5f6.tmp`);
    await fsp.writeFile(tmp, 'half a vault');
    const other = path.join(home, '.other.json.1.ab.tmp');
    await fsp.writeFile(other, 'not ours');
    const v = await openVault();
    expect(await fsp.stat(tmp).catch(() => null)).toBeNull();
    expect(await fsp.stat(other).catch(() => null)).not.toBeNull();
    expect(v.startupReport).toHaveLength(1);
    expect(v.startupReport[0]).toMatch(/unfinished vault write/);
    expect((await v.read()).secrets.tokens.s1?.accessToken).toBe(ACCESS);
  });

  it('reports and clears pending ops of dead processes, keeps live ones', async () => {
    const v0 = await openVault();
    await seed(v0);
    const startedAt = Date.UTC(2025, 4, 6, 7, 0, 0);
    await v0.update((d) => {
      d.pending.push({ id: 'dead-op', op: 'refresh', serverId: 's1', startedAt, pid: deadPid() });
      d.pending.push({ id: 'live-op', op: 'refresh', serverId: 's1', startedAt, pid: process.pid });
    });
    const logged: string[] = [];
    const v = await openVault({ logger: { log: (_l, m) => logged.push(m) } });
    expect(v.startupReport).toHaveLength(1);
    expect(v.startupReport[0]).toContain(`A refresh of 'Example MCP' started at ${new Date(startedAt).toISOString()} did not finish:`);
    expect(logged).toContain(v.startupReport[0]);
    const d = await v.read();
    expect(d.pending.map((p) => p.id)).toEqual(['live-op']);
    // Reported once: the next open finds nothing to say.
    expect((await openVault()).startupReport).toEqual([]);
  });

  it('beginOp / endOp record and clear an op on disk', async () => {
    const v = await openVault();
    await seed(v);
    const id = await v.beginOp('refresh', 's1');
    const onDisk = JSON.parse(await fsp.readFile(vaultPath(home), 'utf8')) as VaultData;
    expect(onDisk.pending).toEqual([{ id, op: 'refresh', serverId: 's1', startedAt: clock.now(), pid: process.pid }]);
    await v.endOp(id);
    expect((await v.read()).pending).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it.skipIf(process.platform === 'win32')('replaces content, applies the mode of a new file, leaves no temp file', async () => {
    await fsp.mkdir(home, { recursive: true });
    const f = path.join(home, 'x.json');
    await fsp.writeFile(f, 'old', { mode: 0o644 });
    await writeFileAtomic(f, 'new');
    expect(await fsp.readFile(f, 'utf8')).toBe('new');
    expect((await fsp.stat(f)).mode & 0o777).toBe(0o600);
    expect(await fsp.readdir(home)).toEqual(['x.json']);
  });
  it('removes its temp file when the rename fails, and keeps the target', async () => {
    await fsp.mkdir(path.join(home, 'target-is-a-dir'), { recursive: true });
    await expect(writeFileAtomic(path.join(home, 'target-is-a-dir'), 'data')).rejects.toThrow();
    expect((await fsp.readdir(home)).sort()).toEqual(['target-is-a-dir']);
  });
});

describe('ensurePrivateDir', () => {
  it.skipIf(process.platform === 'win32')('creates 0700 and tightens a looser existing dir', async () => {
    const run = runDir(home);
    await ensurePrivateDir(run);
    expect((await fsp.stat(run)).mode & 0o777).toBe(0o700);
    await fsp.chmod(run, 0o755);
    await ensurePrivateDir(run);
    expect((await fsp.stat(run)).mode & 0o777).toBe(0o700);
  });
});

describe('dataHome', () => {
  it('prefers MCP_TOKENS_HOME, else the platform app-data dir', () => {
    expect(dataHome({ MCP_TOKENS_HOME: '/tmp/mt' }, 'linux', '/home/u')).toBe('/tmp/mt');
    expect(dataHome({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/MCP Token Manager');
    expect(dataHome({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\MCP Token Manager');
    expect(dataHome({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux', '/home/u')).toBe('/x/cfg/mcp-token-manager');
    expect(dataHome({ XDG_CONFIG_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.config/mcp-token-manager');
    expect(dataHome({}, 'linux', '/home/u')).toBe('/home/u/.config/mcp-token-manager');
    expect([vaultPath('/h'), keyFilePath('/h'), logDir('/h'), runDir('/h')]).toEqual(
      [path.join('/h', 'vault.json'), path.join('/h', 'vault.key'), path.join('/h', 'logs'), path.join('/h', 'run')],
    );
  });
});
