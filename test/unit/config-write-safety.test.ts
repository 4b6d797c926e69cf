// Issue 14, finding 8: config writes refuse symlinked or non-regular targets unless the person
// passes --follow-symlinks (the message names the real target), and never block on a FIFO.
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConfigCommand } from '../../src-main/cli/config-command.js';
import { runMigrateCommand } from '../../src-main/cli/migrate-command.js';
import { planMigration, runningLauncher } from '../../src-main/core/clients/index.js';
import { isUserError } from '../../src-main/core/platform/errors.js';

const SERVER = { id: 'srv-1', name: 'Demo', url: 'https://mcp.example.com/mcp' };
const lookup = async (id: string) => (id === SERVER.id ? SERVER : undefined);
const MCP_REMOTE = JSON.stringify({ mcpServers: { demo: { command: 'npx', args: ['-y', 'mcp-remote', 'https://mcp.example.com/mcp'] } } }, null, 2);

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcp-tokens-cfgsafe-'));
  env = { HOME: home, PATH: process.env.PATH };
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

function quiet() {
  const out = { stdout: '', stderr: '' };
  return { out, deps: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s), lookup, platform: 'linux' as const } };
}

async function siblings(file: string): Promise<string[]> {
  return (await fsp.readdir(path.dirname(file))).sort();
}

describe('config --write and migrate --write: where they write', () => {
  it('refuses a symlinked config file and names its real target; --follow-symlinks writes the target', async () => {
    const elsewhere = path.join(home, 'elsewhere', 'important.json');
    await fsp.mkdir(path.dirname(elsewhere), { recursive: true });
    await fsp.writeFile(elsewhere, '{ "keep": true }\n');
    const link = path.join(home, 'proj', '.cursor', 'mcp.json');
    await fsp.mkdir(path.dirname(link), { recursive: true });
    await fsp.symlink(elsewhere, link);

    const q = quiet();
    const err = await runConfigCommand(['cursor', SERVER.id], { write: true, file: link, json: false }, env, q.deps).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toBe(`${link} is a symbolic link to ${await fsp.realpath(elsewhere)}; refusing to write through it.`);
    expect((err as { hint?: string }).hint).toMatch(/--follow-symlinks/);
    expect(await fsp.readFile(elsewhere, 'utf8')).toBe('{ "keep": true }\n');
    expect(await siblings(elsewhere)).toEqual(['important.json']);
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(true);

    const ok = quiet();
    expect(await runConfigCommand(['cursor', SERVER.id], { write: true, file: link, json: true, followSymlinks: true }, env, ok.deps)).toBe(0);
    expect(JSON.parse(ok.out.stdout)).toMatchObject({ file: await fsp.realpath(elsewhere), action: 'added' });
    expect(JSON.parse(await fsp.readFile(elsewhere, 'utf8'))).toMatchObject({ keep: true, mcpServers: { demo: { command: runningLauncher().command } } });
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('a dangling symlink is refused too (it would otherwise be replaced or create a file elsewhere)', async () => {
    const link = path.join(home, 'proj', '.vscode', 'mcp.json');
    await fsp.mkdir(path.dirname(link), { recursive: true });
    await fsp.symlink(path.join(home, 'nowhere', 'x.json'), link);
    const err = await runConfigCommand(['vscode', SERVER.id], { write: true, file: link, json: false }, env, quiet().deps).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/symbolic link whose target does not exist/);
    await expect(fsp.stat(path.join(home, 'nowhere'))).rejects.toThrow();
  });

  it('migrate --write does not edit the file a planted project .mcp.json links to', async () => {
    const elsewhere = path.join(home, 'elsewhere.json');
    await fsp.writeFile(elsewhere, MCP_REMOTE);
    const project = path.join(home, 'proj');
    await fsp.mkdir(project, { recursive: true });
    await fsp.symlink(elsewhere, path.join(project, '.mcp.json'));

    const q = quiet();
    const code = await runMigrateCommand({ write: true, json: true, importTokens: false, deletePlaintext: false }, env, { ...q.deps, projectDir: project, authDir: path.join(home, '.mcp-auth') });
    expect(code).toBe(1);
    const applied = (JSON.parse(q.out.stdout) as { applied: { files: Array<{ path: string; error?: string; replaced: string[] }> } }).applied.files;
    expect(applied).toEqual([expect.objectContaining({ replaced: [], error: expect.stringContaining(`symbolic link to ${await fsp.realpath(elsewhere)}`) })]);
    expect(await fsp.readFile(elsewhere, 'utf8')).toBe(MCP_REMOTE);
    expect((await fsp.readdir(home)).filter((f) => f.includes('.bak-'))).toEqual([]);

    const ok = quiet();
    expect(await runMigrateCommand({ write: true, json: true, importTokens: false, deletePlaintext: false, followSymlinks: true }, env, { ...ok.deps, projectDir: project, authDir: path.join(home, '.mcp-auth') })).toBe(0);
    expect(JSON.parse(await fsp.readFile(elsewhere, 'utf8')).mcpServers.demo.args).toContain('bridge');
  });

  it('a FIFO in place of a config file is refused at once, by config --write and by the migration scan', async () => {
    const fifo = path.join(home, 'proj', '.cursor', 'mcp.json');
    await fsp.mkdir(path.dirname(fifo), { recursive: true });
    execFileSync('mkfifo', [fifo]);
    // No writer ever opens it: a plain read would wait forever (the test would time out).
    const err = await runConfigCommand(['cursor', SERVER.id], { write: true, file: fifo, json: false }, env, quiet().deps).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toBe(`${fifo} is a FIFO (named pipe); refusing to read or write it.`);
    expect((await fsp.lstat(fifo)).isFIFO()).toBe(true);

    const plan = await planMigration(env, { platform: 'linux', projectDir: path.join(home, 'proj'), authDir: path.join(home, '.mcp-auth') });
    expect(plan.files.find((f) => f.path === fifo)?.error).toMatch(/FIFO/);
  });

  it('--follow-symlinks needs --write', async () => {
    const err = await runConfigCommand(['cursor', SERVER.id], { write: false, json: false, followSymlinks: true }, env, quiet().deps).catch((e: unknown) => e);
    expect(isUserError(err) && [err.code, err.message]).toEqual(['usage', '--follow-symlinks needs --write.']);
  });
});
