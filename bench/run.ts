// `npm run bench`: what the bridge costs, as ratios against baselines run in this same process:
// a direct SDK client with the bearer header, and mcp-remote (from npm) given the same header.
// Figures, not assertions: timing belongs here, not in tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { BrokerClient } from '../src-main/core/broker/client.js';
import { brokerAddress } from '../src-main/core/broker/protocol.js';
import { startRig } from '../test/rig/index.js';
import { openVault } from '../test/integration/grant-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const PERSON = join(ROOT, 'test/rig/person.mjs');
const MCP_REMOTE = join(ROOT, 'node_modules/mcp-remote/dist/proxy.js');
const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);

interface Figures {
  startMs: number[];
  callMs: number[];
  bigMs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! : NaN;
}

async function measure(make: () => Transport): Promise<Figures> {
  const f: Figures = { startMs: [], callMs: [], bigMs: [] };
  for (let i = 0; i < STARTS; i++) {
    const client = new Client({ name: 'bench', version: '1' });
    const t0 = performance.now();
    await client.connect(make());
    await client.listTools();
    f.startMs.push(performance.now() - t0);
    if (i === STARTS - 1) {
      for (let j = 0; j < 10; j++) await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
      for (let j = 0; j < CALLS; j++) {
        const c0 = performance.now();
        await client.callTool({ name: 'echo', arguments: { text: `call ${j}` } });
        f.callMs.push(performance.now() - c0);
      }
      for (let j = 0; j < 5; j++) {
        const b0 = performance.now();
        await client.callTool({ name: 'big', arguments: { bytes: 4_000_000 } });
        f.bigMs.push(performance.now() - b0);
      }
    }
    await client.close();
  }
  return f;
}

function row(name: string, f: Figures, base: Figures): string {
  const r = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return `${name.padEnd(26)} start ${median(f.startMs).toFixed(1).padStart(7)} ms (${r(median(f.startMs), median(base.startMs)).padStart(6)})  call p50 ${median(f.callMs).toFixed(2).padStart(6)} ms (${r(median(f.callMs), median(base.callMs)).padStart(6)})  p95 ${p95(f.callMs).toFixed(2).padStart(6)} ms  4 MB result ${median(f.bigMs).toFixed(1).padStart(6)} ms (${r(median(f.bigMs), median(base.bigMs)).padStart(6)})`;
}

const rig = await startRig('own-as');
const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-bench-'));
const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, MCP_TOKENS_HOME: home, MCP_TOKENS_KEYRING: 'off', BROWSER: `"${process.execPath}" "${PERSON}"`, MCP_TOKENS_DAEMON_IDLE: '5' };
try {
  const { spawn } = await import('node:child_process');
  const link = spawn(process.execPath, [BIN, 'link', rig.mcpUrl, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  link.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise((r) => link.on('exit', r));
  if (code !== 0) throw new Error('link failed');
  const id = (JSON.parse(out) as { id: string }).id;
  const token = (await (await openVault(home)).read()).secrets.tokens[id]!.accessToken;

  const direct = await measure(() => new StreamableHTTPClientTransport(new URL(rig.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const bridge = await measure(() => new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', id], env, stderr: 'ignore' }));
  const mcpRemote = await measure(
    () =>
      new StdioClientTransport({
        command: process.execPath,
        args: [MCP_REMOTE, rig.mcpUrl, '--header', `Authorization:Bearer ${token}`, '--transport', 'http-only'],
        env: { ...env, MCP_REMOTE_CONFIG_DIR: join(home, 'mcp-remote') },
        stderr: 'ignore',
      }),
  );
  process.stdout.write(`MCP Token Manager bench — ${CALLS} sequential echo calls, ${STARTS} cold starts each, against the rig on 127.0.0.1\n`);
  process.stdout.write(`(ratios are against the direct client; start = spawn + initialize + tools/list)\n\n`);
  process.stdout.write(`${row('direct SDK client', direct, direct)}\n`);
  process.stdout.write(`${row('mcp-tokens bridge', bridge, direct)}\n`);
  process.stdout.write(`${row('mcp-remote 0.15.1', mcpRemote, direct)}\n`);
  process.stdout.write(`\nbridge vs mcp-remote: start ${(median(bridge.startMs) / median(mcpRemote.startMs)).toFixed(2)}x, call ${(median(bridge.callMs) / median(mcpRemote.callMs)).toFixed(2)}x, 4 MB ${(median(bridge.bigMs) / median(mcpRemote.bigMs)).toFixed(2)}x\n`);
} finally {
  const c = new BrokerClient({ address: brokerAddress(home) });
  try {
    const { pid } = await c.request('hello', {}, 2000);
    process.kill(pid, 'SIGTERM');
  } catch {
    // no broker left
  }
  c.close();
  await rig.close();
  await rm(home, { recursive: true, force: true });
}
