// The app's bridge in the data dir: the plan (pure) and the copy (the glue, on real files), with
// the AppImage case: the app's files move to a new /tmp/.mount_XXXX at every launch.
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appExecutable, bridgeEntryText, bridgeKey, type BridgeManifest, installedKeyOf, parseBridgeManifest, planBridgeInstall } from '../../src-main/core/app-model/bridge-install.js';
import { installBridge } from '../../src-main/electron/bridge-install.js';
import type { Logger } from '../../src-main/core/platform/services.js';
import { ROOT, tempHome } from '../integration/cli-helpers.js';

const H = (c: string) => c.repeat(64);
const manifest = (version = '1.2.0', files = [{ path: 'cli.js', sha256: H('a'), size: 10 }, { path: 'chunk-X.js', sha256: H('b'), size: 5 }]): BridgeManifest => ({ version, entry: 'cli.js', files });

describe('planBridgeInstall', () => {
  it('installs on first start, then does nothing while the copy is intact', () => {
    const m = manifest();
    const key = bridgeKey(m);
    expect(key).toMatch(/^1\.2\.0-[0-9a-f]{12}$/);
    expect(planBridgeInstall(m, { entryText: undefined, folders: [], files: undefined })).toEqual({ key, copy: true, writeEntry: true, remove: [] });
    const ok = { entryText: bridgeEntryText(key, 'cli.js'), folders: [key], files: { 'cli.js': H('a'), 'chunk-X.js': H('b') } };
    expect(planBridgeInstall(m, ok)).toEqual({ key, copy: false, writeEntry: false, remove: [] });
  });

  it('repairs a damaged or incomplete copy and a missing or edited entry', () => {
    const m = manifest();
    const key = bridgeKey(m);
    const entryText = bridgeEntryText(key, 'cli.js');
    expect(planBridgeInstall(m, { entryText, folders: [key], files: { 'cli.js': H('a'), 'chunk-X.js': H('c') } }).copy).toBe(true);
    expect(planBridgeInstall(m, { entryText, folders: [key], files: { 'cli.js': H('a') } }).copy).toBe(true);
    const intact = { 'cli.js': H('a'), 'chunk-X.js': H('b') };
    expect(planBridgeInstall(m, { entryText: undefined, folders: [key], files: intact })).toMatchObject({ copy: false, writeEntry: true });
    expect(planBridgeInstall(m, { entryText: `${entryText}// edited\n`, folders: [key], files: intact })).toMatchObject({ copy: false, writeEntry: true });
  });

  it('on update keeps the previous build (running bridges load its chunks lazily) and drops older ones and unfinished copies', () => {
    const old = manifest('1.1.0', [{ path: 'cli.js', sha256: H('d'), size: 1 }]);
    const older = manifest('1.0.0', [{ path: 'cli.js', sha256: H('e'), size: 1 }]);
    const m = manifest();
    const plan = planBridgeInstall(m, { entryText: bridgeEntryText(bridgeKey(old), 'cli.js'), folders: [bridgeKey(older), bridgeKey(old), '.tmp-abc', 'notes.txt'], files: undefined });
    expect(plan).toEqual({ key: bridgeKey(m), copy: true, writeEntry: true, remove: [bridgeKey(older), '.tmp-abc'] });
    expect(installedKeyOf(bridgeEntryText(bridgeKey(old), 'cli.js'))).toBe(bridgeKey(old));
    expect(installedKeyOf("import '../../etc/x.js';")).toBeUndefined();
  });

  it('a rebuild with the same version is a different build', () => {
    expect(bridgeKey(manifest('1.2.0', [{ path: 'cli.js', sha256: H('f'), size: 10 }]))).not.toBe(bridgeKey(manifest()));
  });

  it('refuses manifests with paths that leave the folder or no entry', () => {
    const bad = [
      { version: '1', entry: 'cli.js', files: [{ path: '../cli.js', sha256: H('a'), size: 1 }] },
      { version: '1', entry: 'cli.js', files: [{ path: '/etc/cli.js', sha256: H('a'), size: 1 }] },
      { version: '1', entry: 'cli.js', files: [{ path: 'a\\cli.js', sha256: H('a'), size: 1 }] },
      { version: '1', entry: 'cli.js', files: [{ path: 'other.js', sha256: H('a'), size: 1 }] },
      { version: '1/..', entry: 'cli.js', files: [{ path: 'cli.js', sha256: H('a'), size: 1 }] },
      { version: '1', entry: 'cli.js', files: [{ path: 'cli.js', sha256: 'nothex', size: 1 }] },
    ];
    for (const b of bad) expect(() => parseBridgeManifest(JSON.stringify(b))).toThrow(/bridge manifest is invalid/);
    expect(() => parseBridgeManifest('{')).toThrow(/not JSON/);
  });
});

describe('appExecutable', () => {
  it('is the AppImage file only when the executable runs from that AppImage\'s mount', () => {
    const env = { APPIMAGE: '/home/me/Apps/MCP.AppImage', APPDIR: '/tmp/.mount_Ab12Cd' };
    expect(appExecutable('/tmp/.mount_Ab12Cd/mcp-token-manager', env)).toBe('/home/me/Apps/MCP.AppImage');
    expect(appExecutable('/tmp/.mount_Ab12Cd/mcp-token-manager', { APPIMAGE: env.APPIMAGE })).toBe('/tmp/.mount_Ab12Cd/mcp-token-manager');
    // A deb install started from a terminal that itself runs from an AppImage inherits both.
    expect(appExecutable('/opt/MCP Token Manager/mcp-token-manager', { APPIMAGE: '/home/me/Term.AppImage', APPDIR: '/tmp/.mount_Zz' })).toBe('/opt/MCP Token Manager/mcp-token-manager');
    expect(appExecutable('/tmp/.mount_Ab12CdX/x', env)).toBe('/tmp/.mount_Ab12CdX/x');
    expect(appExecutable('/Applications/MCP Token Manager.app/Contents/MacOS/MCP Token Manager', {})).toBe('/Applications/MCP Token Manager.app/Contents/MacOS/MCP Token Manager');
  });
});

describe('installBridge on real files (the built dist/)', () => {
  const logs: string[] = [];
  const logger: Logger = { log: (level, msg) => logs.push(`${level} ${msg}`) } as Logger;
  let home: string;
  let mounts: string;

  /** Copies the built app files the way an AppImage mount presents them: resources/app.asar/dist. */
  async function mount(name: string): Promise<string> {
    const dist = join(mounts, name, 'resources', 'app.asar', 'dist');
    await mkdir(dist, { recursive: true });
    await cp(join(ROOT, 'dist'), dist, { recursive: true, filter: (src) => !src.endsWith('.map') && !src.includes('/renderer') });
    return dist;
  }

  function runEntry(entry: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, HOME: home, MCP_TOKENS_HOME: home, MCP_TOKENS_KEYRING: 'off', ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      const t = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    home = await tempHome();
    mounts = await tempHome();
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    await rm(mounts, { recursive: true, force: true });
  });

  it('AppImage: the entry written at the first launch still runs after that mount is gone, and the next launch (new mount) keeps it', async () => {
    const first = await mount('.mount_AAAA');
    const a = await installBridge({ home, distDir: first, logger });
    expect(a.copied).toBe(true);
    expect(a.entry).toBe(join(home, 'bridge', 'mcp-tokens.mjs'));
    const m = parseBridgeManifest(await readFile(join(ROOT, 'dist/electron/bridge-manifest.json'), 'utf8'));
    // Exactly the dist/ CLI build npm users run (and the bench measures): same names, same bytes.
    const installed = (await readdir(join(home, 'bridge', a.key), { recursive: true })).filter((f) => f !== 'package.json').sort();
    expect(installed).toEqual(m.files.map((f) => f.path).sort());
    for (const f of m.files) expect((await readFile(join(home, 'bridge', a.key, f.path))).equals(await readFile(join(ROOT, 'dist', f.path))), f.path).toBe(true);

    // The app quits, the AppImage unmounts.
    await rm(join(mounts, '.mount_AAAA'), { recursive: true, force: true });
    const r = await runEntry(a.entry, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(expect.anything());

    const second = await mount('.mount_BBBB');
    const b = await installBridge({ home, distDir: second, logger });
    expect(b).toEqual({ entry: a.entry, key: a.key, copied: false });
  });

  it('a damaged copy is replaced whole at the next start, and a damaged app is refused without touching the installed bridge', async () => {
    const dist = await mount('.mount_CCCC');
    const { key, entry } = await installBridge({ home, distDir: dist, logger });
    await writeFile(join(home, 'bridge', key, 'cli.js'), 'garbage');
    const again = await installBridge({ home, distDir: dist, logger });
    expect(again.copied).toBe(true);
    expect((await readFile(join(home, 'bridge', key, 'cli.js'))).equals(await readFile(join(ROOT, 'dist', 'cli.js')))).toBe(true);

    // A newer build whose files do not match their manifest: refused, the old entry still works.
    const m = JSON.parse(await readFile(join(dist, 'electron/bridge-manifest.json'), 'utf8')) as BridgeManifest;
    m.version = '9.9.9';
    await writeFile(join(dist, 'electron/bridge-manifest.json'), JSON.stringify(m));
    await writeFile(join(dist, 'cli.js'), 'tampered');
    await expect(installBridge({ home, distDir: dist, logger })).rejects.toThrow(/does not match its manifest/);
    expect(await readFile(entry, 'utf8')).toBe(bridgeEntryText(key, 'cli.js'));
    expect((await readdir(join(home, 'bridge'))).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect((await runEntry(entry, ['--help'])).code).toBe(0);
  });
});
