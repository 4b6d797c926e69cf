// The packaged app as an AppImage, through the Electron double: each launch runs from a new
// /tmp/.mount_XXXX (a resourcesPath that changes), and $APPIMAGE names the file itself. The
// client entry the app writes must keep working after that mount is gone.
import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_LAUNCHER_FILE } from '../../src-main/core/app-model/app-launcher.js';
import { cliEnv, ROOT, runCli, tempHome } from '../integration/cli-helpers.js';
import { stopBroker, textOf } from '../integration/bridge-helpers.js';
import { type Rig, startRig } from '../rig/index.js';
import { type AppProcess, appEnv, launchApp, processesUsing, requireBuilt } from './harness.js';

type Entry = { command: string; args: string[]; env?: Record<string, string> };

let rig: Rig;
let home: string;
let tmp: string;
let appImage: string;
const apps: AppProcess[] = [];

/** What the AppImage runtime shows the app: <mount>/resources/app.asar/{package.json,dist}. */
async function mount(name: string): Promise<{ resources: string; main: string }> {
  const resources = join(tmp, name, 'resources');
  const asar = join(resources, 'app.asar');
  await mkdir(asar, { recursive: true });
  await cp(join(ROOT, 'package.json'), join(asar, 'package.json'));
  await cp(join(ROOT, 'dist'), join(asar, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  return { resources, main: join(asar, 'dist/electron/main.js') };
}

async function launchFrom(m: { resources: string; main: string }): Promise<AppProcess> {
  // The AppImage runtime sets APPIMAGE and APPDIR (the mount the executable runs from; Node's
  // folder stands in for it). A packaged app logs to stderr only with MCP_TOKENS_DEBUG; the test reads that log.
  const app = launchApp({ home, main: m.main, resourcesPath: m.resources, env: { APPIMAGE: appImage, APPDIR: dirname(process.execPath), MCP_TOKENS_DEBUG: '1' } });
  apps.push(app);
  await app.until('the window loaded', (s) => s.windows.some((w) => w.url.startsWith('app://renderer/')));
  return app;
}

async function quit(app: AppProcess): Promise<void> {
  await app.detach();
  await app.call('quit');
  expect(await app.exited).toBe(0);
}

describe('AppImage: client entries outlive the mount', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    requireBuilt();
    rig = await startRig('own-as');
    home = await tempHome();
    tmp = await tempHome();
    // Stands in for the AppImage file: with ELECTRON_RUN_AS_NODE=1 a real one mounts itself and
    // runs its Electron as Node; here Node plays that Electron.
    appImage = join(tmp, 'MCP Token Manager-0.1.0-x86_64.AppImage');
    await writeFile(appImage, `#!/bin/sh\nexec "${process.execPath}" "$@"\n`);
    await chmod(appImage, 0o755);
    // A server linked by the command line first (its vault key file is shared with the app).
    const r = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home));
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const a of apps) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    await stopBroker(home);
    for (const p of home ? processesUsing(home) : []) process.kill(p.pid, 'SIGKILL');
    await rig?.close();
    for (const d of [home, tmp]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('the entry written from one mount runs the bridge after that mount is gone; the next launch keeps it', async () => {
    const first = await mount('.mount_Ab12Cd');
    let app = await launchFrom(first);
    const page = await app.page();
    const id = ((await page.evaluate(() => (window as unknown as { mcpTokens: { 'servers/list'(): Promise<Array<{ id: string }>> } }).mcpTokens['servers/list']())) as Array<{ id: string }>)[0]!.id;
    await page.evaluate((sid) => (window as unknown as { mcpTokens: { 'clients/add'(id: string, k: string): Promise<unknown> } }).mcpTokens['clients/add'](sid, 'claude'), id);
    const config = JSON.parse(await readFile(join(home, '.config/Claude/claude_desktop_config.json'), 'utf8')) as { mcpServers: Record<string, Entry> };
    const entry = Object.values(config.mcpServers)[0]!;
    // The AppImage file and the data dir: nothing under the mount.
    expect(entry.command).toBe(appImage);
    expect(entry.args).toEqual([join(home, 'bridge', 'mcp-tokens.mjs'), 'bridge', id]);
    expect(entry.env).toMatchObject({ ELECTRON_RUN_AS_NODE: '1' });
    expect(JSON.stringify(entry)).not.toContain('.mount_');
    // So is the command a bridge uses to start the app.
    expect(JSON.parse(await readFile(join(home, APP_LAUNCHER_FILE), 'utf8'))).toEqual({ command: appImage, args: [] });
    // Launch at login starts the AppImage file too (Linux: an XDG autostart entry), hidden in the tray.
    await page.evaluate(() => (window as unknown as { mcpTokens: { 'settings/set'(p: object): Promise<unknown> } }).mcpTokens['settings/set']({ launchAtLogin: true }));
    const autostart = await readFile(join(home, '.config/autostart/mcp-token-manager.desktop'), 'utf8');
    expect(autostart).toContain(`Exec="${appImage}" --hidden\n`);
    const installed = (await readdir(join(home, 'bridge'))).sort();
    const entryStat = await stat(join(home, 'bridge', 'mcp-tokens.mjs'));
    await quit(app);

    // The AppImage unmounts when the app quits; Claude Desktop starts the bridge later.
    await rm(join(tmp, '.mount_Ab12Cd'), { recursive: true, force: true });
    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...(appEnv(home) as Record<string, string>), ...entry.env }, stderr: 'pipe' });
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after the mount is gone' } }))).toBe('after the mount is gone');
    } finally {
      await client.close();
    }
    await stopBroker(home);

    // Next launch, new mount, same build: the installed bridge and its entry are left as they are.
    app = await launchFrom(await mount('.mount_Xy98Zw'));
    expect(app.output()).not.toMatch(/installed the bridge/);
    expect((await readdir(join(home, 'bridge'))).sort()).toEqual(installed);
    expect((await stat(join(home, 'bridge', 'mcp-tokens.mjs'))).mtimeMs).toBe(entryStat.mtimeMs);
    await quit(app);
    expect(apps[0]!.output()).toMatch(/installed the bridge/);
  });
});
