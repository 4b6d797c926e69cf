// Issue 27: two accounts on one server. `link <url> --name N` on a URL already linked adds a
// second grant (its own id and tokens, the same client registration); the sign-in asks the AS to
// let the person choose (prompt=select_account, which the rig's AS advertises) with the account
// hinted (login_hint), and the rig's scripted person signs in as the hinted user. Each account
// has its own bridge entry; signing one out or removing it leaves the other working.
import { describe, expect, it } from 'vitest';
import { openBridge, textOf } from './bridge-helpers.js';
import { runCli } from './cli-helpers.js';
import { readVault, callTool } from './grant-helpers.js';
import { rigFixture } from './rig-fixture.js';

const fx = rigFixture();

const subOf = async (url: string, token: string) => (JSON.parse(await callTool(url, token, 'whoami')) as { sub: string }).sub;

describe('two accounts on one server', { timeout: 180_000 }, () => {
  it('adds a second account with its own id and tokens, shares the registration, and revokes one alone', async () => {
    const { rig, home, env, id: first } = await fx.linked('own-as');
    // The first sign-in of a URL asks nothing about accounts (only consent, for offline_access).
    expect(rig.as.authorizationRequests.at(-1)!.prompt).toBe('consent');

    const r = await runCli(['link', rig.mcpUrl, '--name', 'Rig (work)', '--login-hint', 'bob', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const second = (JSON.parse(r.stdout) as { id: string }).id;
    expect(second).not.toBe(first);
    expect(second).toBe('rig-work');
    expect(r.stderr).toContain('Adding another account');
    const asked = rig.as.authorizationRequests.at(-1)!;
    // prompt is a list: consent rides along with offline_access (OIDC Core §11).
    expect(asked.prompt?.split(' ')).toEqual(['select_account', 'consent']);
    expect(asked.login_hint).toBe('bob');

    let v = await readVault(home);
    expect(Object.keys(v.servers).sort()).toEqual([first, second].sort());
    expect(v.servers[second]!.url).toBe(v.servers[first]!.url);
    expect(v.servers[second]!.name).toBe('Rig (work)');
    // One client registration at the AS, used by both.
    expect(rig.as.registrations).toHaveLength(1);
    expect(v.servers[second]!.clientKey).toBe(v.servers[first]!.clientKey);
    // Their own tokens, for their own people.
    const t1 = v.secrets.tokens[first]!;
    const t2 = v.secrets.tokens[second]!;
    expect(t2.accessToken).not.toBe(t1.accessToken);
    expect(t2.refreshToken).not.toBe(t1.refreshToken);
    expect(await subOf(rig.mcpUrl, t1.accessToken)).toBe('alice');
    expect(await subOf(rig.mcpUrl, t2.accessToken)).toBe('bob');

    // Each account's bridge entry names its own id, and its bridge speaks as its own person.
    const cfg = await runCli(['config', 'claude', second], env);
    expect(cfg.code, cfg.stderr).toBe(0);
    expect(cfg.stdout).toContain(`"${second}"`);
    for (const [id, who] of [
      [first, 'alice'],
      [second, 'bob'],
    ] as const) {
      const s = await openBridge(env, id);
      try {
        expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe(who);
      } finally {
        await s.close();
      }
    }

    // Signing the work account out leaves the first one working.
    const revoke = await runCli(['revoke', second, '--json'], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(await rig.as.isRefreshTokenActive(t2.refreshToken!)).toBe(false);
    expect(await rig.as.isRefreshTokenActive(t1.refreshToken!)).toBe(true);
    expect(await subOf(rig.mcpUrl, t1.accessToken)).toBe('alice');
    const list = JSON.parse((await runCli(['list', '--json'], env)).stdout) as { servers: Array<{ id: string; status: string }> };
    expect(Object.fromEntries(list.servers.map((s) => [s.id, s.status]))).toEqual({ [first]: 'ok', [second]: 'needs-reauth' });

    // The account's name signs that account in again: no third record, the chooser asked again.
    const again = await runCli(['link', rig.mcpUrl, '--name', 'Rig (work)', '--login-hint', 'bob', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { id: string }).id).toBe(second);
    expect(rig.as.authorizationRequests.at(-1)!.prompt?.split(' ')).toEqual(['select_account', 'consent']);
    v = await readVault(home);
    expect(Object.keys(v.servers)).toHaveLength(2);
    expect(await subOf(rig.mcpUrl, v.secrets.tokens[second]!.accessToken)).toBe('bob');

    // Removing the work account keeps the first, and the registration it still uses.
    const unlink = await runCli(['unlink', second, '--json'], env);
    expect(unlink.code, unlink.stderr).toBe(0);
    v = await readVault(home);
    expect(Object.keys(v.servers)).toEqual([first]);
    expect(v.clients[v.servers[first]!.clientKey]).toBeDefined();
    expect(await subOf(rig.mcpUrl, v.secrets.tokens[first]!.accessToken)).toBe('alice');
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[first]!.refreshToken!)).toBe(true);
  });
});
