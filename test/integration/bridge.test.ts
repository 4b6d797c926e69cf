// The bridge as Claude Desktop runs it (StdioClientTransport), against the rig, with the broker
// the bridge starts itself. Every check is made from the outside: the AS's and server's records.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type ProfileName, type Rig, type RigOptions, startRig } from '../rig/index.js';
import { isAlive, openBridge, stopBroker, textOf, waitFor } from './bridge-helpers.js';
import { BIN, allFiles, cliEnv, filesContaining, runCli, tempHome } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';

const rigs: Rig[] = [];
const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await stopBroker(h);
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

async function linked(profile: ProfileName, opts: RigOptions = {}, extraEnv: Record<string, string> = {}) {
  const rig = await startRig(profile, opts);
  rigs.push(rig);
  const home = await tempHome();
  homes.push(home);
  const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2', ...extraEnv });
  const r = await runCli(['link', rig.mcpUrl, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const id = (JSON.parse(r.stdout) as { id: string }).id;
  return { rig, home, env, id };
}

function allSecrets(rig: Rig) {
  return [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
}

describe('bridge', () => {
  it.each(['own-as', 'separate-as', 'legacy-sse', 'api-path-rotating'] as const)('forwards tools, elicitation and progress over %s; no token in its output or files', async (profile) => {
    const { rig, home, env, id } = await linked(profile);
    const b = await openBridge(env, id);
    try {
      const tools = await b.client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['admin', 'ask', 'big', 'echo', 'slow', 'whoami']);
      const who = JSON.parse(textOf(await b.client.callTool({ name: 'whoami', arguments: {} }))) as { sub: string; scopes: string[] };
      expect(who.sub).toBe('alice');
      expect(who.scopes).toContain('mcp:tools');
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } }))).toBe('héllo ✓');
      // Server-to-client request (elicitation) goes through and back.
      expect(JSON.parse(textOf(await b.client.callTool({ name: 'ask', arguments: { question: 'the answer?' } })))).toMatchObject({ action: 'accept', content: { answer: '42' } });
      // Progress notifications reach the client.
      const seen: number[] = [];
      const slow = await b.client.callTool({ name: 'slow', arguments: { steps: 3, ms: 20 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
      expect(textOf(slow)).toBe('done after 3');
      expect(seen).toEqual([1, 2, 3]);
    } finally {
      await b.close();
    }
    expect(rig.mcp.requests.filter((r) => r.authorized).length).toBeGreaterThan(0);
    for (const s of allSecrets(rig)) expect(b.stderr()).not.toContain(s);
    expect(await filesContaining(home, allSecrets(rig))).toEqual([]);
  });

  it('carries a large result intact', async () => {
    const { env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      const r = await b.client.callTool({ name: 'big', arguments: { bytes: 5_000_000 } });
      expect(textOf(r).length).toBe(5_000_000);
    } finally {
      await b.close();
    }
  });

  it('several bridges with short-lived tokens and rotating refresh tokens: one refresh at a time, none lost', async () => {
    // 30 s tokens are always "about to expire" for a bridge asking 60 s of validity: every call refreshes.
    const { rig, home, env, id } = await linked('api-path-rotating', { accessTokenTtl: 30 });
    const bridges = await Promise.all([0, 1, 2, 3].map(() => openBridge(env, id)));
    try {
      const calls = bridges.flatMap((b, i) => [0, 1, 2].map((j) => b.client.callTool({ name: 'echo', arguments: { text: `${i}.${j}` } })));
      const out = await Promise.all(calls);
      expect(out.map(textOf).sort()).toEqual(bridges.flatMap((_, i) => [0, 1, 2].map((j) => `${i}.${j}`)).sort());
    } finally {
      await Promise.all(bridges.map((b) => b.close()));
    }
    const refreshes = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token');
    expect(refreshes.length).toBeGreaterThan(0);
    // A refresh race with rotation would show up as a rejected refresh (reuse of a rotated token).
    expect(refreshes.filter((t) => t.status !== 200)).toEqual([]);
    const v = await readVault(home);
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
  });

  it('a grant revoked at the provider gives one clear error, and the bridge resumes after re-authorization', async () => {
    const { rig, home, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
      const tok = (await readVault(home)).secrets.tokens[id]!;
      await rig.as.revokeGrantOf(tok.refreshToken!);
      const err = await b.client.callTool({ name: 'echo', arguments: { text: 'during' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/re-authorize/i);
      expect(err?.message).toContain('mcp-tokens link');
      for (const s of allSecrets(rig)) expect(err?.message).not.toContain(s);
      const st = await runCli(['status', id, '--json'], env);
      expect(JSON.parse(st.stdout)).toMatchObject({ status: 'needs-reauth' });
      // The person re-authorizes; the same bridge carries on without a restart.
      const relink = await runCli(['link', rig.mcpUrl, '--json'], env);
      expect(relink.code, relink.stderr).toBe(0);
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    } finally {
      await b.close();
    }
  });

  it('a server that forgot the session is re-initialized transparently', async () => {
    const { rig, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');
      await rig.mcp.restart();
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
      expect(rig.mcp.requests.filter((r) => r.authorized && r.rpcMethods.includes('initialize')).length).toBe(2);
    } finally {
      await b.close();
    }
  });

  it('403 insufficient_scope: steps up through the browser with the union of scopes, then succeeds', async () => {
    const { rig, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      const r = await b.client.callTool({ name: 'admin', arguments: {} });
      expect(textOf(r)).toBe('admin ok');
      const last = rig.as.authorizationRequests.at(-1)!;
      expect(last.scope?.split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    } finally {
      await b.close();
    }
    const st = await runCli(['status', id, '--json'], env);
    expect((JSON.parse(st.stdout) as { scopes: string[] }).scopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
  });

  it('bridge <url> links an unknown server on first use, then works', async () => {
    const rig = await startRig('separate-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    const b = await openBridge(env, rig.mcpUrl);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'first use' } }))).toBe('first use');
    } finally {
      await b.close();
    }
    const list = await runCli(['list', '--json'], env);
    expect((JSON.parse(list.stdout) as { servers: Array<{ url: string }> }).servers.map((s) => s.url)).toEqual([rig.mcpUrl]);
  });

  it('answers a malformed line with a parse error and keeps going; stdout carries only JSON-RPC', async () => {
    const { env, id } = await linked('own-as');
    const child = spawn(process.execPath, [BIN, 'bridge', id], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stdin.write('this is not json\n');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
    await waitFor(() => out.split('\n').filter(Boolean).length >= 2, 20_000, 'two answers');
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: unknown; error?: { code: number }; result?: { serverInfo?: unknown } });
    expect(lines[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]).toMatchObject({ id: 1, result: { serverInfo: { name: 'rig-mcp' } } });
  });

  it('the broker a bridge started exits once the bridges are gone', async () => {
    const { home, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    await b.client.listTools();
    const { BrokerClient } = await import('../../src-main/core/broker/client.js');
    const { brokerAddress } = await import('../../src-main/core/broker/protocol.js');
    const c = new BrokerClient({ address: brokerAddress(home) });
    const { pid } = await c.request('hello', {}, 2000);
    c.close();
    expect(isAlive(pid)).toBe(true);
    // With a broker up, `refresh` goes through it, in line with the bridges.
    const r = await runCli(['refresh', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after refresh' } }))).toBe('after refresh');
    await b.close();
    await waitFor(() => !isAlive(pid), 15_000, 'the idle broker to exit');
    const logs = (await allFiles(home)).filter((f) => f.path.includes('/logs/'));
    expect(logs.length).toBeGreaterThan(0);
  });
});
