// refresh (with rotation), revoke, unlink and re-link through the CLI, checked from the AS side.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { allFiles, cliEnv, filesContaining, runCli, tempHome } from './cli-helpers.js';
import { callTool, readVault } from './grant-helpers.js';

let rig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;
let id: string;

beforeAll(async () => {
  rig = await startRig('api-path-rotating');
  home = await tempHome();
  env = cliEnv(home);
  const r = await runCli(['link', rig.mcpUrl, '--json', '--name', 'Rotating'], env);
  expect(r.code, r.stderr).toBe(0);
  id = (JSON.parse(r.stdout) as { id: string }).id;
});
afterAll(async () => {
  await rig?.close();
  await rm(home, { recursive: true, force: true });
});

describe('grant lifecycle', () => {
  it('refresh rotates: the new refresh token is stored and the old one is dead at the AS', async () => {
    const before = (await readVault(home)).secrets.tokens[id]!;
    expect(before.refreshToken).toBeTruthy();
    const r = await runCli(['refresh', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const after = (await readVault(home)).secrets.tokens[id]!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(rig.as.issuedRefreshTokens.at(-1)).toBe(after.refreshToken);
    expect(await rig.as.isRefreshTokenActive(before.refreshToken!)).toBe(false);
    expect(await rig.as.isRefreshTokenActive(after.refreshToken!)).toBe(true);
    const refreshes = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token');
    expect(refreshes.at(-1)!.resource).toBe((JSON.parse(r.stdout) as { resource: string }).resource);
    await callTool(rig.mcpUrl, after.accessToken, 'whoami');
    const view = JSON.parse(r.stdout) as { status: string; lastRefreshAt?: string };
    expect(view.status).toBe('ok');
    expect(view.lastRefreshAt).toBeTruthy();
  });

  it('keeps no token in clear in any file or log after link and refresh', async () => {
    const secrets = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(await filesContaining(home, secrets)).toEqual([]);
    const logs = (await allFiles(home)).filter((f) => f.path.includes('/logs/'));
    expect(logs.length).toBeGreaterThan(0);
  });

  it('revoke calls RFC 7009 for both tokens, drops them, and status shows needs-reauth', async () => {
    const tok = (await readVault(home)).secrets.tokens[id]!;
    const r = await runCli(['revoke', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ revokedAtAs: ['refresh_token', 'access_token'], status: 'needs-reauth', reason: 'revoked' });
    const revoked = rig.as.revocations.map((x) => x.token);
    expect(revoked).toContain(tok.refreshToken);
    expect(revoked).toContain(tok.accessToken);
    expect(revoked.indexOf(tok.refreshToken!)).toBeLessThan(revoked.indexOf(tok.accessToken));
    expect(await rig.as.isRefreshTokenActive(tok.refreshToken!)).toBe(false);
    expect((await readVault(home)).secrets.tokens[id]).toBeUndefined();
    const st = await runCli(['status', id, '--json'], env);
    expect(JSON.parse(st.stdout)).toMatchObject({ status: 'needs-reauth', reason: 'revoked' });
    const refresh = await runCli(['refresh', id], env);
    expect(refresh.code).toBe(1);
    expect(refresh.stderr).toMatch(/was revoked: re-authorize it/);
  });

  it('re-linking after revoke restores the same server and reuses the registration', async () => {
    const regs = rig.as.registrations.length;
    const r = await runCli(['link', rig.mcpUrl, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { id: string }).id).toBe(id);
    expect(rig.as.registrations.length).toBe(regs);
    const st = await runCli(['status', id, '--json'], env);
    expect(JSON.parse(st.stdout)).toMatchObject({ status: 'ok' });
  });

  it('unlink revokes and forgets the server and its registration', async () => {
    const tok = (await readVault(home)).secrets.tokens[id]!;
    const r = await runCli(['unlink', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(rig.as.revocations.map((x) => x.token)).toContain(tok.refreshToken);
    const v = await readVault(home);
    expect(v.servers).toEqual({});
    expect(v.clients).toEqual({});
    expect(v.secrets.tokens).toEqual({});
    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toMatchObject({ servers: [] });
    const again = await runCli(['status', id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/No linked server/);
  });
});
