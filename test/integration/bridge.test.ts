// The bridge as Claude Desktop runs it (StdioClientTransport), against the rig, with the broker
// the bridge starts itself. Every check is made from the outside: the AS's and server's records.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import type { Rig } from '../rig/index.js';
import { isAlive, openBridge, textOf, waitFor } from './bridge-helpers.js';
import { BIN, allFiles, cliEnv, filesContaining, runCli } from './cli-helpers.js';
import { openVault, readVault } from './grant-helpers.js';
import { expectNoReuse, refreshesOf, rigFixture } from './rig-fixture.js';

const fx = rigFixture();
const { linked } = fx;

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
      // The bridge writes them in order before the result; the SDK client runs notification
      // handlers a few microtasks after a response read in the same chunk (a loaded machine
      // reads the last progress and the result together), so wait (bounded) for the last one.
      await waitFor(() => seen.length >= 3, 5000, 'the last progress notification');
      expect(seen).toEqual([1, 2, 3]);
    } finally {
      await b.close();
    }
    expect(rig.mcp.requests.filter((r) => r.authorized).length).toBeGreaterThan(0);
    for (const s of allSecrets(rig)) expect(b.stderr()).not.toContain(s);
    expect(await filesContaining(home, allSecrets(rig))).toEqual([]);
  });

  it('carries a 20 MB result intact', async () => {
    const { env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      const r = await b.client.callTool({ name: 'big', arguments: { bytes: 20_000_000 } });
      const text = textOf(r);
      expect(text.length).toBe(20_000_000);
      expect(/^x+$/.test(text)).toBe(true);
    } finally {
      await b.close();
    }
    // The SDK's stdio reader re-joins its buffer at every read (quadratic in a long line): on a
    // loaded 2-core machine this takes over a minute, so the bound is generous, not a budget.
  }, 300_000);

  it('10 bridges on one server whose access token has expired: every call succeeds, the AS sees exactly one refresh, and no refresh token is presented twice', async () => {
    // Hour-long tokens with rotation; the stored expiry is set in the past, so the count is
    // never decided by a token expiring again while a loaded machine starts the bridges.
    const { rig, home, env, id } = await linked('api-path-rotating');
    await (await openVault(home)).update((d) => {
      d.servers[id]!.grant!.expiresAt = Date.now() - 1000;
    });
    const before = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token').length;
    const bridges = await Promise.all(Array.from({ length: 10 }, () => openBridge(env, id)));
    try {
      const out = await Promise.all(bridges.map((b, i) => b.client.callTool({ name: 'echo', arguments: { text: `bridge ${i}` } })));
      expect(out.map(textOf).sort()).toEqual(bridges.map((_, i) => `bridge ${i}`).sort());
    } finally {
      await Promise.all(bridges.map((b) => b.close()));
    }
    const refreshes = refreshesOf(rig).slice(before);
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.status).toBe(200);
    const v = await readVault(home);
    expect(await rig.as.isRefreshTokenActive(v.secrets.tokens[id]!.refreshToken!)).toBe(true);
    expectNoReuse(rig);
  }, 240_000);

  it('AS down when the token needs refreshing: calls fail cleanly within 10 s, the grant is kept, and calls resume when it is back', async () => {
    const { rig, home, env, id } = await linked('api-path-rotating', { accessTokenTtl: 10 });
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'up' } }))).toBe('up');
      const grantBefore = (await readVault(home)).secrets.tokens[id];
      await rig.as.setDown(true);
      const exp = (await readVault(home)).servers[id]!.grant!.expiresAt!;
      await new Promise((r) => setTimeout(r, Math.max(0, exp - Date.now()) + 300));
      const t0 = Date.now();
      const err = await b.client.callTool({ name: 'echo', arguments: { text: 'down' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(err?.message).toMatch(/authorization server|Could not reach/i);
      expect((await readVault(home)).secrets.tokens[id]).toEqual(grantBefore);
      await rig.as.setDown(false);
      // The broker backs off after the failure; calls succeed again once it retries.
      let ok: string | undefined;
      for (let i = 0; i < 20 && !ok; i++) {
        ok = await b.client.callTool({ name: 'echo', arguments: { text: 'back' } }).then(textOf, () => undefined);
        if (!ok) await new Promise((r) => setTimeout(r, 500));
      }
      expect(ok).toBe('back');
      expect(rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code')).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it('the broker killed while bridges run: they reconnect to a new one, and no grant is lost', async () => {
    const { rig, home, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');
      const c = new BrokerClient({ address: brokerAddress(home), home });
      const { pid } = await c.request('hello', {}, 2000);
      c.close();
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), 5000, 'the broker to die');
      const grant = (await readVault(home)).secrets.tokens[id];
      // A new bridge (Claude Desktop starts them at will) brings a new broker up.
      const b2 = await openBridge(env, id);
      try {
        expect(textOf(await b2.client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
      } finally {
        await b2.close();
      }
      expect((await readVault(home)).secrets.tokens[id]).toEqual(grant);
      const c2 = new BrokerClient({ address: brokerAddress(home), home });
      const again = await c2.request('hello', {}, 5000);
      c2.close();
      expect(again.pid).not.toBe(pid);
      // The first bridge reconnects to it too when it next needs the broker (a 401 makes it ask).
      rig.mcp.rejectNextTokens(1);
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'three' } }))).toBe('three');
    } finally {
      await b.close();
    }
  });

  it('a server that redirects to another origin never receives the token there', async () => {
    const { rig, env, id } = await linked('own-as');
    const seen: Array<string | undefined> = [];
    const catcher = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => catcher.listen(0, '127.0.0.1', () => r()));
    const port = (catcher.address() as AddressInfo).port;
    rig.mcp.redirectTo(`http://127.0.0.1:${port}/mcp`);
    try {
      const failed = await openBridge(env, id).then(
        async (b) => {
          await b.close();
          return false;
        },
        () => true,
      );
      expect(failed).toBe(true);
      expect(seen.filter(Boolean)).toEqual([]);
    } finally {
      rig.mcp.redirectTo(undefined);
      await new Promise<void>((r) => catcher.close(() => r()));
    }
  });

  it('a grant revoked at the provider gives one clear error, and the bridge resumes after re-authorization', async () => {
    const { rig, home, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
      const tok = (await readVault(home)).secrets.tokens[id]!;
      await rig.as.revokeGrantOf(tok.refreshToken!);
      const tokenRequestsBefore = rig.as.tokenRequests.length;
      const t0 = Date.now();
      const err = await b.client.callTool({ name: 'echo', arguments: { text: 'during' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(Date.now() - t0).toBeLessThan(10_000);
      // One refresh attempt, no loop.
      const tries = rig.as.tokenRequests.slice(tokenRequestsBefore);
      expect(tries.length).toBeGreaterThanOrEqual(1);
      expect(tries.length).toBeLessThanOrEqual(3);
      expect(tries.every((t) => t.grantType === 'refresh_token' && t.error === 'invalid_grant')).toBe(true);
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
    const rig = await fx.rig('separate-as');
    const home = await fx.home();
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

  it('answers bad input (non-JSON, an over-long line, an unknown method) with errors and stays up; stdout carries only JSON-RPC', async () => {
    const { env, id } = await linked('own-as');
    const child = spawn(process.execPath, [BIN, 'bridge', id], { env: { ...env, MCP_TOKENS_MAX_LINE_BYTES: '65536' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const answers = () => out.split('\n').filter(Boolean);
    child.stdin.write('this is not json\n');
    await waitFor(() => answers().length >= 1, 20_000, 'the parse error');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping', params: { pad: 'y'.repeat(100_000) } })}\n`);
    await waitFor(() => answers().length >= 2, 20_000, 'the too-long error');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
    await waitFor(() => answers().length >= 3, 20_000, 'initialize');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'frobnicate/everything', params: {} })}\n`);
    await waitFor(() => answers().length >= 4, 20_000, 'the unknown method');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'still up' } } })}\n`);
    await waitFor(() => answers().length >= 5, 20_000, 'the tool call');
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const lines = answers().map((l) => JSON.parse(l) as { id: unknown; error?: { code: number; message: string }; result?: { serverInfo?: unknown; content?: unknown } });
    expect(lines[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]!.error!.message).toMatch(/65536/);
    expect(lines[2]).toMatchObject({ id: 1, result: { serverInfo: { name: 'rig-mcp' } } });
    expect(lines[3]).toMatchObject({ id: 2, error: { code: -32601 } });
    expect(lines[4]).toMatchObject({ id: 3, result: { content: [{ type: 'text', text: 'still up' }] } });
  });

  it('the broker a bridge started exits once the bridges are gone', async () => {
    const { home, env, id } = await linked('own-as');
    const b = await openBridge(env, id);
    await b.client.listTools();
    const { BrokerClient } = await import('../../src-main/core/broker/client.js');
    const { brokerAddress } = await import('../../src-main/core/broker/protocol.js');
    const c = new BrokerClient({ address: brokerAddress(home), home });
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
