// `mcp-tokens link` end to end against every rig profile, as a user runs it.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type ProfileName, type Rig, startRig } from '../rig/index.js';
import { cliEnv, filesContaining, modeOf, runCli, tempHome } from './cli-helpers.js';
import { callTool, readVault } from './grant-helpers.js';

const cases: Array<{ profile: ProfileName; flow?: 'device'; expectFlow: 'browser' | 'device' }> = [
  { profile: 'own-as', expectFlow: 'browser' },
  { profile: 'separate-as', expectFlow: 'browser' },
  { profile: 'separate-as', flow: 'device', expectFlow: 'device' },
  { profile: 'device-only', expectFlow: 'device' },
  { profile: 'legacy-sse', expectFlow: 'browser' },
  { profile: 'api-path-rotating', expectFlow: 'browser' },
  { profile: 'api-path-rotating', flow: 'device', expectFlow: 'device' },
];

const rigs: Rig[] = [];
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

describe('link against every rig profile', () => {
  it.each(cases)('$profile by $expectFlow', async ({ profile, flow, expectFlow }) => {
    const rig = await startRig(profile);
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const env = cliEnv(home);
    const r = await runCli(['link', rig.mcpUrl, '--json', ...(flow ? ['--flow', flow] : [])], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; url: string; resource: string; issuer: string; scopes: string[]; expiresAt: string | null };
    expect(out.issuer).toBe(rig.as.issuer);
    expect(out.url).toBe(new URL(rig.mcpUrl).href);
    expect(out.expiresAt).not.toBeNull();
    // The steps are reported in words on stderr.
    expect(r.stderr).toMatch(/Found authorization server/);
    expect(r.stderr).toMatch(expectFlow === 'device' ? /enter the code/ : /Waiting for you to approve in the browser/);

    // The AS saw the resource indicator on the token request.
    const tokenReqs = rig.as.tokenRequests.filter((t) => t.status === 200);
    expect(tokenReqs.length).toBeGreaterThan(0);
    expect(tokenReqs.at(-1)!.resource).toBe(out.resource);

    // The stored grant works against the MCP server.
    const vault = await readVault(home);
    const token = vault.secrets.tokens[out.id]?.accessToken;
    expect(token).toBeTruthy();
    expect(rig.as.issuedAccessTokens).toContain(token);
    const who = JSON.parse(await callTool(rig.mcpUrl, token!, 'whoami', {}, profile === 'legacy-sse')) as { aud?: unknown };
    expect(who).toBeTruthy();

    // No secret in clear anywhere under the data dir, nor in what the command printed.
    const secrets = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    expect(await filesContaining(home, secrets)).toEqual([]);
    for (const s of secrets) {
      expect(r.stderr).not.toContain(s);
      expect(r.stdout).not.toContain(s);
    }
    expect(await modeOf(`${home}/vault.json`)).toBe(0o600);

    const st = await runCli(['status', out.id, '--json'], env);
    expect(st.code).toBe(0);
    const view = JSON.parse(st.stdout) as { status: string; flow: string; registration: { method: string } };
    expect(view.status).toBe('ok');
    expect(view.flow).toBe(expectFlow);
    expect(view.registration.method).toBe('dynamic');
  });
});
