import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runConfigCommand } from '../../src-main/cli/config-command.js';
import { runMigrateCommand } from '../../src-main/cli/migrate-command.js';
import { assertLauncherWorks, bridgeEntry, checkLauncher, dataDirEnv, runningLauncher } from '../../src-main/core/clients/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe("the app's own bridge in client configs", () => {
  const appLauncher = { command: '/Applications/MCP Token Manager.app/Contents/MacOS/MCP Token Manager', args: ['/x/app.asar.unpacked/dist/electron/mcp-tokens.mjs'], env: { ELECTRON_RUN_AS_NODE: '1' } };
  it('runs the bundled bridge with the app binary as Node, so no global Node is needed', () => {
    expect(bridgeEntry('claude', 'linear', appLauncher)).toEqual({ command: appLauncher.command, args: [...appLauncher.args, 'bridge', 'linear'], env: { ELECTRON_RUN_AS_NODE: '1' } });
    expect(bridgeEntry('vscode', 'linear', appLauncher)).toMatchObject({ type: 'stdio', env: { ELECTRON_RUN_AS_NODE: '1' } });
  });
  it('runs this Node and the real path of bin/mcp-tokens.js by default, never a package name', () => {
    const e = bridgeEntry('claude', 'linear') as { command: string; args: string[] };
    expect(e).toEqual({ command: process.execPath, args: [path.join(ROOT, 'bin', 'mcp-tokens.js'), 'bridge', 'linear'] });
    expect(path.isAbsolute(e.command) && existsSync(e.command) && existsSync(e.args[0]!)).toBe(true);
    expect(JSON.stringify(e)).not.toMatch(/npx/);
  });
  it('finds bin/mcp-tokens.js through a symlink on PATH (a global install)', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-bin-'));
    try {
      await fsp.symlink(path.join(ROOT, 'bin', 'mcp-tokens.js'), path.join(dir, 'mcp-tokens'));
      expect(runningLauncher(path.join(dir, 'mcp-tokens')).args).toEqual([path.join(ROOT, 'bin', 'mcp-tokens.js')]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
  it('carries a non-default data dir, and only then', () => {
    const home = '/home/u';
    expect(dataDirEnv({ HOME: home }, 'linux')).toEqual({});
    expect(dataDirEnv({ HOME: home, MCP_TOKENS_HOME: `${home}/.config/mcp-token-manager` }, 'linux')).toEqual({});
    expect(dataDirEnv({ HOME: home, MCP_TOKENS_HOME: '/tmp/demo' }, 'linux')).toEqual({ MCP_TOKENS_HOME: '/tmp/demo' });
    // Clients start servers without the shell's XDG_* variables.
    expect(dataDirEnv({ HOME: home, XDG_CONFIG_HOME: '/xdg' }, 'linux')).toEqual({ MCP_TOKENS_HOME: '/xdg/mcp-token-manager' });
  });
  it('refuses a launcher that does not start, with the reason', async () => {
    expect(await checkLauncher({ command: 'npx', args: ['mcp-tokens'] })).toMatchObject({ ok: false, reason: 'npx is not an absolute path' });
    expect(await checkLauncher({ command: '/nonexistent/node', args: [] })).toMatchObject({ ok: false, reason: '/nonexistent/node does not exist' });
    expect(await checkLauncher({ command: process.execPath, args: ['/nonexistent/mcp-tokens.js'] })).toMatchObject({ ok: false });
    await expect(assertLauncherWorks({ command: process.execPath, args: ['-e', 'process.exit(3)'] })).rejects.toThrow(/does not start .*nothing was written/);
    expect(await checkLauncher(runningLauncher())).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+/) });
  });
});

describe('config and migrate refuse a launcher that does not start', () => {
  const broken = { command: process.execPath, args: ['/nonexistent/bin/mcp-tokens.js'] };
  it('config --write: a clear reason, and no file written', async () => {
    const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-launch-'));
    try {
      const file = path.join(home, 'claude.json');
      const run = runConfigCommand(['claude', 'x'], { write: true, file, json: true }, { HOME: home }, { launcher: broken, lookup: async () => ({ id: 'x', name: 'X', url: 'https://x.example/mcp' }), stdout: () => {}, stderr: () => {} });
      await expect(run).rejects.toThrow(/The bridge launcher `.*\/nonexistent\/bin\/mcp-tokens\.js` does not start \(.+\); nothing was written\./);
      expect(existsSync(file)).toBe(false);
    } finally {
      await fsp.rm(home, { recursive: true, force: true });
    }
  });
  it('migrate --write: the same, with the mcp-remote entry left as it was', async () => {
    const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-launch-'));
    try {
      const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
      await fsp.mkdir(path.dirname(file), { recursive: true });
      const text = JSON.stringify({ mcpServers: { r: { command: 'npx', args: ['-y', 'mcp-remote', 'https://x.example/mcp'] } } });
      await fsp.writeFile(file, text);
      const run = runMigrateCommand({ write: true, json: true, importTokens: false, deletePlaintext: false }, { HOME: home }, { launcher: broken, platform: 'linux', projectDir: home, stdout: () => {}, stderr: () => {} });
      await expect(run).rejects.toThrow(/does not start .*nothing was written/);
      expect(await fsp.readFile(file, 'utf8')).toBe(text);
    } finally {
      await fsp.rm(home, { recursive: true, force: true });
    }
  });
});
