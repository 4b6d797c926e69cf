// The usual start of an integration test file: rigs and data dirs that are stopped (brokers
// first) and removed when the file is done, a server linked by the CLI, and what the rig's AS
// saw of refreshes.
import { rm } from 'node:fs/promises';
import { afterAll, expect } from 'vitest';
import { type ProfileName, type Rig, type RigOptions, startRig } from '../rig/index.js';
import { stopBroker } from './bridge-helpers.js';
import { cliEnv, runCli, tempHome } from './cli-helpers.js';

/** Registers the file's cleanup; what it returns starts rigs and data dirs the cleanup knows of. */
export function rigFixture() {
  const rigs: Rig[] = [];
  const homes: string[] = [];
  afterAll(async () => {
    for (const h of homes) await stopBroker(h);
    await Promise.all(rigs.map((r) => r.close()));
    await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
  });
  const fx = {
    async rig(profile: ProfileName, opts: RigOptions = {}): Promise<Rig> {
      const rig = await startRig(profile, opts);
      rigs.push(rig);
      return rig;
    },
    /** A fresh temp data dir, or `path` (made by the caller) to remove afterwards. */
    async home(path?: string): Promise<string> {
      const home = path ?? (await tempHome());
      homes.push(home);
      return home;
    },
    /** A rig, a data dir whose broker exits 2 s after its last bridge, and the server linked by the CLI. */
    async linked(profile: ProfileName, opts: RigOptions = {}, extraEnv: Record<string, string> = {}) {
      const rig = await fx.rig(profile, opts);
      const home = await fx.home();
      const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2', ...extraEnv });
      const id = await linkCli(rig.mcpUrl, env);
      return { rig, home, env, id };
    },
  };
  return fx;
}

/** `mcp-tokens link <url> --json`, which must succeed: the new server's id. */
export async function linkCli(url: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCli(['link', url, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

export const refreshesOf = (rig: Rig) => rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token');

/** No refresh token was ever presented twice at the AS (with rotation, a repeat is a reuse). */
export function expectNoReuse(rig: Rig): void {
  const seen = rig.as.presentedRefreshTokens;
  expect(new Set(seen).size).toBe(seen.length);
}
