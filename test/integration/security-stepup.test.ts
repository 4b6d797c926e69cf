// Issue 14, finding 5: a server that answers every call with 403 insufficient_scope and a new
// scope name gets at most the broker's budget of browser prompts per hour; while the person has
// not answered, the grant keeps working for the scopes it has; a "no" leaves it as it was.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, STEP_UP_PROMPTS_PER_HOUR } from '../../src-main/core/broker/broker.js';
import { Manager } from '../../src-main/core/manager/manager.js';
import { systemClock } from '../../src-main/core/platform/services.js';
import { type Rig, startRig } from '../rig/index.js';
import { cliEnv, PERSON, runCli, tempHome } from './cli-helpers.js';
import { callTool, openVault } from './grant-helpers.js';

type Approve = (url: string, o?: { deny?: boolean }) => Promise<{ status: number }>;
const rigs: Rig[] = [];
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

/** A linked server, and a broker over the same data dir whose "browser" is `open`. */
async function setup(open: (url: string) => Promise<void>) {
  const rig = await startRig('own-as');
  rigs.push(rig);
  const home = await tempHome();
  homes.push(home);
  const linked = await runCli(['link', rig.mcpUrl, '--json'], cliEnv(home));
  expect(linked.code, linked.stderr).toBe(0);
  const id = (JSON.parse(linked.stdout) as { id: string }).id;
  const vault = await openVault(home);
  const logger = { log: () => {} };
  const manager = new Manager({ vault, cipher: { kind: 'key-file', description: 'test', weak: true }, clock: systemClock, opener: { open }, logger });
  const broker = new Broker({ manager, clock: systemClock, logger, vaultStamp: () => vault.stamp() });
  return { rig, id, manager, broker };
}

describe('step-up (403 insufficient_scope)', () => {
  it('a server asking for a new scope on every call gets at most the budget of prompts; each "no" leaves the grant as it was', async () => {
    const { approve } = (await import(PERSON)) as { approve: Approve };
    const prompts: string[] = [];
    // The person says no each time they are asked.
    const { rig, id, manager, broker } = await setup(async (url) => {
      prompts.push(url);
      void approve(url, { deny: true });
    });
    const before = await broker.getToken(id, 0);
    const outcomes: string[] = [];
    for (let i = 1; i <= 8; i++) {
      try {
        await broker.stepUp(id, ['mcp:tools', `mcp:spam${i}`]);
        outcomes.push('granted');
      } catch (err) {
        outcomes.push((err as Error).message);
      }
    }
    expect(prompts.length).toBe(STEP_UP_PROMPTS_PER_HOUR);
    expect(STEP_UP_PROMPTS_PER_HOUR).toBeLessThanOrEqual(5);
    // The first ones were refused by the person, the rest by the budget, with a clear reason.
    for (const o of outcomes.slice(STEP_UP_PROMPTS_PER_HOUR)) expect(o).toMatch(/asked for more permissions \d+ times within an hour; not asking again/);
    expect(outcomes.filter((o) => o === 'granted')).toEqual([]);
    // The grant is as it was: status ok, the same token, and it still works at the server.
    const view = await manager.lookup(id);
    expect(view?.status).toBe('ok');
    const after = await broker.getToken(id, 0);
    expect(after.accessToken).toBe(before.accessToken);
    expect(await callTool(rig.mcpUrl, after.accessToken, 'echo', { text: 'still here' })).toBe('still here');
    broker.close();
  });

  it('while the person has not answered, the grant keeps working; once approved, the new scopes are granted', async () => {
    const { approve } = (await import(PERSON)) as { approve: Approve };
    let shown: string | undefined;
    const { rig, id, manager, broker } = await setup(async (url) => {
      shown = url;
    });
    const stepping = broker.stepUp(id, ['mcp:tools', 'mcp:admin']);
    for (let i = 0; i < 200 && !shown; i++) await new Promise((r) => setTimeout(r, 50));
    expect(shown).toBeDefined();
    // Pending: every client still gets a working token for the scopes it has.
    expect((await manager.lookup(id))?.status).toBe('ok');
    const meanwhile = await broker.getToken(id, 0);
    expect(await callTool(rig.mcpUrl, meanwhile.accessToken, 'echo', { text: 'meanwhile' })).toBe('meanwhile');
    // The person approves now.
    await approve(shown!);
    const g = await stepping;
    expect(await callTool(rig.mcpUrl, g.accessToken, 'admin')).toBe('admin ok');
    expect((await manager.lookup(id))?.scopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    broker.close();
  });
});
