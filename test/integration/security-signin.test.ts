// Issue 14, finding 1: another local user reads the browser's command line (/proc/<pid>/cmdline)
// and tries to approve the sign-in as their own account. The browser is only ever given a
// one-shot loopback link, already used by the time anyone can read it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { waitFor } from './bridge-helpers.js';
import { cliEnv, PERSON, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

const rigs: Rig[] = [];
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

// A $BROWSER that loads the link it was given (as a browser does), then parks with that link
// still in its argv until the test says go, then lets the person approve.
const SLOW_BROWSER = `
import { writeFileSync, existsSync } from 'node:fs';
const [dir, person, url] = process.argv.slice(2);
const first = await fetch(url, { redirect: 'manual' });
const next = first.headers.get('location') ?? url;
writeFileSync(dir + '/browser.pid', String(process.pid));
for (let i = 0; i < 600 && !existsSync(dir + '/go'); i++) await new Promise((r) => setTimeout(r, 50));
const { approve } = await import(person);
await approve(next).catch(() => {});
`;

describe('sign-in hand-off to the browser', () => {
  it('a second process reading the browser’s arguments sees only a used one-shot link and cannot complete the sign-in', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const script = join(home, 'slow-browser.mjs');
    await writeFile(script, SLOW_BROWSER);
    const env = cliEnv(home, { BROWSER: `"${process.execPath}" "${script}" "${home}" "${PERSON}"` });
    const linking = runCli(['link', rig.mcpUrl, '--json'], env);

    await waitFor(async () => Boolean(await readFile(join(home, 'browser.pid'), 'utf8').catch(() => '')), 20_000, 'the browser');
    const pid = (await readFile(join(home, 'browser.pid'), 'utf8')).trim();
    // What any local user can read.
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const seen = argv.find((a) => a.startsWith('http'))!;
    expect(seen).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+$/);
    for (const secret of ['state=', 'code_challenge', 'client_id', 'redirect_uri', rig.as.issuer]) expect(seen).not.toContain(secret);
    expect(JSON.stringify(argv)).not.toMatch(/state=|code_challenge/);

    // The attacker plays the person as "bob" from what it saw.
    const { approve } = (await import(PERSON)) as { approve: (url: string, o?: { user?: string }) => Promise<{ status: number; url: string }> };
    const stolen = await approve(seen, { user: 'bob' });
    expect(stolen.status).toBe(410);
    expect(new URL(stolen.url).pathname).toMatch(/^\/start\//);

    await writeFile(join(home, 'go'), '');
    const r = await linking;
    // The link was seen twice, so the sign-in stops: nothing is stored, no code was redeemed.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/opened twice/);
    const v = await readVault(home);
    expect(v.servers).toEqual({});
    expect(v.secrets.tokens).toEqual({});
    expect(rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code')).toEqual([]);
  });

  it('the normal sign-in through the one-shot link still works, and the link is dead afterwards', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const personLog = join(home, 'person.log');
    const r = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home, { PERSON_LOG: personLog }));
    expect(r.code, r.stderr).toBe(0);
    const opened = (await readFile(personLog, 'utf8')).split('\n')[0]!;
    expect(opened).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+$/);
    expect(r.stderr).not.toMatch(/state=/);
    // The listener is gone with the sign-in: the link leads nowhere now.
    await expect(fetch(opened, { redirect: 'manual' })).rejects.toThrow();
  });

  it('the device flow’s code-carrying URL goes through a one-shot link too', async () => {
    const rig = await startRig('device-only');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const personLog = join(home, 'person.log');
    const r = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home, { PERSON_LOG: personLog }));
    expect(r.code, r.stderr).toBe(0);
    const opened = (await readFile(personLog, 'utf8')).split('\n')[0]!;
    expect(opened).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+$/);
  });
});
