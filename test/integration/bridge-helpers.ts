// Launches `mcp-tokens bridge` the way Claude Desktop does: the SDK's StdioClientTransport.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import { BIN } from './cli-helpers.js';

export interface BridgeSession {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

export async function openBridge(env: NodeJS.ProcessEnv, target: string, opts: { answer?: string; name?: string; timeoutMs?: number } = {}): Promise<BridgeSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'bridge', target],
    env: env as Record<string, string>,
    stderr: 'pipe',
    // Claude Desktop reads lines of any size; the SDK's reader stops at 10 MiB unless told.
    maxBufferSize: 64 * 1024 * 1024,
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const client = new Client({ name: opts.name ?? 'claude-desktop-like', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { answer: opts.answer ?? '42' } }));
  // Many bridges starting at once on a loaded machine may need more than the SDK's 60 s.
  await client.connect(transport, opts.timeoutMs ? { timeout: opts.timeoutMs } : undefined);
  return {
    client,
    stderr: () => err,
    close: () => client.close(),
  };
}

export function textOf(r: object): string {
  const content = (r as { content?: unknown }).content;
  return ((Array.isArray(content) ? content : []) as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('');
}

/** Stops the broker a bridge started (tests must not leave daemons behind). */
export async function stopBroker(home: string): Promise<number | undefined> {
  const c = new BrokerClient({ address: brokerAddress(home), home });
  try {
    const { pid } = await c.request('hello', {}, 2000);
    process.kill(pid, 'SIGTERM');
    return pid;
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
