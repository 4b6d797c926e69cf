// Issues 14 and 23: another local user reads the browser's command line (/proc/<pid>/cmdline)
// and races the person to what it finds. A cold browser always arrives second, so the browser
// is never given a usable link: it gets a file:// page (0600, in a 0700 dir) that redirects to
// the one-shot loopback link. Here uid 65534 watches /proc while the browser starts slowly.
import { spawn } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../rig/index.js';
import { type Attacker, otherUserUnavailable, runAsOtherUser, WATCHER } from './attacker.js';
import { waitFor } from './bridge-helpers.js';
import { BIN, cliEnv, PERSON, runCli, tempHome } from './cli-helpers.js';
import { callTool, readVault } from './grant-helpers.js';

const rigs: Rig[] = [];
const homes: string[] = [];
const attackers: Attacker[] = [];
afterAll(async () => {
  await Promise.all(attackers.map((a) => a.stop()));
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

const unavailable = otherUserUnavailable();
if (unavailable) console.warn(`security-signin: the other-user race is skipped: ${unavailable}`);

// A $BROWSER that starts slowly: it parks with what it was given still in its argv until the
// test says go (while another user watches /proc), then plays the person from it.
const SLOW_BROWSER = `
import { writeFileSync, existsSync } from 'node:fs';
const [dir, person, url] = process.argv.slice(2);
writeFileSync(dir + '/browser.pid', String(process.pid));
for (let i = 0; i < 1200 && !existsSync(dir + '/go'); i++) await new Promise((r) => setTimeout(r, 50));
const { approve } = await import(person);
const r = await approve(url).catch((e) => ({ url: '', status: 0, text: String(e) }));
writeFileSync(dir + '/browser.done', JSON.stringify({ url: r.url, status: r.status }));
`;

describe('sign-in hand-off to the browser', () => {
  it.skipIf(unavailable)('uid 65534 watching /proc/*/cmdline while the browser starts slowly gets nothing usable, and the person signs in', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const script = join(home, 'slow-browser.mjs');
    await writeFile(script, SLOW_BROWSER);
    const watcher = await runAsOtherUser(WATCHER, [script, '600000']);
    attackers.push(watcher);
    await watcher.line(/^WATCHING$/);
    const env = cliEnv(home, { BROWSER: `"${process.execPath}" "${script}" "${home}" "${PERSON}"` });
    const linking = runCli(['link', rig.mcpUrl, '--json'], env);

    await waitFor(async () => Boolean(await readFile(join(home, 'browser.pid'), 'utf8').catch(() => '')), 30_000, 'the browser');
    const pid = (await readFile(join(home, 'browser.pid'), 'utf8')).trim();
    // What any local user can read: a file:// page, no loopback link, nothing of the request.
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const given = argv.filter(Boolean).at(-1)!;
    expect(given).toMatch(/^file:\/\/\/.*\/run\/open\/open-[0-9a-f]+\.html$/);
    expect(JSON.stringify(argv)).not.toMatch(/\/start\/|state=|code_challenge|127\.0\.0\.1/);
    // The other user found the page's name and could not read it.
    const tried = await watcher.line(/^FILE /);
    expect(tried).toMatch(/ EACCES$/);
    await waitFor(() => watcher.out().includes('POLLED'), 30_000, 'the watcher to poll again');
    expect(watcher.out()).not.toMatch(/^(READ|GOT) /m);
    // The page itself: 0600 in a 0700 directory of ours.
    const page = fileURLToPath(given);
    expect((await stat(page)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(page))).mode & 0o777).toBe(0o700);

    await writeFile(join(home, 'go'), '');
    const r = await linking;
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    // The grant is the person's (alice), not anyone else's.
    const v = await readVault(home);
    const token = v.secrets.tokens[id]!.accessToken;
    expect(JSON.parse(await callTool(rig.mcpUrl, token, 'whoami'))).toMatchObject({ sub: 'alice' });
    expect(watcher.out()).not.toMatch(/^(READ|GOT) /m);
    // The page is gone with the sign-in's process.
    await expect(stat(page)).rejects.toThrow();
  }, 120_000);

  it.skipIf(unavailable)('the same watcher against `mcp-tokens ui`: the launch link never shows, the page cannot be read, and the person gets the UI', async () => {
    const home = await tempHome();
    homes.push(home);
    const script = join(home, 'slow-browser.mjs');
    await writeFile(script, SLOW_BROWSER);
    const watcher = await runAsOtherUser(WATCHER, [script, '600000']);
    attackers.push(watcher);
    await watcher.line(/^WATCHING$/);
    const env = cliEnv(home, { BROWSER: `"${process.execPath}" "${script}" "${home}" "${PERSON}"` });
    const ui = spawn(process.execPath, [BIN, 'ui'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ui.stderr.on('data', (c: Buffer) => (err += c.toString()));
    try {
      await waitFor(async () => Boolean(await readFile(join(home, 'browser.pid'), 'utf8').catch(() => '')), 30_000, 'the browser');
      const pid = (await readFile(join(home, 'browser.pid'), 'utf8')).trim();
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      const given = argv.at(-1)!;
      expect(given).toMatch(/^file:\/\/\/.*\/run\/open\/open-[0-9a-f]+\.html$/);
      expect(JSON.stringify(argv)).not.toMatch(/\/launch\/|127\.0\.0\.1/);
      expect(await watcher.line(/^FILE /)).toMatch(/ EACCES$/);
      await waitFor(() => watcher.out().includes('POLLED'), 30_000, 'the watcher to poll again');
      await writeFile(join(home, 'go'), '');
      await waitFor(async () => Boolean(await readFile(join(home, 'browser.done'), 'utf8').catch(() => '')), 30_000, 'the browser to load the UI');
      const done = JSON.parse(await readFile(join(home, 'browser.done'), 'utf8')) as { url: string; status: number };
      // The person's browser, arriving last, got the UI's page (not "link already used").
      expect(done.status, err).toBe(200);
      expect(new URL(done.url).pathname).toMatch(/^\/s\/[\w-]+\/$/);
      expect(watcher.out()).not.toMatch(/^(READ|GOT) /m);
      expect(err).not.toMatch(/opened twice|second/i);
      // Used, so removed at once, while the UI keeps running.
      await waitFor(async () => !(await stat(fileURLToPath(given)).catch(() => undefined)), 10_000, 'the used redirect page to be removed');
      expect(ui.exitCode).toBeNull();
    } finally {
      const gone = new Promise((r) => ui.once('exit', r));
      ui.kill('SIGTERM');
      await gone;
    }
  }, 120_000);

  it('the normal sign-in through the one-shot link still works, and the link is dead afterwards', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const personLog = join(home, 'person.log');
    const r = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home, { PERSON_LOG: personLog }));
    expect(r.code, r.stderr).toBe(0);
    const [given, via] = (await readFile(personLog, 'utf8')).split('\n');
    expect(given).toMatch(/^file:\/\/\/.*\/open-[0-9a-f]+\.html$/);
    const opened = via!.replace(/^# page leads to /, '');
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
    const [given, via] = (await readFile(personLog, 'utf8')).split('\n');
    expect(given).toMatch(/^file:\/\/\/.*\/open-[0-9a-f]+\.html$/);
    expect(via).toMatch(/^# page leads to http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+$/);
  });
});
