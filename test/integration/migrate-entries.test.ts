// `migrate --write` over a Claude Desktop file with five forms of mcp-remote entry: every one
// becomes ours and works against the rig, started as Claude Desktop starts it; the header ones
// reach the server with the header. And per-server headers set at link time: masked in status,
// sealed in the vault, sent by the bridge with ${VAR} read from its environment.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigPath } from '../../src-main/core/clients/index.js';
import { startRig, type Rig } from '../rig/index.js';
import { stopBroker, textOf } from './bridge-helpers.js';
import { entryIn, launchEntry, startDaemon } from './client-helpers.js';
import { BIN, allFiles, cliEnv, runCli, tempHome } from './cli-helpers.js';

let rig: Rig;
let sseRig: Rig;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [rig, sseRig] = await Promise.all([startRig('own-as'), startRig('legacy-sse')]);
  home = await tempHome();
  env = cliEnv(home);
  for (const url of [rig.mcpUrl, sseRig.mcpUrl]) {
    const r = await runCli(['link', url], env);
    expect(r.code, r.stderr).toBe(0);
  }
  await startDaemon(env, home);
}, 90_000);

afterAll(async () => {
  if (home) await stopBroker(home);
  await Promise.all([rig?.close(), sseRig?.close()]);
  if (home) await rm(home, { recursive: true, force: true });
});

describe('migrating every form of mcp-remote entry', () => {
  it('five entries (plain, --header with ${VAR}, --transport sse-only, a callback port, --allow-http) all become ours and work', async () => {
    const file = defaultConfigPath('claude', { HOME: home }, 'linux');
    await mkdir(path.dirname(file), { recursive: true });
    const remote = (...args: string[]) => ({ command: 'npx', args: ['-y', 'mcp-remote', ...args] });
    await writeFile(
      file,
      JSON.stringify(
        {
          mcpServers: {
            plain: remote(rig.mcpUrl),
            tenant: { ...remote(rig.mcpUrl, '--header', 'X-Tenant: ${TENANT}'), env: { TENANT: 'acme' } },
            legacy: remote(sseRig.mcpUrl, '--transport', 'sse-only'),
            port: remote(rig.mcpUrl, '3334'),
            http: remote(rig.mcpUrl, '--allow-http'),
          },
        },
        null,
        2,
      ),
    );
    const r = await runCli(['migrate', '--write'], env);
    expect(r.code, r.stderr).toBe(0);
    // What became of each flag, said precisely.
    expect(r.stderr).toMatch(/--header X-Tenant: passed to the bridge as --header, which sends it to this server only \(value from \$\{TENANT\} in the entry's env\)/);
    expect(r.stderr).toMatch(/--transport sse-only: the bridge picks Streamable HTTP or legacy SSE by itself/);
    expect(r.stderr).toMatch(/callback port 3334: ignored: the bridge signs in on an ephemeral loopback port/);
    expect(r.stderr).toMatch(/--allow-http: not needed/);
    expect(r.stderr).toMatch(/Updated .*claude_desktop_config\.json: plain, tenant, legacy, port, http/);

    const names = ['plain', 'tenant', 'legacy', 'port', 'http'];
    for (const name of names) {
      const e = await entryIn('claude', home, name);
      expect(e.command).toBe(process.execPath);
      expect(e.args.slice(0, 2)).toEqual([BIN, 'bridge']);
      expect(e.env?.MCP_TOKENS_HOME).toBe(home);
    }
    const tenant = await entryIn('claude', home, 'tenant');
    expect(tenant.args).toEqual([BIN, 'bridge', rig.mcpUrl, '--header', 'X-Tenant: ${TENANT}']);
    expect(tenant.env).toEqual({ TENANT: 'acme', MCP_TOKENS_HOME: home });

    for (const name of names) {
      const server = name === 'legacy' ? sseRig : rig;
      const from = server.mcp.requests.length;
      const s = await launchEntry(await entryIn('claude', home, name), home);
      try {
        expect((await s.client.listTools()).tools.map((t) => t.name), name).toContain('whoami');
        expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
      } finally {
        await s.close();
      }
      const seen = server.mcp.requests.slice(from).filter((q) => q.authorized);
      expect(seen.length, name).toBeGreaterThan(0);
      // Only the header entry sends it, and then on every request.
      expect(seen.map((q) => q.headers['x-tenant']), name).toEqual(seen.map(() => (name === 'tenant' ? 'acme' : undefined)));
    }
    expect((await runCli(['migrate', '--json'], env)).stdout).toMatch(/"entries": \[\]/);
  });

  it('link --header: masked in status, sealed in the vault, sent with ${VAR} from the bridge’s environment', async () => {
    const own = await startRig('own-as');
    try {
      const literal = 'lit-SECRET-4242-key';
      const r = await runCli(['link', own.mcpUrl, '--name', 'teams', '--header', 'X-Team: ${TEAM}', '--header', `X-Key: ${literal}`, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const id = (JSON.parse(r.stdout) as { id: string }).id;
      const status = await runCli(['status', id], env);
      expect(status.stdout).toContain('Headers:        X-Team: ${TEAM}, X-Key: •••');
      const json = await runCli(['status', id, '--json'], env);
      expect(JSON.parse(json.stdout).headers).toEqual([
        { name: 'X-Team', value: '${TEAM}' },
        { name: 'X-Key', value: '•••' },
      ]);
      for (const out of [r.stdout, r.stderr, status.stdout, json.stdout]) expect(out).not.toContain(literal);
      for (const f of await allFiles(home)) expect(f.data.toString('latin1').includes(literal), f.path).toBe(false);

      const w = await runCli(['config', 'claude', id, '--write', '--json'], env);
      expect(w.code, w.stderr).toBe(0);
      const from = own.mcp.requests.length;
      const s = await launchEntry(await entryIn('claude', home, JSON.parse(w.stdout).name as string), home, { extraEnv: { TEAM: 'blue' } });
      try {
        expect(JSON.parse(textOf(await s.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
      } finally {
        await s.close();
      }
      const seen = own.mcp.requests.slice(from).filter((q) => q.authorized);
      expect(seen.length).toBeGreaterThan(0);
      for (const q of seen) expect([q.headers['x-team'], q.headers['x-key']]).toEqual(['blue', literal]);
      // The value is never written expanded.
      expect(await readFile(defaultConfigPath('claude', { HOME: home }, 'linux'), 'utf8')).not.toContain('blue');
    } finally {
      await own.close();
    }
  });
});
