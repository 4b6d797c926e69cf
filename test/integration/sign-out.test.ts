// Signing out always succeeds here (issue 11): revoke and unlink delete the local tokens even
// when the authorization server refuses the revocation or cannot be reached, and report what it
// answered, word for word; unlink always forgets the server.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { allFiles, cliEnv, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

let rig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;

// What the MCP Python SDK's revocation endpoint answers a client that sent no client_secret.
const REFUSAL = { status: 400, body: { error: 'invalid_request', error_description: 'client_secret: Field required' } };
const ANSWER = 'HTTP 400 invalid_request: client_secret: Field required';

beforeAll(async () => {
  rig = await startRig('own-as');
  home = await tempHome();
  env = cliEnv(home);
});
afterAll(async () => {
  await rig?.close();
  await rm(home, { recursive: true, force: true });
});

async function link(name: string): Promise<{ accessToken: string; refreshToken?: string }> {
  const r = await runCli(['link', rig.mcpUrl, '--name', name], env);
  expect(r.code, r.stderr).toBe(0);
  return (await readVault(home)).secrets.tokens[name]!;
}

async function logText(): Promise<string> {
  const logs = (await allFiles(home)).filter((f) => f.path.includes(`${join('logs')}`));
  return (await Promise.all(logs.map((f) => readFile(f.path, 'utf8')))).join('');
}

describe('sign out when the authorization server refuses the revocation', () => {
  it('revoke deletes the tokens here and shows the answer intact', async () => {
    const tok = await link('s');
    rig.as.refuseRevocation(REFUSAL);
    try {
      const r = await runCli(['revoke', 's', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ revokedAtAs: [], asAnswer: ANSWER, status: 'needs-reauth', reason: 'revoked' });
      expect(r.stderr).toContain(`did not confirm the revocation: ${ANSWER}.`);
      expect(r.stderr).toMatch(/The tokens were deleted here, but the grant may stay valid there \(the access token until /);
      expect(rig.as.revocationRefusals()).toBe(2);
      expect((await readVault(home)).secrets.tokens.s).toBeUndefined();
      // The AS kept the grant, as it said.
      expect(await rig.as.isAccessTokenActive(tok.accessToken)).toBe(true);
      expect(await logText()).toContain(ANSWER);
      const human = await runCli(['status', 's'], env);
      expect(human.stdout).toMatch(/needs-reauth/);
    } finally {
      rig.as.refuseRevocation(undefined);
    }
  });

  it('unlink forgets the server and its registration, and shows the answer intact', async () => {
    await link('s');
    rig.as.refuseRevocation(REFUSAL);
    try {
      const r = await runCli(['unlink', 's', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: 's', revokedAtAs: [], asAnswer: ANSWER });
      const v = await readVault(home);
      expect(v.servers.s).toBeUndefined();
      expect(v.secrets.tokens.s).toBeUndefined();
      expect(Object.keys(v.clients)).toEqual([]);
      const list = await runCli(['list', '--json'], env);
      expect(JSON.parse(list.stdout)).toMatchObject({ servers: [] });
    } finally {
      rig.as.refuseRevocation(undefined);
    }
  });
});

describe('sign out when the authorization server is down', () => {
  it('revoke deletes the tokens here and says the AS could not be reached', async () => {
    await link('d');
    await rig.as.setDown(true);
    try {
      const r = await runCli(['revoke', 'd', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { revokedAtAs: string[]; asAnswer: string };
      expect(out.revokedAtAs).toEqual([]);
      expect(out.asAnswer).toMatch(/^no answer \(/);
      expect(r.stderr).toContain(`did not confirm the revocation: ${out.asAnswer}.`);
      expect((await readVault(home)).secrets.tokens.d).toBeUndefined();
    } finally {
      await rig.as.setDown(false);
    }
  });

  it('unlink forgets the server all the same', async () => {
    await link('d');
    await rig.as.setDown(true);
    try {
      const r = await runCli(['unlink', 'd', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: 'd', revokedAtAs: [] });
      const v = await readVault(home);
      expect(v.servers.d).toBeUndefined();
      expect(v.secrets.tokens.d).toBeUndefined();
    } finally {
      await rig.as.setDown(false);
    }
  });
});
