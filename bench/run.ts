// `npm run bench`: what the bridge costs, in one run against the own-as rig on 127.0.0.1, for three
// subjects: a direct SDK client with the bearer header (the baseline), `mcp-tokens bridge <id>`, and
// mcp-remote (from npm) given the same token with --header. Figures, not assertions: timing belongs
// here, not in tests. The targets block at the end reports each target of issue 17 as met / not met.
// The bridge measured is the dist/ artifact users run (bin/mcp-tokens.js → dist/cli.js).
//
// Env: BENCH_CALLS (calls per latency run, default 1000), BENCH_STARTS (start rounds, default 5:
// each round starts the bridge with the broker running, then with none (the broker killed first),
// then mcp-remote), BENCH_TENS (rounds of ten processes spawned at once, cold, default 5),
// BENCH_BIG_REPS (10 MB results per subject, default 3).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { BrokerClient } from '../src-main/core/broker/client.js';
import { brokerAddress } from '../src-main/core/broker/protocol.js';
import { startRig } from '../test/rig/index.js';
import { openVault } from '../test/integration/grant-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const PERSON = join(ROOT, 'test/rig/person.mjs');
const MCP_REMOTE = join(ROOT, 'node_modules/mcp-remote/dist/proxy.js');
const CALLS = posInt(process.env.BENCH_CALLS, 1000);
const STARTS = posInt(process.env.BENCH_STARTS, 5);
const TENS = posInt(process.env.BENCH_TENS, 5);
const BIG_REPS = posInt(process.env.BENCH_BIG_REPS, 3);
const BIG_BYTES = 10_000_000;
const CONCURRENCY = 16;
const WARM_CALLS = 50;
const CALL_TIMEOUT = { timeout: 120_000 };

function posInt(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : dflt;
}

// ---------------------------------------------------------------------------------------------
// Small statistics and /proc helpers

function sorted(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}
function median(xs: number[]): number {
  const s = sorted(xs);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number {
  const s = sorted(xs);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : NaN;
}

interface ProcMem {
  rss: number; // bytes
  hwm: number; // bytes
}

/** VmRSS and VmHWM of a process (Linux); undefined elsewhere or once it is gone. */
async function procMem(pid: number | null | undefined): Promise<ProcMem | undefined> {
  if (!pid) return undefined;
  try {
    const s = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    const m = { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    return Number.isFinite(m.rss) && Number.isFinite(m.hwm) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0, "5" > clear_refs), so a later VmHWM is the peak since now. */
async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Subjects

type Key = 'direct' | 'bridge' | 'remote';
const KEYS: Key[] = ['direct', 'bridge', 'remote'];
const LABEL: Record<Key, string> = { direct: 'direct SDK client', bridge: 'mcp-tokens bridge', remote: 'mcp-remote 0.15.1' };

interface Subject {
  key: Key;
  make(): Transport;
  /** The subject's own process, once started (undefined: it runs inside the bench process). */
  pid(t: Transport): number | undefined;
}

interface Session {
  client: Client;
  transport: Transport;
  pid: number | undefined;
}

async function open(s: Subject): Promise<{ session: Session; ms: number }> {
  const transport = s.make();
  const client = new Client({ name: 'bench', version: '1' });
  const t0 = performance.now();
  await client.connect(transport, CALL_TIMEOUT); // spawn (stdio) + initialize answered + initialized sent
  const ms = performance.now() - t0;
  return { session: { client, transport, pid: s.pid(transport) }, ms };
}

async function echo(c: Client, text: string): Promise<void> {
  const r = await c.callTool({ name: 'echo', arguments: { text } }, undefined, CALL_TIMEOUT);
  const got = (r.content as Array<{ text?: string }>)[0]?.text;
  if (got !== text) throw new Error(`echo returned ${JSON.stringify(got)?.slice(0, 80)} for ${text}`);
}

interface Results {
  startMs: number[];
  coldStartMs: number[]; // bridge only: no broker running at spawn
  tenMs: number[]; // ten spawned at once (cold for the bridge): until the last initialize answered
  firstStartMs?: number; // the very first start (the bridge's includes starting the broker)
  c1: number[];
  c16: number[];
  c16WallMs: number;
  memAfterCalls?: ProcMem; // subject process after warm-up + CALLS sequential calls
  memAfterAll?: ProcMem; // after the concurrent run too
  benchRssDelta?: number; // direct client only: the bench process's own RSS delta (includes the rig)
  bigMs: number[];
  bigGrowth: number[]; // VmHWM after - VmRSS before, per 10 MB result
  bigRssBefore?: number;
  bigError?: string;
  peakResetWorked?: boolean;
}

async function steadyState(s: Subject, r: Results): Promise<void> {
  const benchRss0 = process.memoryUsage().rss;
  const { session } = await open(s);
  const { client, pid } = session;
  try {
    for (let j = 0; j < WARM_CALLS; j++) await echo(client, `warm ${j}`);

    // (b) concurrency 1
    for (let j = 0; j < CALLS; j++) {
      const t0 = performance.now();
      await echo(client, `call ${j}`);
      r.c1.push(performance.now() - t0);
    }
    // (c) RSS after 1,000 calls (plus the warm-up)
    r.memAfterCalls = await procMem(pid);
    if (pid === undefined) r.benchRssDelta = process.memoryUsage().rss - benchRss0;

    // (b) 16 in flight
    let next = 0;
    const w0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let j = next++; j < CALLS; j = next++) {
          const t0 = performance.now();
          await echo(client, `par ${j}`);
          r.c16.push(performance.now() - t0);
        }
      }),
    );
    r.c16WallMs = performance.now() - w0;
    r.memAfterAll = await procMem(pid);

    // (d) a 10,000,000-character result
    for (let k = 0; k < BIG_REPS; k++) {
      if (pid !== undefined) r.peakResetWorked = await resetPeak(pid);
      const before = await procMem(pid);
      if (k === 0) r.bigRssBefore = before?.rss;
      const t0 = performance.now();
      try {
        const res = await client.callTool({ name: 'big', arguments: { bytes: BIG_BYTES } }, undefined, CALL_TIMEOUT);
        const ms = performance.now() - t0;
        const text = (res.content as Array<{ text?: string }>)[0]?.text ?? '';
        if (text.length !== BIG_BYTES) throw new Error(`got ${text.length} characters, expected ${BIG_BYTES}`);
        r.bigMs.push(ms);
      } catch (err) {
        r.bigError = err instanceof Error ? err.message : String(err);
        break;
      }
      const after = await procMem(pid);
      if (before && after) r.bigGrowth.push(after.hwm - before.rss);
    }
  } finally {
    await client.close();
  }
}

/** Stops the broker the bridges started and waits until its socket no longer answers. */
async function killBroker(home: string): Promise<void> {
  const c = new BrokerClient({ address: brokerAddress(home) });
  let pid: number | undefined;
  try {
    pid = (await c.request('hello', { client: 'bench' }, 2000)).pid;
  } catch {
    return; // none running
  } finally {
    c.close();
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Ten sessions opened in the same instant: the time until the last initialize was answered. */
async function tenAtOnce(s: Subject): Promise<number> {
  const t0 = performance.now();
  const opened = await Promise.all(Array.from({ length: 10 }, () => open(s)));
  const ms = performance.now() - t0;
  await Promise.all(opened.map((o) => o.session.client.close()));
  return ms;
}

async function nodeBare(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((res, rej) => {
    const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    p.on('error', rej);
    p.on('exit', () => res());
  });
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// Printing

const out = (line = '') => process.stdout.write(`${line}\n`);
const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const ms1 = (x: number) => `${x.toFixed(1)} ms`;
const ms2 = (x: number) => `${x.toFixed(2)} ms`;
function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}x`;
}

/** One figure for the three subjects, with its ratios to the direct client and to mcp-remote. */
function block(title: string, values: Record<Key, number | undefined>, fmt: (x: number) => string, notes: Partial<Record<Key, string>> = {}) {
  out(title);
  for (const k of KEYS) {
    const v = values[k];
    const shown = v === undefined || !Number.isFinite(v) ? (notes[k] ?? 'n/a') : fmt(v);
    const extra = v !== undefined && Number.isFinite(v) && notes[k] ? `  ${notes[k]}` : '';
    out(`  ${LABEL[k].padEnd(19)} ${shown.padStart(12)}   ${ratio(v, values.direct).padStart(7)} of direct  ${ratio(v, values.remote).padStart(7)} of mcp-remote${extra}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The run

// The SDK's Streamable HTTP client passes one long-lived AbortSignal to every fetch; undici drops
// its listener only when the request is garbage-collected, so after ~1,500 quick calls Node warns
// once per call. Count those warnings (reported at the end) instead of printing each one.
let listenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') listenerWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});

const wall0 = performance.now();
const rig = await startRig('own-as');
const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-bench-'));
// A long idle grace: the cold starts measure a bridge finding the broker running (the usual case:
// Claude Desktop starts several bridges); the first start, which spawns the broker, is shown apart.
const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, MCP_TOKENS_HOME: home, MCP_TOKENS_KEYRING: 'off', BROWSER: `"${process.execPath}" "${PERSON}"`, MCP_TOKENS_DAEMON_IDLE: '120' };
try {
  const link = spawn(process.execPath, [BIN, 'link', rig.mcpUrl, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let linkOut = '';
  link.stdout.on('data', (c: Buffer) => (linkOut += c.toString()));
  const code = await new Promise((r) => link.on('exit', r));
  if (code !== 0) throw new Error('link failed');
  const id = (JSON.parse(linkOut) as { id: string }).id;
  const token = (await (await openVault(home)).read()).secrets.tokens[id]!.accessToken;

  const stdioPid = (t: Transport) => (t as StdioClientTransport).pid ?? undefined;
  const subjects: Record<Key, Subject> = {
    direct: { key: 'direct', make: () => new StreamableHTTPClientTransport(new URL(rig.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }), pid: () => undefined },
    bridge: { key: 'bridge', make: () => new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', id], env, stderr: process.env.BENCH_STDERR ? 'inherit' : 'ignore' }), pid: stdioPid },
    remote: {
      key: 'remote',
      make: () =>
        new StdioClientTransport({
          command: process.execPath,
          args: [MCP_REMOTE, rig.mcpUrl, '--header', `Authorization:Bearer ${token}`, '--transport', 'http-only'],
          env: { ...env, MCP_REMOTE_CONFIG_DIR: join(home, 'mcp-remote') },
          stderr: 'ignore',
        }),
      pid: stdioPid,
    },
  };
  const results = Object.fromEntries(KEYS.map((k) => [k, { startMs: [], coldStartMs: [], tenMs: [], c1: [], c16: [], c16WallMs: NaN, bigMs: [], bigGrowth: [] } as Results])) as Record<Key, Results>;

  // (a) cold starts: one uncounted start each (warms the disk cache; the bridge's starts the
  // broker), then STARTS rounds, the subjects interleaved so drift hits them alike.
  const bare: number[] = [];
  for (let i = 0; i < 3; i++) bare.push(await nodeBare());
  // Start-up cost per module the bridge loads (a fresh Node importing the dist/ chunks in order).
  const startup = await new Promise<[string, number][]>((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'bench/startup.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += c.toString()));
    p.on('exit', () => {
      try {
        res(JSON.parse(text) as [string, number][]);
      } catch {
        res([]);
      }
    });
  });
  for (const k of KEYS) {
    const { session, ms } = await open(subjects[k]);
    results[k].firstStartMs = ms;
    await session.client.close();
  }
  for (let i = 0; i < STARTS; i++) {
    for (const k of KEYS) {
      const { session, ms } = await open(subjects[k]);
      results[k].startMs.push(ms);
      await session.client.close();
      if (k === 'bridge') {
        // The common launch: the daemon has exited after its idle grace, so the bridge starts one.
        await killBroker(home);
        const cold = await open(subjects.bridge);
        results.bridge.coldStartMs.push(cold.ms);
        await cold.session.client.close();
      }
    }
  }
  // (a') ten at once on a machine with no broker running (Claude Desktop starting ten servers).
  for (let i = 0; i < TENS; i++) {
    for (const k of ['bridge', 'remote'] as const) {
      if (k === 'bridge') await killBroker(home);
      results[k].tenMs.push(await tenAtOnce(subjects[k]));
    }
  }

  // (b)(c)(d) one long-lived session per subject.
  for (const k of KEYS) await steadyState(subjects[k], results[k]);

  // The broker the bridge started: not part of the bridge's RSS (one broker serves every bridge).
  let brokerMem: ProcMem | undefined;
  {
    const c = new BrokerClient({ address: brokerAddress(home) });
    try {
      brokerMem = await procMem((await c.request('hello', { client: 'bench' }, 2000)).pid);
    } catch {
      // no broker
    } finally {
      c.close();
    }
  }

  const R = results;
  const all = <T>(f: (r: Results) => T) => ({ direct: f(R.direct), bridge: f(R.bridge), remote: f(R.remote) }) as Record<Key, T>;
  const inProc = { direct: 'n/a (in-process)' };

  out(`MCP Token Manager bench — own-as rig on 127.0.0.1, Node ${process.version}, ${process.platform}/${process.arch}`);
  out(`${STARTS} start rounds (bridge with and without a broker running, mcp-remote), ${TENS} rounds of ten at once, ${CALLS} echo calls per latency run (after ${WARM_CALLS} warm-up calls), ${BIG_REPS}x a ${BIG_BYTES.toLocaleString('en-US')}-character result`);
  out(`(node itself, spawn → exit of \`node -e 0\`: median ${ms1(median(bare))}; the direct client runs in the bench process, on the rig's event loop)`);
  out();
  block(`(a) spawn → initialize answered, broker running, median of ${STARTS} (direct: connect → initialize answered)`, all((r) => median(r.startMs)), ms1);
  for (const k of KEYS) out(`      ${LABEL[k].padEnd(19)} min ${ms1(Math.min(...R[k].startMs))}, max ${ms1(Math.max(...R[k].startMs))}; first start ${ms1(R[k].firstStartMs ?? NaN)}${k === 'bridge' ? ' (spawned the broker daemon)' : ''}`);
  out(`    no broker running (killed before each round): mcp-tokens bridge median ${ms1(median(R.bridge.coldStartMs))} (min ${ms1(Math.min(...R.bridge.coldStartMs))}, max ${ms1(Math.max(...R.bridge.coldStartMs))}), ${ratio(median(R.bridge.coldStartMs), median(R.remote.startMs))} of mcp-remote`);
  out(`(a') ten spawned at once, no broker running: until the last initialize answered, median of ${TENS}`);
  for (const k of ['bridge', 'remote'] as const) out(`      ${LABEL[k].padEnd(19)} ${ms1(median(R[k].tenMs)).padStart(12)}   (min ${ms1(Math.min(...R[k].tenMs))}, max ${ms1(Math.max(...R[k].tenMs))})`);
  out(`(e) start-up cost per module the bridge loads, in load order (one fresh Node, dist/ chunks):`);
  for (const [label, ms] of startup) out(`      ${ms1(ms).padStart(9)}  ${label}`);
  out();
  block(`(b) tools/call echo, 1 in flight: p50`, all((r) => median(r.c1)), ms2);
  block(`    1 in flight: p99`, all((r) => pct(r.c1, 0.99)), ms2);
  block(`    ${CONCURRENCY} in flight: p50`, all((r) => median(r.c16)), ms2);
  block(`    ${CONCURRENCY} in flight: p99`, all((r) => pct(r.c16, 0.99)), ms2);
  block(`    ${CONCURRENCY} in flight: throughput`, all((r) => (r.c16.length / r.c16WallMs) * 1000), (x) => `${x.toFixed(0)} calls/s`);
  out();
  block(`(c) RSS of the subject's process (VmRSS) after ${WARM_CALLS + CALLS} sequential calls`, all((r) => r.memAfterCalls?.rss), MB, inProc);
  block(`    peak RSS so far (VmHWM, spawn → end of those calls)`, all((r) => r.memAfterCalls?.hwm), MB, inProc);
  block(`    VmRSS after ${CALLS} more calls at ${CONCURRENCY} in flight`, all((r) => r.memAfterAll?.rss), MB, inProc);
  out(`      (direct client: the bench process, which also hosts the rig, grew by ${MB(R.direct.benchRssDelta ?? NaN)} over that session)`);
  out(`      (the broker daemon the bridge started, shared by all bridges: VmRSS ${brokerMem ? MB(brokerMem.rss) : 'n/a'}, VmHWM ${brokerMem ? MB(brokerMem.hwm) : 'n/a'})`);
  out();
  const bigMsg = JSON.stringify({ result: { content: [{ type: 'text', text: '' }] }, jsonrpc: '2.0', id: 999 }).length + BIG_BYTES + 1;
  out(`(d) a ${BIG_BYTES.toLocaleString('en-US')}-character tool result (tool big): the stdio message is ~${bigMsg.toLocaleString('en-US')} bytes;`);
  out(`    the SDK's client-side stdio ReadBuffer in this bench process caps a message at ${STDIO_DEFAULT_MAX_BUFFER_SIZE.toLocaleString('en-US')} bytes (10 MiB, default),`);
  out(`    so this payload ${bigMsg < STDIO_DEFAULT_MAX_BUFFER_SIZE ? 'fits under that cap (the bench does not raise it)' : 'is refused by that cap on the client side: a failure below is the client, not the subject'}`);
  block(`    time, median of ${BIG_REPS}`, all((r) => (r.bigMs.length ? median(r.bigMs) : undefined)), ms1, Object.fromEntries(KEYS.filter((k) => R[k].bigError).map((k) => [k, `FAILED: ${R[k].bigError}`])));
  block(`    RSS growth (VmHWM after − VmRSS before), worst of ${BIG_REPS}`, all((r) => (r.bigGrowth.length ? Math.max(...r.bigGrowth) : undefined)), MB, inProc);
  for (const k of ['bridge', 'remote'] as const)
    out(`      ${LABEL[k].padEnd(19)} VmRSS before ${MB(R[k].bigRssBefore ?? NaN)}; growth per result ${R[k].bigGrowth.map(MB).join(', ') || 'n/a'}${R[k].peakResetWorked === false ? ' (could not reset VmHWM: growth may include earlier peaks)' : ''}`);

  // Targets (issue 17)
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'NOT MEASURED' : ok ? 'met    ' : 'NOT MET');
  const tStart = median(R.bridge.startMs) / median(R.remote.startMs);
  const tCold = median(R.bridge.coldStartMs) / median(R.remote.startMs);
  const tTen = median(R.bridge.tenMs) / median(R.remote.tenMs);
  const tHwm = R.bridge.memAfterCalls && R.remote.memAfterCalls ? R.bridge.memAfterCalls.hwm / R.remote.memAfterCalls.hwm : undefined;
  const tOver = median(R.bridge.c1) - median(R.direct.c1);
  const bigWorst = R.bridge.bigGrowth.length ? Math.max(...R.bridge.bigGrowth) : undefined;
  const bigGrowthOk = R.bridge.bigError ? false : bigWorst === undefined ? undefined : bigWorst <= 1.5 * BIG_BYTES;
  const tBig = R.bridge.bigMs.length && R.direct.bigMs.length ? median(R.bridge.bigMs) / median(R.direct.bigMs) : undefined;
  const tThr = R.bridge.c16.length / R.bridge.c16WallMs / (R.direct.c16.length / R.direct.c16WallMs);
  out();
  out('targets (issue 17) for mcp-tokens bridge:');
  out(`  ${verdict(tStart <= 0.25)}  spawn → initialize, broker running ≤ 0.25x mcp-remote: ${tStart.toFixed(2)}x (${ms1(median(R.bridge.startMs))} vs ${ms1(median(R.remote.startMs))})`);
  out(`  ${verdict(tCold <= 0.35)}  spawn → initialize, no broker running ≤ 0.35x mcp-remote: ${tCold.toFixed(2)}x (${ms1(median(R.bridge.coldStartMs))} vs ${ms1(median(R.remote.startMs))})`);
  out(`  ${verdict(tHwm === undefined ? undefined : tHwm <= 0.4)}  peak RSS ≤ 0.4x mcp-remote (VmHWM after ${WARM_CALLS + CALLS} calls): ${tHwm?.toFixed(2) ?? 'n/a'}x (${MB(R.bridge.memAfterCalls?.hwm ?? NaN)} vs ${MB(R.remote.memAfterCalls?.hwm ?? NaN)})`);
  out(`  ${verdict(tBig === undefined ? undefined : tBig <= 1.5)}  ${BIG_BYTES.toLocaleString('en-US')}-character result, time ≤ 1.5x direct: ${tBig?.toFixed(2) ?? 'n/a'}x (${ms1(median(R.bridge.bigMs))} vs ${ms1(median(R.direct.bigMs))})`);
  out(`  ${verdict(bigGrowthOk)}  ${BIG_BYTES.toLocaleString('en-US')}-character result, RSS growth ≤ 1.5x payload (${MB(1.5 * BIG_BYTES)}): ${R.bridge.bigError ? `failed: ${R.bridge.bigError}` : `${MB(bigWorst ?? NaN)} (${ratio(bigWorst, BIG_BYTES)} the payload)`}`);
  out(`  ${verdict(tTen <= 0.3)}  ten spawned at once (no broker), last initialize ≤ 0.3x ten mcp-remote: ${tTen.toFixed(2)}x (${ms1(median(R.bridge.tenMs))} vs ${ms1(median(R.remote.tenMs))})`);
  out(`  ${verdict(tOver <= 0.5)}  p50 overhead over direct ≤ 0.5 ms: ${tOver >= 0 ? '+' : ''}${ms2(tOver)} (${ms2(median(R.bridge.c1))} vs ${ms2(median(R.direct.c1))}; mcp-remote +${ms2(median(R.remote.c1) - median(R.direct.c1))})`);
  out(`  ${verdict(tThr >= 1.0)}  throughput at ${CONCURRENCY} in flight ≥ 1.0x direct: ${tThr.toFixed(2)}x (${((R.bridge.c16.length / R.bridge.c16WallMs) * 1000).toFixed(0)} vs ${((R.direct.c16.length / R.direct.c16WallMs) * 1000).toFixed(0)} calls/s)`);
  out();
  if (listenerWarnings) out(`(this process saw ${listenerWarnings} MaxListenersExceededWarning(s) for the AbortSignal the SDK's HTTP client shares across requests; not printed one by one)`);
  out(`bench wall time ${((performance.now() - wall0) / 1000).toFixed(1)} s`);
} finally {
  const c = new BrokerClient({ address: brokerAddress(home) });
  try {
    const { pid } = await c.request('hello', { client: 'bench' }, 2000);
    process.kill(pid, 'SIGTERM');
  } catch {
    // no broker left
  }
  c.close();
  await rig.close();
  await rm(home, { recursive: true, force: true });
}
