// The built `mcp-tokens bridge`, launched as Claude Desktop launches it (the SDK's legacy
// StdioClientTransport), against a 2026-07-28-only server that is its own authorization server.
// The client speaks the initialize handshake; the server has none. Checked from the outside.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startModernRig, type ModernRig } from '../rig/modern-server.js';
import { openBridge, stopBroker, textOf } from './bridge-helpers.js';
import { cliEnv, filesContaining, runCli, tempHome } from './cli-helpers.js';

const rigs: ModernRig[] = [];
const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await stopBroker(h);
  await Promise.all(rigs.map((r) => r.close()));
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

describe('bridge to a 2026-07-28 server', () => {
  it('a legacy client sees an ordinary session: tools, elicitation, progress; the broker token on every request', async () => {
    const rig = await startModernRig();
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    const linked = await runCli(['link', rig.url, '--json'], env);
    expect(linked.code, linked.stderr).toBe(0);
    const id = (JSON.parse(linked.stdout) as { id: string }).id;

    const b = await openBridge(env, id, { answer: 'forty-two' });
    try {
      expect(b.client.getServerVersion()).toMatchObject({ name: 'rig-modern' });
      const tools = (await b.client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['echo', 'whoami', 'ask', 'slow', 'route']));
      expect(tools).not.toContain('bad-header');
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } }))).toBe('héllo ✓');
      const who = JSON.parse(textOf(await b.client.callTool({ name: 'whoami', arguments: {} }))) as { sub: string; clientInfo: { name: string } };
      expect(who).toMatchObject({ sub: 'alice', clientInfo: { name: 'claude-desktop-like' } });
      // The server's MRTR input request reaches the client as a legacy elicitation/create.
      const asked = JSON.parse(textOf(await b.client.callTool({ name: 'ask', arguments: { question: 'The answer?' } }))) as unknown;
      expect(asked).toEqual({ action: 'accept', content: { answer: 'forty-two' } });
      const seen: number[] = [];
      const slow = await b.client.callTool({ name: 'slow', arguments: { steps: 3, ms: 30 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
      expect(textOf(slow)).toBe('done after 3');
      expect(seen).toEqual([1, 2, 3]);
      const routed = JSON.parse(textOf(await b.client.callTool({ name: 'route', arguments: { region: 'eu-west', count: 7 } }))) as Record<string, unknown>;
      expect(routed).toMatchObject({ region: 'eu-west', count: '7' });
    } finally {
      await b.close();
    }
    const mcpRequests = rig.mcp.requests.filter((r) => r.authorized);
    expect(mcpRequests.length).toBeGreaterThan(0);
    expect(mcpRequests.map((r) => r.rpcMethod)).not.toContain('initialize');
    expect(mcpRequests.every((r) => r.headers['mcp-protocol-version'] === '2026-07-28')).toBe(true);
    const secrets = [...rig.as.issuedAccessTokens, ...rig.as.issuedRefreshTokens];
    for (const s of secrets) expect(b.stderr()).not.toContain(s);
    expect(await filesContaining(home, secrets)).toEqual([]);
  });
});
