// Every refusal: exit 1, a clear message, nothing stored, and (where it matters) no browser opened.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ProfileName, type Rig, type RigFaults, startRig } from '../rig/index.js';
import { cliEnv, PERSON, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

const rigs: Rig[] = [];
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

async function setup(profile: ProfileName, faults?: RigFaults) {
  const rig = await startRig(profile, faults ? { faults } : {});
  rigs.push(rig);
  const home = await tempHome();
  homes.push(home);
  const personLog = join(home, 'person.log');
  return { rig, home, personLog, env: cliEnv(home, { PERSON_LOG: personLog }) };
}

async function expectNothingStored(home: string) {
  const v = await readVault(home);
  expect(v.servers).toEqual({});
  expect(v.secrets.tokens).toEqual({});
  expect(v.pending).toEqual([]);
}

async function browserVisits(personLog: string): Promise<string[]> {
  return (await readFile(personLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

describe('refusals', () => {
  it('resource in the metadata does not match the server', async () => {
    const { rig, home, env, personLog } = await setup('own-as', { prmResource: 'https://evil.example/mcp' });
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not match the server/);
    await expectNothingStored(home);
    expect(await browserVisits(personLog)).toEqual([]);
    expect(rig.as.registrations).toEqual([]);
  });

  it('AS metadata issuer differs from the one used to find it', async () => {
    const { rig, home, env, personLog } = await setup('separate-as', { asIssuer: 'http://127.0.0.1:9/other' });
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/issuer/);
    expect(r.stderr).toMatch(/mix-up/);
    await expectNothingStored(home);
    expect(await browserVisits(personLog)).toEqual([]);
  });

  it('no code_challenge_methods_supported', async () => {
    const { rig, home, env, personLog } = await setup('separate-as', { noPkceMethods: true });
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PKCE/);
    await expectNothingStored(home);
    expect(await browserVisits(personLog)).toEqual([]);
    expect(rig.as.registrations).toEqual([]);
  });

  it('authorization endpoint with a non-http(s) scheme is never opened', async () => {
    const { rig, home, env, personLog } = await setup('own-as', { authorizationEndpoint: 'file:///etc/passwd' });
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scheme "file:"/);
    await expectNothingStored(home);
    expect(await browserVisits(personLog)).toEqual([]);
  });

  it('iss in the authorization response differs from the issuer', async () => {
    const { rig, home, env } = await setup('own-as', { issParam: 'https://evil.example' });
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mix-up/);
    await expectNothingStored(home);
    // The code was never redeemed.
    expect(rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code')).toEqual([]);
  });

  it('a callback with the wrong state is never accepted; the right one still is', async () => {
    const { rig, home, env } = await setup('own-as');
    let authUrl: string | undefined;
    let sawUrl!: () => void;
    const urlSeen = new Promise<void>((r) => (sawUrl = r));
    let seen = '';
    const linking = runCli(['link', rig.mcpUrl, '--no-open', '--json'], env, {
      onStderr: (chunk) => {
        seen += chunk;
        const m = /^ {2}(https?:\/\/\S*code_challenge=\S*)$/m.exec(seen);
        if (m && !authUrl) {
          authUrl = m[1];
          sawUrl();
        }
      },
    });
    await urlSeen;
    const redirectUri = new URL(authUrl!).searchParams.get('redirect_uri')!;
    const forged = await fetch(`${redirectUri}?code=forged-code&state=not-the-state`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).not.toContain('forged-code');
    const { approve } = (await import(PERSON)) as { approve: (url: string) => Promise<unknown> };
    await approve(authUrl!);
    const r = await linking;
    expect(r.code, r.stderr).toBe(0);
    // Only one code was redeemed, and it was not the forged one.
    const codeReqs = rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code');
    expect(codeReqs.length).toBe(1);
    expect(codeReqs[0]!.status).toBe(200);
    expect(Object.keys((await readVault(home)).servers)).toHaveLength(1);
  });

  it('AS down: a clear error within the timeout, nothing half-written', async () => {
    const { rig, home, env } = await setup('separate-as');
    await rig.as.setDown(true);
    const r = await runCli(['link', rig.mcpUrl], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Could not reach|No answer/);
    expect(r.ms).toBeLessThan(30_000);
    await expectNothingStored(home);
  });

  it('usage errors exit 2', async () => {
    const home = await tempHome();
    homes.push(home);
    const env = cliEnv(home);
    expect((await runCli(['link'], env)).code).toBe(2);
    expect((await runCli(['link', 'https://x.example', '--flow', 'carrier-pigeon'], env)).code).toBe(2);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    const notUrl = await runCli(['link', 'not a url'], env);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/is not a URL/);
  });
});
