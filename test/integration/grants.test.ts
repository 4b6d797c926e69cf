// Grants no person approves (issue 25), end to end against the company rig (test/rig/company.ts):
// the CLI links, the bridge is launched by a real stdio client, the broker renews. Renewal
// without a person, rotation of a workload's assertion file, a refusal reported once and never
// retried, and an IdP whose session ended: one prompt for the IdP, whatever the number of servers.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Company, startCompany } from '../rig/company.js';
import { openBridge, textOf } from './bridge-helpers.js';
import { allFiles, cliEnv, runCli } from './cli-helpers.js';
import { rigFixture } from './rig-fixture.js';

const fx = rigFixture();
const companies: Company[] = [];
afterAll(async () => {
  await Promise.all(companies.map((c) => c.close()));
});

async function company(o: Parameters<typeof startCompany>[0]): Promise<Company> {
  const c = await startCompany(o);
  companies.push(c);
  return c;
}

async function secretFile(home: string, name: string, value: string): Promise<string> {
  const f = join(home, name);
  await writeFile(f, `${value}\n`, { mode: 0o600 });
  await chmod(f, 0o600);
  return f;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const whoami = async (s: Awaited<ReturnType<typeof openBridge>>) => JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} }))) as { sub: string; clientId: string };
const status = async (env: NodeJS.ProcessEnv, id: string) => {
  const r = await runCli(['status', id, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { status: string; reason?: string; detail?: string; grant: { kind: string; label: string; idp?: string } };
};

describe('client credentials (SEP-1046)', () => {
  it('links without a browser, and the broker gets a new token on expiry, through the bridge, with no person', async () => {
    const c = await company({ accessTokenTtl: 2, asClients: { 'ci-robot': { secret: 'robot-secret-0123456789', grants: ['client_credentials'] } } });
    const home = await fx.home();
    const log = join(home, 'browser.log');
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2', PERSON_LOG: log });
    const f = await secretFile(home, 'secret', 'robot-secret-0123456789');
    const link = await runCli(['link', c.mcpUrl, '--json', '--grant', 'client-credentials', '--client-id', 'ci-robot', '--client-secret-file', f], env);
    expect(link.code, link.stderr).toBe(0);
    const linked = JSON.parse(link.stdout) as { id: string; grant: { kind: string; label: string } };
    expect(linked.grant).toMatchObject({ kind: 'client_credentials', label: 'Machine credentials' });
    await expect(readFile(log, 'utf8')).rejects.toThrow(); // no browser was ever opened

    const s = await openBridge(env, linked.id);
    try {
      expect((await whoami(s)).clientId).toBe('ci-robot');
      const before = c.as.tokenRequests.filter((t) => t.grantType === 'client_credentials' && !t.error).length;
      await sleep(2500); // the 2 s token has expired
      expect((await whoami(s)).sub).toBe('ci-robot');
      await sleep(2500);
      expect((await whoami(s)).sub).toBe('ci-robot');
      const after = c.as.tokenRequests.filter((t) => t.grantType === 'client_credentials' && !t.error).length;
      expect(after - before).toBeGreaterThanOrEqual(2);
      expect(after - before).toBeLessThanOrEqual(6); // renewed per expiry, not per request
      expect(c.as.tokenRequests.filter((t) => t.error)).toEqual([]);
      // The server drops the live token (a restart): the 401 gets a new one from the grant, once.
      const at401 = c.as.tokenRequests.length;
      c.mcp.rejectNext = 1;
      expect((await whoami(s)).sub).toBe('ci-robot');
      expect(c.as.tokenRequests.length - at401).toBe(1);
    } finally {
      await s.close();
    }
    const st = await status(env, linked.id);
    expect(st.status).not.toBe('needs-reauth');
    expect(st.grant.label).toBe('Machine credentials');
    // Signed out: the grant says so in its own words and is not renewed; unlink forgets it.
    const revoked = await runCli(['revoke', linked.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    const n = c.as.tokenRequests.length;
    const refused = await runCli(['refresh', linked.id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('machine credentials');
    expect(refused.stderr).toContain('was signed out');
    expect(c.as.tokenRequests.length).toBe(n);
    expect((await runCli(['unlink', linked.id], env)).code).toBe(0);
    expect((await runCli(['status', linked.id], env)).code).toBe(1);
    // The secret is sealed: in no file of the data dir in clear, nor in the CLI's output.
    const files = await allFiles(home);
    expect(files.filter((x) => x.path !== f && x.data.includes('robot-secret-0123456789')).map((x) => x.path)).toEqual([]);
    expect(link.stdout + link.stderr).not.toContain('robot-secret-0123456789');
  });

  it('private_key_jwt with a key file; refuses a browser sign-in at this AS before opening anything, naming the options', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const c = await company({ asClients: { 'key-robot': { publicKeyPem: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString(), grants: ['client_credentials'] } } });
    const home = await fx.home();
    const log = join(home, 'browser.log');
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2', PERSON_LOG: log });
    const plain = await runCli(['link', c.mcpUrl, '--json'], env);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/does not offer sign-in by a person/);
    expect(plain.stderr).toContain('--grant client-credentials');
    expect(plain.stderr).toContain('--idp <name>');
    await expect(readFile(log, 'utf8')).rejects.toThrow();

    const pem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const kf = await secretFile(home, 'key.pem', pem);
    const r = await runCli(['link', c.mcpUrl, '--json', '--grant', 'client-credentials', '--client-id', 'key-robot', '--client-key-file', kf], env);
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    const s = await openBridge(env, id);
    try {
      expect((await whoami(s)).clientId).toBe('key-robot');
    } finally {
      await s.close();
    }
    const body = pem.split('\n')[1]!;
    expect((await allFiles(home)).filter((x) => x.path !== kf && x.data.includes(body)).map((x) => x.path)).toEqual([]);
  });
});

describe('workload identity (SEP-1933)', () => {
  it('re-reads the assertion file at every token request, and a refusal is reported once in the AS words, never retried', async () => {
    const c = await company({ accessTokenTtl: 4 });
    const home = await fx.home();
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    const file = join(home, 'workload.jwt');
    await writeFile(file, await c.workload.token({ sub: 'job-1' }));
    const r = await runCli(['link', c.mcpUrl, '--json', '--grant', 'jwt-bearer', '--assertion-file', file], env);
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    expect((await status(env, id)).grant.label).toBe('Workload identity');
    const bearer = () => c.as.tokenRequests.filter((t) => t.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    // The AS takes each assertion once (jti): the platform rotates the file before the token expires.
    await writeFile(file, await c.workload.token({ sub: 'job-2' }));

    const s = await openBridge(env, id);
    try {
      expect(['job-1', 'job-2']).toContain((await whoami(s)).sub);
      await writeFile(file, await c.workload.token({ sub: 'job-3' }));
      await sleep(4200); // expired: the next request reads the file again
      expect((await whoami(s)).sub).toBe('job-3');
      expect(bearer().filter((t) => !t.error).length).toBeGreaterThanOrEqual(2);
      expect(bearer().filter((t) => t.error)).toEqual([]);

      // Not rotated this time: the AS refuses the replayed assertion. Reported, not retried.
      await sleep(4200);
      const n = bearer().length;
      await expect(whoami(s)).rejects.toThrow(/can no longer get tokens: The authorization server refused the workload assertion \(invalid_grant: .*already used/);
      await expect(whoami(s)).rejects.toThrow(/already used/);
      await expect(whoami(s)).rejects.toThrow(/already used/);
      expect(bearer().length - n).toBe(1);
      expect(bearer().at(-1)!.error).toBe('invalid_grant');
    } finally {
      await s.close();
    }
    const st = await status(env, id);
    expect(st.status).toBe('needs-reauth');
    expect(st.detail).toContain('already used');
    const refresh = await runCli(['refresh', id], env);
    expect(refresh.code).toBe(1);
    expect(refresh.stderr).toContain(`--assertion-file ${file} --grant jwt-bearer`);
    expect(c.as.tokenRequests.filter((t) => t.grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')).toEqual([]); // never another grant
  });
});

describe('company sign-in (SEP-990)', () => {
  it('one sign-in for two servers; renewed without a person; when the IdP session ends, one prompt for the IdP, then both carry on', async () => {
    const c = await company({ accessTokenTtl: 2, idTokenTtl: 3, asClients: { 'company-desktop': { secret: 'desktop-secret-0123456789', grants: [] } } });
    const home = await fx.home();
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    const add = await runCli(['idp', 'add', 'acme', '--json', '--issuer', c.idp.issuer, '--client-id', c.idp.clientId], env);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'acme', status: 'signed-in', signedIn: { email: 'alice@company.example', hasRefreshToken: true } });
    const f = await secretFile(home, 'secret', 'desktop-secret-0123456789');
    // The company has not given this person the wiki: the IdP refuses the exchange, said as such, nothing stored.
    c.idp.deniedResources.add(c.mcpUrl2);
    const denied = await runCli(['link', c.mcpUrl2, '--json', '--idp', 'acme', '--client-id', 'company-desktop', '--client-secret-file', f], env);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('The identity provider refused to grant access to this server (invalid_grant: User is not assigned to this application.)');
    expect(JSON.parse((await runCli(['list', '--json'], env)).stdout).servers).toEqual([]);
    c.idp.deniedResources.clear();
    const ids: string[] = [];
    for (const url of [c.mcpUrl, c.mcpUrl2]) {
      const r = await runCli(['link', url, '--json', '--idp', 'acme', '--client-id', 'company-desktop', '--client-secret-file', f], env);
      expect(r.code, r.stderr).toBe(0);
      ids.push((JSON.parse(r.stdout) as { id: string }).id);
    }
    expect((await status(env, ids[0]!)).grant).toMatchObject({ kind: 'idp', label: 'Company sign-in through acme', idp: 'acme' });
    const idpRefreshes = () => c.idp.tokenRequests.filter((t) => t.grantType === 'refresh_token');

    const s = await openBridge(env, ids[0]!);
    try {
      expect((await whoami(s)).sub).toBe('alice');
      await sleep(3200); // access token and ID token expired: renewed with the IdP's refresh token
      expect((await whoami(s)).sub).toBe('alice');
      expect(idpRefreshes().filter((t) => !t.error).length).toBeGreaterThanOrEqual(1);

      c.idp.endSession();
      await sleep(3200);
      const before = idpRefreshes().length;
      await expect(whoami(s)).rejects.toThrow(/sign-in to acme has ended/i);
      const r2 = await runCli(['refresh', ids[1]!], env);
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain('mcp-tokens idp sign-in acme');
      // One refused renewal at the IdP for both servers, not one per server.
      expect(idpRefreshes().length - before).toBe(1);
      for (const id of ids) {
        const st = await status(env, id);
        expect(st.status).toBe('needs-reauth');
        expect(st.detail).toMatch(/^Needs sign-in to acme/);
      }
      const list = JSON.parse((await runCli(['idp', 'list', '--json'], env)).stdout) as { idps: Array<{ status: string; servers: string[] }> };
      expect(list.idps[0]).toMatchObject({ status: 'needs-sign-in', servers: ids });

      const again = await runCli(['idp', 'sign-in', 'acme'], env);
      expect(again.code, again.stderr).toBe(0);
      expect((await whoami(s)).sub).toBe('alice'); // the same bridge carries on
      for (const id of ids) expect((await status(env, id)).status).not.toBe('needs-reauth');
    } finally {
      await s.close();
    }
    const s2 = await openBridge(env, ids[1]!);
    try {
      expect((await whoami(s2)).sub).toBe('alice');
    } finally {
      await s2.close();
    }
    // Removing the IdP: its servers say so, and nothing is asked of the IdP any more.
    const n = c.idp.tokenRequests.length;
    const removed = JSON.parse((await runCli(['idp', 'remove', 'acme', '--json'], env)).stdout) as { servers: string[] };
    expect(removed.servers).toEqual(ids);
    const st = await status(env, ids[0]!);
    expect(st.status).toBe('needs-reauth');
    expect(st.detail).toContain('was removed');
    expect(c.idp.tokenRequests.length).toBe(n);
    // ID tokens, refresh tokens and ID-JAGs never reach a file in clear or the CLI's output.
    const files = await allFiles(home);
    expect(files.some((x) => x.data.includes('desktop-secret-0123456789') && x.path !== f)).toBe(false);
    expect(files.some((x) => /eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(x.data.toString('latin1')))).toBe(false);
  });
});
