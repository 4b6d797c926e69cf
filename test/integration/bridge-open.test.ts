// `bridge <url>` for an open server (no authorization) on first use, from a cold start (the bridge
// starts the daemon): the client's first tools/list gets the server's real tools, and a call works.
// Regression: the gate answered tools/list with an empty list and the broker connection was lost.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openBridge, stopBroker, textOf } from './bridge-helpers.js';
import { cliEnv, tempHome } from './cli-helpers.js';

let http: Server | undefined;
const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) {
    await stopBroker(h);
    await rm(h, { recursive: true, force: true });
  }
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
});

async function openServer(): Promise<string> {
  http = createServer((req, res) => {
    const s = new McpServer({ name: 'open', version: '1.0.0' });
    s.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    void s.connect(t).then(() => t.handleRequest(req, res));
  });
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}

describe('bridge by URL to an open server', () => {
  it('lists and calls the real tools on first use from a cold start', async () => {
    const url = await openServer();
    const home = await tempHome();
    homes.push(home);
    const b = await openBridge(cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '5' }), url);
    try {
      const tools = (await b.client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(['add']);
      expect(textOf(await b.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }))).toBe('42');
      expect(b.stderr()).not.toMatch(/connection to the token broker was lost|did not complete/);
    } finally {
      await b.close();
    }
  });
});
