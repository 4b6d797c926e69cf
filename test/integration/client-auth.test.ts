// Client authentication the way authorization servers in the field take it (issue 11): only
// client_secret_post, only client_secret_basic, basic with client_id required in the body, and an
// AS that refuses the method it advertised (one fresh registration, never a loop).
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientAuthStyle, type Rig, type RigOptions, startRig } from '../rig/index.js';
import { cliEnv, runCli, tempHome } from './cli-helpers.js';
import { callTool, readVault } from './grant-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: RigOptions): Promise<{ rig: Rig; home: string; env: NodeJS.ProcessEnv }> {
  const rig = await startRig('own-as', opts);
  const home = await tempHome();
  cleanups.push(() => rig.close(), () => rm(home, { recursive: true, force: true }));
  return { rig, home, env: cliEnv(home) };
}

const STYLES: Array<[ClientAuthStyle, string]> = [
  ['post-only', 'client_secret_post'],
  ['basic-only', 'client_secret_basic'],
  ['body-client-id', 'client_secret_basic'],
];

describe('client authentication', () => {
  for (const [style, method] of STYLES) {
    it(`links, refreshes and revokes at an AS that takes ${style}`, async () => {
      const { rig, home, env } = await setup({ clientAuth: style });
      const link = await runCli(['link', rig.mcpUrl, '--json', '--name', 'a'], env);
      expect(link.code, link.stderr).toBe(0);
      expect(rig.as.registrations).toHaveLength(1);
      expect(rig.as.registrations[0]!.body.token_endpoint_auth_method).toBe(method);
      const clientId = rig.as.registrations[0]!.clientId;
      const before = (await readVault(home)).secrets.tokens.a!;
      await callTool(rig.mcpUrl, before.accessToken, 'whoami');

      const refresh = await runCli(['refresh', 'a', '--json'], env);
      expect(refresh.code, refresh.stderr).toBe(0);
      expect((await readVault(home)).secrets.tokens.a!.accessToken).not.toBe(before.accessToken);

      const revoke = await runCli(['revoke', 'a', '--json'], env);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(JSON.parse(revoke.stdout)).toMatchObject({ revokedAtAs: ['refresh_token', 'access_token'], asAnswer: null });
      expect(rig.as.tokenRequests.filter((t) => t.status !== 200)).toEqual([]);
      if (style === 'body-client-id') {
        // authorization_code, refresh_token, and two revocations: each with client_id in the body.
        expect(rig.as.bodyClientIds).toEqual([clientId, clientId, clientId, clientId]);
      }
    });
  }

  it('registers once more with the other method when the AS refuses the advertised one, and only once', async () => {
    const { rig, home, env } = await setup({ clientAuth: 'post-and-basic', faults: { refuseTokenAuth: 'client_secret_post' } });
    const link = await runCli(['link', rig.mcpUrl, '--json', '--name', 'b'], env);
    expect(link.code, link.stderr).toBe(0);
    expect(link.stderr).toMatch(/refused this app's registration \(invalid_client: client authentication failed\); registering again with client_secret_basic/);
    expect(rig.as.registrations.map((r) => r.body.token_endpoint_auth_method)).toEqual(['client_secret_post', 'client_secret_basic']);
    expect(rig.as.tokenAuthRefusals()).toBe(1);
    const v = await readVault(home);
    // The refused registration is forgotten; the server uses the new one.
    expect(Object.values(v.clients).map((c) => c.clientId)).toEqual([rig.as.registrations[1]!.clientId]);
    expect(v.clients[v.servers.b!.clientKey]!.tokenEndpointAuthMethod).toBe('client_secret_basic');
    await callTool(rig.mcpUrl, v.secrets.tokens.b!.accessToken, 'whoami');
    const refresh = await runCli(['refresh', 'b'], env);
    expect(refresh.code, refresh.stderr).toBe(0);
  });

  it('gives up after that one extra registration when the AS refuses every method', async () => {
    const { rig, env } = await setup({ clientAuth: 'post-and-basic', faults: { refuseTokenAuth: 'any' } });
    const link = await runCli(['link', rig.mcpUrl, '--name', 'c'], env);
    expect(link.code).toBe(1);
    expect(link.stderr).toMatch(/invalid_client: client authentication failed/);
    expect(rig.as.registrations).toHaveLength(2);
    expect(rig.as.tokenAuthRefusals()).toBe(2);
  });
});
