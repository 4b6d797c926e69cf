// The legacy path passes bytes: a 50 MB tool result goes through a bridge process intact, and the
// bridge's memory grows by a bounded amount (its VmHWM from /proc), not by a multiple of the result.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const ROOT = resolve(import.meta.dirname, '../..');
const PAYLOAD = 50 * 1024 * 1024;
/** Growth allowed while the result passes: well below the payload (measured about 20-24 MB; the old path held several copies). */
const MAX_GROWTH = 32 * 1024 * 1024;

let server: http.Server;
let url: string;
const sessions = new Map<string, StreamableHTTPServerTransport>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    void (async () => {
      const sid = req.headers['mcp-session-id'];
      let t = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!t) {
        const fresh: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, fresh) });
        const mcp = new McpServer({ name: 'stream-test', version: '1.0.0' });
        mcp.registerTool('big', { inputSchema: { bytes: z.number().int() } }, async ({ bytes }) => ({ content: [{ type: 'text', text: 'x'.repeat(bytes) }] }));
        await mcp.connect(fresh);
        t = fresh;
      }
      await t.handleRequest(req, res);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  await Promise.all([...sessions.values()].map((t) => t.close()));
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Reads the bridge's stdout line by line; a line is kept as a Buffer list until complete. */
function lines(child: ChildProcessWithoutNullStreams): () => Promise<Buffer> {
  let parts: Buffer[] = [];
  const ready: Buffer[] = [];
  let wake: (() => void) | undefined;
  child.stdout.on('data', (c: Buffer) => {
    let start = 0;
    for (let nl = c.indexOf(10); nl !== -1; nl = c.indexOf(10, start)) {
      parts.push(c.subarray(start, nl));
      ready.push(Buffer.concat(parts));
      parts = [];
      start = nl + 1;
    }
    if (start < c.length) parts.push(c.subarray(start));
    wake?.();
  });
  return async () => {
    const deadline = Date.now() + 120_000;
    while (ready.length === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('no line from the bridge');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1000);
      });
    }
    return ready.shift()!;
  };
}

async function mem(pid: number): Promise<{ rss: number; hwm: number }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

describe.runIf(process.platform === 'linux')('the legacy byte path', () => {
  it('streams a 50 MB tool result intact with the bridge memory bounded', async () => {
    const child = spawn(process.execPath, [...(process.env.BRIDGE_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', join(ROOT, 'test/integration/fixtures/run-bridge.ts'), url], { cwd: ROOT, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const next = lines(child);
    const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
    try {
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      expect(JSON.parse((await next()).toString())).toMatchObject({ id: 1, result: { serverInfo: { name: 'stream-test' } } });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // A small call first: what the bridge needs for any call is loaded before the baseline.
      send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'big', arguments: { bytes: 1000 } } });
      expect(JSON.parse((await next()).toString())).toMatchObject({ id: 2 });

      const before = await mem(child.pid!);
      // Resets VmHWM to the current RSS where the kernel allows it; otherwise the old peak stays, which only makes the bound stricter.
      await writeFile(`/proc/${child.pid}/clear_refs`, '5').catch(() => {});
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'big', arguments: { bytes: PAYLOAD } } });
      const line = await next();
      const after = await mem(child.pid!);

      const msg = JSON.parse(line.toString()) as { id: number; result: { content: { text: string }[] } };
      expect(msg.id).toBe(3);
      const text = msg.result.content[0]!.text;
      expect(text.length).toBe(PAYLOAD);
      expect(/^x+$/.test(text)).toBe(true);
      const growth = after.hwm - before.rss;
      expect(growth, `VmHWM ${after.hwm} after, VmRSS ${before.rss} before; ${stderr}`).toBeLessThan(MAX_GROWTH);
    } finally {
      child.stdin.end();
      await new Promise((r) => {
        if (child.exitCode !== null) r(undefined);
        child.once('exit', r);
        setTimeout(() => child.kill(), 15_000).unref();
      });
    }
  }, 180_000);
});
