// Crash safety: a refresh whose write fails after the AS answered leaves a readable vault,
// and the next start says what happened.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { cliEnv, ROOT, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

let rig: Rig | undefined;
let home = '';
afterAll(async () => {
  await rig?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

function runFixture(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/fixtures/crash-refresh.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('fixture timed out'));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('crash safety', () => {
  it('a refresh interrupted before its write never leaves the vault unreadable, and is reported', async () => {
    rig = await startRig('separate-as');
    home = await tempHome();
    const env = cliEnv(home);
    const link = await runCli(['link', rig.mcpUrl, '--json'], env);
    expect(link.code, link.stderr).toBe(0);
    const id = (JSON.parse(link.stdout) as { id: string }).id;
    const before = await readFile(join(home, 'vault.json'), 'utf8');
    const grantBefore = (await readVault(home)).secrets.tokens[id];

    const crashed = await runFixture([home, id]);
    expect(crashed.code, crashed.stderr).toBe(3);
    // The AS did answer the refresh...
    expect(rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token' && t.status === 200)).toHaveLength(1);
    // ...but the write failed, and said so without secrets.
    expect(crashed.stdout).toMatch(/could not be saved|Could not save/i);
    for (const s of [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens]) expect(crashed.stdout).not.toContain(s);

    // The file is still valid JSON with the same records (only the pending marker was added).
    const onDisk = JSON.parse(await readFile(join(home, 'vault.json'), 'utf8')) as { servers: unknown; pending: unknown[] };
    expect(onDisk.servers).toEqual((JSON.parse(before) as { servers: unknown }).servers);
    expect(onDisk.pending).toHaveLength(1);

    // The next start reports the interrupted refresh and clears it.
    const st = await runCli(['status', id, '--json'], env);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stderr).toMatch(/did not finish/);
    const again = await runCli(['status', id], env);
    expect(again.stderr).not.toMatch(/did not finish/);

    // The vault is readable and still holds the previous grant.
    const after = await readVault(home);
    expect(after.secrets.tokens[id]).toEqual(grantBefore);
    expect(after.pending).toEqual([]);
  });
});
