// Where a bridge's start, memory and big results go: one bridge (and the daemon it starts) run
// under --cpu-prof with a memory sampler, against the own-as rig. Not part of `npm run bench`;
// run `npx tsx bench/profile.ts <outdir>` and read the .cpuprofile files (or the summary printed).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startRig } from '../test/rig/index.js';
import { advertisedAddressFile } from '../src-main/core/broker/address.js';
import { reap, runNode } from './lib.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const PERSON = join(ROOT, 'test/rig/person.mjs');
const outDir = resolve(process.argv[2] ?? '/tmp/bench/prof');
const MEM = pathToFileURL(resolve(import.meta.dirname, 'mem-sampler.mjs')).href;
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

const rig = await startRig('own-as');
const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-prof-'));
const memlog = join(outDir, 'mem.jsonl');
const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, MCP_TOKENS_HOME: home, MCP_TOKENS_KEYRING: 'off', BROWSER: `"${process.execPath}" "${PERSON}"`, MCP_TOKENS_DAEMON_IDLE: '5', MEMLOG: memlog };
const profEnv = { ...env, NODE_OPTIONS: `--import ${MEM}` };
const profArgs = ['--cpu-prof', `--cpu-prof-dir=${outDir}`];
const brokerPid = async () => {
  try {
    return (JSON.parse(await readFile(advertisedAddressFile(home), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
};
const killBroker = async () => {
  const pid = await brokerPid();
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await reap(pid, 10_000);
};
try {
  const linked = await runNode([BIN, 'link', rig.mcpUrl, '--json'], env, 120_000);
  const id = (JSON.parse(linked.out) as { id: string }).id;
  await killBroker();
  {
    // The daemon alone: spawn → the line that says it listens.
    const t0 = performance.now();
    const d = spawn(process.execPath, [...profArgs, BIN, 'daemon', '--idle-exit', '5'], { env: { ...profEnv, MCP_TOKENS_READY_FD: '3' }, stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    await new Promise<void>((res) => {
      const ready = d.stdio[3] as NodeJS.ReadableStream;
      ready.once('data', () => res());
      ready.once('end', () => res());
    });
    process.stdout.write(`daemon: spawn → listening ${(performance.now() - t0).toFixed(0)} ms\n`);
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
  }
  for (const mode of ['cold', 'warm', 'warm-big'] as const) {
    const transport = new StdioClientTransport({ command: process.execPath, args: [...profArgs, BIN, 'bridge', id], env: profEnv, stderr: 'ignore' });
    const client = new Client({ name: 'prof', version: '1' });
    const t0 = performance.now();
    await client.connect(transport, { timeout: 60_000 });
    const startMs = performance.now() - t0;
    const c0 = performance.now();
    for (let j = 0; j < 150; j++) await client.callTool({ name: 'echo', arguments: { text: `x${j}` } });
    const callsMs = performance.now() - c0;
    let bigMs = NaN;
    if (mode === 'warm-big') {
      const b0 = performance.now();
      await client.callTool({ name: 'big', arguments: { bytes: 10_000_000 } }, undefined, { timeout: 120_000 });
      bigMs = performance.now() - b0;
    }
    await client.close();
    process.stdout.write(`${mode}: start ${startMs.toFixed(0)} ms, 150 calls ${callsMs.toFixed(0)} ms${mode === 'warm-big' ? `, 10 MB result ${bigMs.toFixed(0)} ms` : ''}\n`);
  }
  await killBroker();
} finally {
  await killBroker();
  await rig.close();
  await rm(home, { recursive: true, force: true });
}

// Self time per script file in each profile: which modules cost what.
for (const f of (await readdir(outDir)).filter((x) => x.endsWith('.cpuprofile')).sort()) {
  const p = JSON.parse(await readFile(join(outDir, f), 'utf8')) as { nodes: { id: number; callFrame: { url: string; functionName: string } }[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((sid, i) => {
    const n = byId.get(sid)!;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT, '.') || `(${n.callFrame.functionName || 'native'})`;
    self.set(url, (self.get(url) ?? 0) + dt);
  });
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 12);
  process.stdout.write(`\n${f}: ${total.toFixed(0)} ms sampled\n${top.map(([u, ms]) => `  ${ms.toFixed(1).padStart(8)} ms  ${u}`).join('\n')}\n`);
}
process.stdout.write(`\nmemory (MB): ${(await readFile(memlog, 'utf8').catch(() => '')).trim()}\n`);
