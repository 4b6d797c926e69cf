// electron-builder.yml, checked by electron-builder's own validator (packaging itself needs the
// Electron binary, which cannot be downloaded here): the fuses, and that the packaged files
// include the dist/ CLI build the app installs as its bridge.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBridgeManifest } from '../../src-main/core/app-model/bridge-install.js';
import { ROOT } from '../integration/cli-helpers.js';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, log: { isEnabled: boolean; add(): void }): Promise<void> };
const { minimatch } = require('minimatch') as { minimatch(p: string, pattern: string, o?: object): boolean };

interface BuilderConfig {
  files: string[];
  asarUnpack?: string[];
  electronFuses: Record<string, boolean>;
  asar: boolean;
}

const load = async () => yaml.load(await readFile(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

/** electron-builder's reading of `files`: later patterns override earlier ones, `!` excludes. */
function packed(files: string[], p: string): boolean {
  let inc = false;
  for (const pat of files) {
    if (pat.startsWith('!')) {
      if (minimatch(p, pat.slice(1), { dot: true })) inc = false;
    } else if (minimatch(p, pat, { dot: true })) inc = true;
  }
  return inc;
}

describe('electron-builder.yml', () => {
  it('is a valid electron-builder 26 configuration', async () => {
    await expect(validateConfiguration(await load(), { isEnabled: false, add() {} })).resolves.toBeUndefined();
  });

  it('sets the fuses: runAsNode on (the bridge needs it), Node options and inspect off, asar only and checked', async () => {
    const c = await load();
    expect(c.asar).toBe(true);
    expect(c.electronFuses).toMatchObject({
      runAsNode: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs the dist/ CLI files the bridge manifest lists, the app and the renderer, but no source maps', async () => {
    const c = await load();
    const m = parseBridgeManifest(await readFile(join(ROOT, 'dist/electron/bridge-manifest.json'), 'utf8'));
    for (const f of m.files) expect(packed(c.files, `dist/${f.path}`), f.path).toBe(true);
    for (const f of ['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/electron/bridge-manifest.json', 'dist/renderer/index.html', 'package.json']) expect(packed(c.files, f), f).toBe(true);
    expect(packed(c.files, 'dist/cli.js.map')).toBe(false);
    expect(packed(c.files, 'node_modules/react/index.js')).toBe(false);
    // Nothing needs to be unpacked from the asar for the bridge: the app copies it out itself.
    expect(c.asarUnpack ?? []).toEqual([]);
  });
});
