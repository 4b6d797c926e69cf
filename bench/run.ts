// `npm run bench`: what the bridge costs, in one run against the own-as rig on 127.0.0.1, for three
// subjects: a direct SDK client with the bearer header (the baseline), `mcp-tokens bridge <id>`, and
// mcp-remote (from npm) given the same token with --header. Figures, not assertions: timing belongs
// here, not in tests. The bridge measured is the dist/ build users run (bin/mcp-tokens.js →
// dist/cli.js; the packaged app ships the same dist/ files, see bridge-manifest.json).
//
// The run is N rounds (--rounds N, default 5). Each round measures every figure once, the subjects
// interleaved so that load on the machine hits them alike; each target is the median over rounds of
// that round's ratio. Every step is bounded in time and count: a step that fails or runs out of time
// is reported as such and the rest goes on. Every process spawned (subjects, brokers) is killed at
// the end, on Ctrl-C too.
//
// Options: --rounds N, --quick (5 rounds of 200 calls), --help.
// Env: BENCH_CALLS (calls per latency run), BENCH_STDERR=1 (show the bridges' stderr).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { advertisedAddressFile } from '../src-main/core/broker/address.js';
import { athOf, DpopSigner } from '../src-main/core/oauth/dpop.js';
import { startRig } from '../test/rig/index.js';
import { makeCorpTls } from '../test/rig/corp-tls.js';
import { startCorpProxy } from '../test/rig/corp-proxy.js';
import { openVault } from '../test/integration/grant-helpers.js';
import { alive, median, nodeBare, pct, procMem, reap, resetPeak, runNode, Spawned, within, type ProcMem } from './lib.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const PERSON = join(ROOT, 'test/rig/person.mjs');
const MCP_REMOTE = join(ROOT, 'node_modules/mcp-remote/dist/proxy.js');

const { values: opts } = parseArgs({ options: { rounds: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean' } } });
if (opts.help) {
  process.stdout.write('npm run bench [-- --rounds N] [-- --quick]\n  --rounds N  rounds (each measures every figure once; targets are medians over rounds), default 5\n  --quick     5 rounds of 200 calls per latency run\n');
  process.exit(0);
}
const ROUNDS = posInt(opts.rounds, 5);
if (opts.rounds !== undefined && String(ROUNDS) !== opts.rounds) {
  process.stderr.write(`bench: --rounds wants a whole number ≥ 1, not '${opts.rounds}'\n`);
  process.exit(2);
}
const CALLS = posInt(process.env.BENCH_CALLS, opts.quick ? 200 : 1000);
const BIG_BYTES = 10_000_000;
const CONCURRENCY = 16;
const WARM_CALLS = 50;
/** Bounds: one connect (spawn → initialize), one call, one 10 MB result, one round. */
const OPEN_MS = 60_000;
const CALL_MS = 30_000;
const BIG_MS = 120_000;
const ROUND_MS = 15 * 60_000;

function posInt(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return v !== undefined && Number.isSafeInteger(n) && n > 0 ? n : dflt;
}

// ---------------------------------------------------------------------------------------------
// What one round measures

type Key = 'direct' | 'bridge' | 'remote' | 'dpopDirect' | 'dpopBridge' | 'proxyDirect' | 'proxyBridge';
const KEYS: Key[] = ['direct', 'bridge', 'remote'];
/** A DPoP-bound server (RFC 9449): the direct client signs its own proofs; the bridge asks the broker. */
const DPOP_KEYS: Key[] = ['dpopDirect', 'dpopBridge'];
/** A company network: the server on HTTPS with a private CA, reachable only through an HTTP proxy (CONNECT). */
const PROXY_KEYS: Key[] = ['proxyDirect', 'proxyBridge'];
const LABEL: Record<Key, string> = { direct: 'direct SDK client', bridge: 'mcp-tokens bridge', remote: 'mcp-remote 0.15.1', dpopDirect: 'direct, DPoP', dpopBridge: 'bridge, DPoP', proxyDirect: 'direct, via proxy', proxyBridge: 'bridge, via proxy' };
type PerKey = Partial<Record<Key, number>>;

interface Round {
  start: PerKey; // spawn → initialize answered (broker running, for the bridge)
  cold?: number; // bridge, no broker running
  ten: PerKey; // ten at once, no broker running: until the last initialize
  c1p50: PerKey;
  c1p99: PerKey;
  c16p50: PerKey;
  thr: PerKey; // calls/s at 16 in flight
  hwm: PerKey; // VmHWM after warm-up + CALLS sequential calls
  rss: PerKey; // VmRSS after the concurrent run too
  bigMs: PerKey;
  bigGrowth: PerKey; // VmHWM after − VmRSS before, for one 10 MB result
}

const rounds: Round[] = [];
const failures: { round: number; what: string; error: string }[] = [];
const spawned = new Spawned();

/** The DPoP-bound server's subjects: latency at 1 in flight and throughput at 16, nothing else. */
async function dpopSteady(round: number, s: Subject, r: Round): Promise<void> {
  const k = s.key;
  const opened = await step(round, `${k}: open the session`, () => open(s));
  if (!opened) return;
  const { client, close } = opened.session;
  try {
    const c1 = await sequentialCalls(round, k, client);
    if (c1) r.c1p50[k] = median(c1);
    const c16 = await concurrentCalls(round, k, client);
    if (c16) r.thr[k] = c16.perSecond;
  } finally {
    await close();
  }
}

/** Warm-up, then CALLS echo calls one at a time: each call's latency, or undefined if a step failed. */
async function sequentialCalls(round: number, k: string, client: Client): Promise<number[] | undefined> {
  await step(round, `${k}: ${WARM_CALLS} warm-up calls`, async () => {
    for (let j = 0; j < WARM_CALLS; j++) await echo(client, `warm ${j}`);
  });
  const c1: number[] = [];
  await step(round, `${k}: ${CALLS} calls, 1 in flight`, async () => {
    for (let j = 0; j < CALLS; j++) {
      const t0 = performance.now();
      await echo(client, `call ${j}`);
      c1.push(performance.now() - t0);
    }
  });
  return c1.length === CALLS ? c1 : undefined;
}

/** CALLS echo calls, CONCURRENCY in flight: each call's latency and the calls per second. */
async function concurrentCalls(round: number, k: string, client: Client): Promise<{ latencies: number[]; perSecond: number } | undefined> {
  const latencies: number[] = [];
  let next = 0;
  const w0 = performance.now();
  const ok = await step(round, `${k}: ${CALLS} calls, ${CONCURRENCY} in flight`, () =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let j = next++; j < CALLS; j = next++) {
          const t0 = performance.now();
          await echo(client, `par ${j}`);
          latencies.push(performance.now() - t0);
        }
      }),
    ),
  );
  return ok ? { latencies, perSecond: (latencies.length / (performance.now() - w0)) * 1000 } : undefined;
}

/** Runs one step; a failure is recorded (and the step's figure left out), never thrown. */
async function step<T>(round: number, what: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    failures.push({ round, what, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

interface Subject {
  key: Key;
  make(): Transport;
}

interface Session {
  client: Client;
  pid: number | undefined;
  close(): Promise<void>;
}

/** Opens a session (spawn → initialize answered → initialized sent), bounded; nothing is left behind on failure. */
async function open(s: Subject): Promise<{ session: Session; ms: number }> {
  const transport = s.make();
  const client = new Client({ name: 'bench', version: '1' });
  const close = async () => {
    await within(10_000, 'close', () => client.close()).catch(() => {});
    await transport.close().catch(() => {});
  };
  const t0 = performance.now();
  try {
    await client.connect(transport, { timeout: OPEN_MS });
  } catch (err) {
    spawned.add((transport as StdioClientTransport).pid);
    await close();
    throw err;
  }
  const ms = performance.now() - t0;
  const pid = transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  spawned.add(pid);
  return { session: { client, pid, close }, ms };
}

async function echo(c: Client, text: string): Promise<void> {
  const r = await c.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: CALL_MS });
  const got = (r.content as Array<{ text?: string }>)[0]?.text;
  if (got !== text) throw new Error(`echo returned ${JSON.stringify(got)?.slice(0, 80)} for ${text}`);
}

/** The broker's pid, from the address file it writes once it listens. */
async function brokerPid(home: string): Promise<number | undefined> {
  try {
    const pid = (JSON.parse(await readFile(advertisedAddressFile(home), 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the broker the bridges started (SIGKILL if it lingers) and waits until it is gone. */
async function killBroker(home: string): Promise<void> {
  const pid = await brokerPid(home);
  if (!pid) return;
  spawned.add(pid);
  process.kill(pid, 'SIGTERM');
  await reap(pid, 5_000);
  if (alive(pid)) throw new Error(`the broker (pid ${pid}) did not exit`);
}

async function steadyState(round: number, s: Subject, r: Round): Promise<void> {
  const k = s.key;
  const opened = await step(round, `${k}: open the session`, () => open(s));
  if (!opened) return;
  const { client, pid, close } = opened.session;
  try {
    const c1 = await sequentialCalls(round, k, client);
    if (c1) {
      r.c1p50[k] = median(c1);
      r.c1p99[k] = pct(c1, 0.99);
    }
    const mem = await procMem(pid);
    if (mem) r.hwm[k] = mem.hwm;

    const c16 = await concurrentCalls(round, k, client);
    if (c16) {
      r.thr[k] = c16.perSecond;
      r.c16p50[k] = median(c16.latencies);
    }
    const mem2 = await procMem(pid);
    if (mem2) r.rss[k] = mem2.rss;

    await step(round, `${k}: a ${BIG_BYTES.toLocaleString('en-US')}-character result`, async () => {
      if (pid !== undefined && !(await resetPeak(pid))) throw new Error('cannot reset VmHWM (/proc/<pid>/clear_refs)');
      const before = await procMem(pid);
      const t0 = performance.now();
      const res = await client.callTool({ name: 'big', arguments: { bytes: BIG_BYTES } }, undefined, { timeout: BIG_MS });
      const ms = performance.now() - t0;
      const text = (res.content as Array<{ text?: string }>)[0]?.text ?? '';
      if (text.length !== BIG_BYTES) throw new Error(`got ${text.length} characters, expected ${BIG_BYTES}`);
      r.bigMs[k] = ms;
      const after = await procMem(pid);
      if (before && after) r.bigGrowth[k] = after.hwm - before.rss;
    });
  } finally {
    await close();
  }
}

/** Ten sessions opened in the same instant: the time until the last initialize was answered. */
async function tenAtOnce(s: Subject): Promise<number> {
  const t0 = performance.now();
  const opened = await Promise.allSettled(Array.from({ length: 10 }, () => open(s)));
  const ms = performance.now() - t0;
  await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.session.close() : undefined)));
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw new Error(`${opened.filter((o) => o.status === 'rejected').length} of 10 did not start: ${String(failed.reason instanceof Error ? failed.reason.message : failed.reason)}`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Printing

const out = (line = '') => process.stdout.write(`${line}\n`);
const MB = (b: number | undefined) => (b === undefined || !Number.isFinite(b) ? 'n/a' : `${(b / 1e6).toFixed(1)} MB`);
const ms1 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(1)} ms`);
const ms2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)} ms`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');

/** Per round, f's value where both of its inputs were measured. */
function perRound(f: (r: Round) => number | undefined): number[] {
  return rounds.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
}
const col = (pick: (r: Round) => PerKey, k: Key) => perRound((r) => pick(r)[k]);
const ratioOf = (pick: (r: Round) => PerKey, a: Key, b: Key) => perRound((r) => ((pick(r)[a] ?? NaN) / (pick(r)[b] ?? NaN)));

function block(title: string, pick: (r: Round) => PerKey, fmt: (x: number) => string, keys: Key[] = KEYS): void {
  out(title);
  for (const k of keys) {
    const xs = col(pick, k);
    const toDirect = k !== 'direct' && keys.includes('direct') ? `  ${median(ratioOf(pick, k, 'direct')).toFixed(2)}x direct` : '';
    const toRemote = k !== 'remote' && keys.includes('remote') ? `  ${median(ratioOf(pick, k, 'remote')).toFixed(2)}x mcp-remote` : '';
    const shown = xs.length ? `${fmt(median(xs))}  (${xs.length}/${ROUNDS} rounds: ${xs.map(fmt).join(', ')})` : 'n/a';
    out(`  ${LABEL[k].padEnd(19)} ${shown}${toDirect}${toRemote}`);
  }
}

interface Target {
  what: string;
  /** Per-round values of the compared figure. */
  values: number[];
  ok(x: number): boolean;
  show(x: number): string;
  detail: string;
}

function targetLine(t: Target): string {
  const n = t.values.length;
  if (n === 0) return `  NOT MEASURED  ${t.what}: no round measured it (see failures)`;
  const m = median(t.values);
  const verdict = n < 5 ? (t.ok(m) ? 'met?   ' : 'NOT MET') : t.ok(m) ? 'met    ' : 'NOT MET';
  return `  ${verdict}  ${t.what}: ${t.show(m)} median of ${n} round${n === 1 ? '' : 's'}${n < 5 ? ' (fewer than 5: indicative only)' : ''}; ${t.detail}`;
}

// ---------------------------------------------------------------------------------------------
// The run

// The SDK's Streamable HTTP client passes one long-lived AbortSignal to every fetch; undici drops
// its listener only when the request is garbage-collected, so after ~1,500 quick calls Node warns
// once per call. Count those warnings instead of printing each one.
let listenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') listenerWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    spawned.killAllNow();
    process.stderr.write(`bench: ${sig}; killed the processes it started\n`);
    process.exit(130);
  });
}

const wall0 = performance.now();
const load0 = load();
const rig = await startRig('own-as');
// The same server, DPoP-enforcing: every request's proof is checked (jose) by the rig.
const dpopRig = await startRig('own-as', { dpop: {} });
// The same server on a company network: HTTPS with a private CA, only the proxy resolves its name.
const CORP_HOST = 'mcp.example.corp';
const corpTls = makeCorpTls([CORP_HOST]);
const corpProxy = await startCorpProxy({ names: [CORP_HOST] });
const corpRig = await startRig('own-as', { tls: { key: corpTls.key, cert: corpTls.cert, ca: corpTls.caPem, mcpHost: CORP_HOST, asHost: CORP_HOST } });
const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-bench-'));
// A long idle grace: the broker stays up between the warm rounds; cold rounds kill it first.
const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, MCP_TOKENS_HOME: home, MCP_TOKENS_KEYRING: 'off', BROWSER: `"${process.execPath}" "${PERSON}"`, MCP_TOKENS_DAEMON_IDLE: '300' };
let exitCode = 0;
try {
  const linked = await runNode([BIN, 'link', rig.mcpUrl, '--json'], env, 120_000);
  if (linked.code !== 0) throw new Error(`mcp-tokens link failed (exit ${linked.code})`);
  const id = (JSON.parse(linked.out) as { id: string }).id;
  const token = (await (await openVault(home)).read()).secrets.tokens[id]!.accessToken;
  spawned.add(await brokerPid(home));
  const dpopLinked = await runNode([BIN, 'link', dpopRig.mcpUrl, '--json'], env, 120_000);
  if (dpopLinked.code !== 0) throw new Error(`mcp-tokens link (DPoP server) failed (exit ${dpopLinked.code})`);
  const dpopId = (JSON.parse(dpopLinked.out) as { id: string }).id;
  const dpopVault = await (await openVault(home)).read();
  const dpopToken = dpopVault.secrets.tokens[dpopId]!.accessToken;
  // The baseline holds its own key, as a client without a broker would, and signs in-process.
  const dpopSigner = new DpopSigner(dpopVault.secrets.dpop![dpopId]!.privateJwk);
  const dpopAth = athOf(dpopToken);
  const dpopFetch: typeof fetch = (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `DPoP ${dpopToken}`);
    headers.set('dpop', dpopSigner.proof({ htm: (init?.method ?? 'GET').toUpperCase(), htu: String(url), ath: dpopAth }));
    return fetch(url, { ...init, headers });
  };

  const corpEnv = { ...env, HTTPS_PROXY: corpProxy.url, NO_PROXY: '127.0.0.1,localhost,::1', NODE_EXTRA_CA_CERTS: corpTls.caFile };
  const corpLinked = await runNode([BIN, 'link', corpRig.mcpUrl, '--json'], corpEnv, 120_000);
  if (corpLinked.code !== 0) throw new Error(`mcp-tokens link (server behind the proxy) failed (exit ${corpLinked.code})`);
  const corpId = (JSON.parse(corpLinked.out) as { id: string }).id;
  const corpToken = (await (await openVault(home)).read()).secrets.tokens[corpId]!.accessToken;
  // The baseline reaches it as a proxy-aware client would: undici's ProxyAgent, trusting the CA.
  const { ProxyAgent } = await import('undici');
  const corpDispatcher = new ProxyAgent({ uri: corpProxy.url, requestTls: { ca: corpTls.caPem } });
  const corpFetch: typeof fetch = (url, init) => fetch(url, { ...init, dispatcher: corpDispatcher } as RequestInit);

  let remotes = 0;
  const subjects: Record<Key, Subject> = {
    direct: { key: 'direct', make: () => new StreamableHTTPClientTransport(new URL(rig.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }) },
    bridge: { key: 'bridge', make: () => new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', id], env, stderr: process.env.BENCH_STDERR ? 'inherit' : 'ignore' }) },
    dpopDirect: { key: 'dpopDirect', make: () => new StreamableHTTPClientTransport(new URL(dpopRig.mcpUrl), { fetch: dpopFetch }) },
    dpopBridge: { key: 'dpopBridge', make: () => new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', dpopId], env, stderr: process.env.BENCH_STDERR ? 'inherit' : 'ignore' }) },
    proxyDirect: { key: 'proxyDirect', make: () => new StreamableHTTPClientTransport(new URL(corpRig.mcpUrl), { fetch: corpFetch, requestInit: { headers: { Authorization: `Bearer ${corpToken}` } } }) },
    proxyBridge: { key: 'proxyBridge', make: () => new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', corpId], env: corpEnv, stderr: process.env.BENCH_STDERR ? 'inherit' : 'ignore' }) },
    remote: {
      key: 'remote',
      make: () =>
        new StdioClientTransport({
          command: process.execPath,
          args: [MCP_REMOTE, rig.mcpUrl, '--header', `Authorization:Bearer ${token}`, '--transport', 'http-only'],
          // One config dir each, as for ten different servers: instances sharing one coordinate
          // through a lock file there, and some of ten started at once then exit.
          env: { ...env, MCP_REMOTE_CONFIG_DIR: join(home, `mcp-remote-${++remotes}`) },
          stderr: 'ignore',
        }),
    },
  };

  const bare: number[] = [];
  for (let i = 0; i < 3; i++) bare.push(await nodeBare());
  // Start-up cost per module the bridge loads (a fresh Node importing the dist/ chunks in order).
  const startupRun = await runNode([join(ROOT, 'bench/startup.mjs')], process.env, 60_000);
  let startup: [string, number][] = [];
  try {
    startup = JSON.parse(startupRun.out) as [string, number][];
  } catch {
    failures.push({ round: 0, what: 'module start-up table', error: `bench/startup.mjs exited ${startupRun.code}` });
  }
  // One uncounted start each: warms the disk cache; the bridge's starts the broker.
  const first: PerKey = {};
  for (const k of KEYS) {
    const o = await step(0, `${k}: first start`, () => open(subjects[k]));
    if (o) {
      first[k] = o.ms;
      await o.session.close();
    }
  }

  for (let i = 1; i <= ROUNDS; i++) {
    const r: Round = { start: {}, ten: {}, c1p50: {}, c1p99: {}, c16p50: {}, thr: {}, hwm: {}, rss: {}, bigMs: {}, bigGrowth: {} };
    rounds.push(r);
    const roundEnd = Date.now() + ROUND_MS;
    const budget = async (what: string, f: () => Promise<void>) => {
      if (Date.now() > roundEnd) failures.push({ round: i, what, error: `skipped: the round ran past ${ROUND_MS / 60_000} min` });
      else await f();
    };
    process.stderr.write(`bench: round ${i}/${ROUNDS} (load ${load()})\n`);
    // (a) spawn → initialize: warm (broker running), cold (none), mcp-remote, direct.
    await budget('starts', async () => {
      for (const k of KEYS) {
        const o = await step(i, `${k}: start`, () => open(subjects[k]));
        if (o) {
          r.start[k] = o.ms;
          await o.session.close();
        }
        if (k === 'bridge') {
          const o2 = await step(i, 'bridge: start with no broker running', async () => {
            await killBroker(home);
            return open(subjects.bridge);
          });
          if (o2) {
            r.cold = o2.ms;
            spawned.add(await brokerPid(home));
            await o2.session.close();
          }
        }
      }
    });
    // (a') ten at once, no broker running.
    await budget('ten at once', async () => {
      for (const k of ['bridge', 'remote'] as const) {
        const ms = await step(i, `${k}: ten at once`, async () => {
          if (k === 'bridge') await killBroker(home);
          return tenAtOnce(subjects[k]);
        });
        if (ms !== undefined) r.ten[k] = ms;
        if (k === 'bridge') spawned.add(await brokerPid(home));
      }
    });
    // (b)(c)(d) one session per subject.
    for (const k of KEYS) await budget(`${k}: steady state`, () => steadyState(i, subjects[k], r));
    for (const k of DPOP_KEYS) await budget(`${k}: steady state`, () => dpopSteady(i, subjects[k], r));
    await budget('through the proxy', async () => {
      for (const k of PROXY_KEYS) {
        const o = await step(i, `${k}: start`, () => open(subjects[k]));
        if (o) {
          r.start[k] = o.ms;
          await o.session.close();
        }
        await dpopSteady(i, subjects[k], r);
      }
    });
  }
  const brokerMem: ProcMem | undefined = await procMem(await brokerPid(home));

  // ---- the report ----
  out(`MCP Token Manager bench — own-as rig on 127.0.0.1, Node ${process.version}, ${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} cores`);
  out(`load average (1, 5, 15 min): ${load0} at the start, ${load()} at the end`);
  out(`${ROUNDS} rounds; each: starts (bridge with a broker running and with none, mcp-remote, direct), ten at once (no broker), then per subject ${WARM_CALLS} warm-up + ${CALLS} echo calls at 1 and at ${CONCURRENCY} in flight and one ${BIG_BYTES.toLocaleString('en-US')}-character result`);
  out(`(node itself, spawn → exit of \`node -e 0\`: median ${ms1(median(bare))}; the direct client runs in the bench process, on the rig's event loop)`);
  out(`(first, uncounted starts: ${KEYS.map((k) => `${LABEL[k]} ${ms1(first[k])}`).join(', ')}; the bridge's spawned the broker)`);
  out();
  block('(a) spawn → initialize answered, broker running (direct: connect → initialize answered)', (r) => r.start, ms1);
  block('    bridge with no broker running (killed before each)', (r) => ({ bridge: r.cold }), ms1, ['bridge']);
  block("(a') ten spawned at once, no broker running: until the last initialize answered", (r) => r.ten, ms1, ['bridge', 'remote']);
  out('(e) start-up cost per module the bridge loads, in load order (one fresh Node, dist/ chunks):');
  for (const [label, ms] of startup) out(`      ${ms1(ms).padStart(9)}  ${label}`);
  out();
  block('(b) tools/call echo, 1 in flight: p50', (r) => r.c1p50, ms2);
  block('    1 in flight: p99', (r) => r.c1p99, ms2);
  block(`    ${CONCURRENCY} in flight: p50`, (r) => r.c16p50, ms2);
  block(`    ${CONCURRENCY} in flight: throughput`, (r) => r.thr, (x) => `${x.toFixed(0)}/s`);
  out('    a DPoP-bound server (the rig checks every proof; the direct client signs its own, the bridge asks the broker):');
  block('    1 in flight: p50', (r) => ({ direct: r.c1p50.dpopDirect, bridge: r.c1p50.dpopBridge }), ms2, ['direct', 'bridge']);
  block(`    ${CONCURRENCY} in flight: throughput`, (r) => ({ direct: r.thr.dpopDirect, bridge: r.thr.dpopBridge }), (x) => `${x.toFixed(0)}/s`, ['direct', 'bridge']);
  out(`    through a company proxy (HTTPS, private CA, CONNECT; the proxy counted ${corpProxy.passed(CORP_HOST)} tunnels):`);
  block('    spawn → initialize (direct: connect → initialize)', (r) => ({ direct: r.start.proxyDirect, bridge: r.start.proxyBridge }), ms1, ['direct', 'bridge']);
  block('    1 in flight: p50', (r) => ({ direct: r.c1p50.proxyDirect, bridge: r.c1p50.proxyBridge }), ms2, ['direct', 'bridge']);
  block(`    ${CONCURRENCY} in flight: throughput`, (r) => ({ direct: r.thr.proxyDirect, bridge: r.thr.proxyBridge }), (x) => `${x.toFixed(0)}/s`, ['direct', 'bridge']);
  out();
  block(`(c) peak RSS of the subject's process (VmHWM, spawn → ${WARM_CALLS + CALLS} sequential calls)`, (r) => r.hwm, MB, ['bridge', 'remote']);
  block(`    VmRSS after ${CALLS} more calls at ${CONCURRENCY} in flight`, (r) => r.rss, MB, ['bridge', 'remote']);
  out(`      (the broker daemon, shared by all bridges: VmRSS ${MB(brokerMem?.rss)}, VmHWM ${MB(brokerMem?.hwm)})`);
  out();
  block(`(d) a ${BIG_BYTES.toLocaleString('en-US')}-character tool result: time`, (r) => r.bigMs, ms1);
  block('    RSS growth (VmHWM after − VmRSS before)', (r) => r.bigGrowth, MB, ['bridge', 'remote']);

  const x2 = (x: number) => `${x.toFixed(2)}x`;
  const targets: Target[] = [
    { what: 'spawn → initialize, broker running ≤ 0.25x mcp-remote', values: ratioOf((r) => r.start, 'bridge', 'remote'), ok: (x) => x <= 0.25, show: x2, detail: `${ms1(median(col((r) => r.start, 'bridge')))} vs ${ms1(median(col((r) => r.start, 'remote')))}` },
    { what: 'spawn → initialize, no broker running ≤ 0.35x mcp-remote', values: perRound((r) => (r.cold ?? NaN) / (r.start.remote ?? NaN)), ok: (x) => x <= 0.35, show: x2, detail: `${ms1(median(perRound((r) => r.cold)))} vs ${ms1(median(col((r) => r.start, 'remote')))}` },
    { what: 'peak RSS ≤ 0.4x mcp-remote', values: ratioOf((r) => r.hwm, 'bridge', 'remote'), ok: (x) => x <= 0.4, show: x2, detail: `${MB(median(col((r) => r.hwm, 'bridge')))} vs ${MB(median(col((r) => r.hwm, 'remote')))}` },
    { what: `${BIG_BYTES.toLocaleString('en-US')}-character result, time ≤ 1.5x direct`, values: ratioOf((r) => r.bigMs, 'bridge', 'direct'), ok: (x) => x <= 1.5, show: x2, detail: `${ms1(median(col((r) => r.bigMs, 'bridge')))} vs ${ms1(median(col((r) => r.bigMs, 'direct')))}` },
    { what: `${BIG_BYTES.toLocaleString('en-US')}-character result, RSS growth ≤ 1.5x payload`, values: perRound((r) => (r.bigGrowth.bridge ?? NaN) / BIG_BYTES), ok: (x) => x <= 1.5, show: x2, detail: `${MB(median(col((r) => r.bigGrowth, 'bridge')))} growth for a ${MB(BIG_BYTES)} payload` },
    { what: 'ten at once (no broker), last initialize ≤ 0.3x ten mcp-remote', values: ratioOf((r) => r.ten, 'bridge', 'remote'), ok: (x) => x <= 0.3, show: x2, detail: `${ms1(median(col((r) => r.ten, 'bridge')))} vs ${ms1(median(col((r) => r.ten, 'remote')))}` },
    { what: 'p50 overhead over direct ≤ 0.5 ms', values: perRound((r) => (r.c1p50.bridge ?? NaN) - (r.c1p50.direct ?? NaN)), ok: (x) => x <= 0.5, show: (x) => `${x >= 0 ? '+' : ''}${ms2(x)}`, detail: `p50 ${ms2(median(col((r) => r.c1p50, 'bridge')))} vs ${ms2(median(col((r) => r.c1p50, 'direct')))}; mcp-remote ${ms2(median(col((r) => r.c1p50, 'remote')))}` },
    { what: `throughput at ${CONCURRENCY} in flight ≥ 1.0x direct`, values: ratioOf((r) => r.thr, 'bridge', 'direct'), ok: (x) => x >= 1.0, show: x2, detail: `${median(col((r) => r.thr, 'bridge')).toFixed(0)} vs ${median(col((r) => r.thr, 'direct')).toFixed(0)} calls/s` },
    { what: 'DPoP-bound: p50 overhead over direct ≤ 0.5 ms', values: perRound((r) => (r.c1p50.dpopBridge ?? NaN) - (r.c1p50.dpopDirect ?? NaN)), ok: (x) => x <= 0.5, show: (x) => `${x >= 0 ? '+' : ''}${ms2(x)}`, detail: `p50 ${ms2(median(col((r) => r.c1p50, 'dpopBridge')))} vs ${ms2(median(col((r) => r.c1p50, 'dpopDirect')))}` },
    { what: `DPoP-bound: throughput at ${CONCURRENCY} in flight ≥ 1.0x direct`, values: ratioOf((r) => r.thr, 'dpopBridge', 'dpopDirect'), ok: (x) => x >= 1.0, show: x2, detail: `${median(col((r) => r.thr, 'dpopBridge')).toFixed(0)} vs ${median(col((r) => r.thr, 'dpopDirect')).toFixed(0)} calls/s` },
  ];
  out();
  out('targets (issue 17) for mcp-tokens bridge, each the median over rounds of that round\'s figure:');
  for (const t of targets) out(targetLine(t));
  out();
  if (failures.length) {
    out(`${failures.length} step(s) failed or were skipped (their figures are left out above):`);
    for (const f of failures) out(`  round ${f.round}: ${f.what}: ${f.error}`);
  } else out('every step of every round completed');
  if (listenerWarnings) out(`(the bench process saw ${listenerWarnings} MaxListenersExceededWarning(s) for the AbortSignal the SDK's HTTP client shares across requests)`);
  out(`bench wall time ${((performance.now() - wall0) / 1000).toFixed(1)} s`);
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  exitCode = 1;
} finally {
  await killBroker(home).catch(() => {});
  const left = await spawned.killAll(3_000);
  if (left) process.stderr.write(`bench: stopped ${left} process(es) it had started that were still running\n`);
  await within(30_000, 'closing the rig', () => rig.close()).catch((e: Error) => process.stderr.write(`bench: ${e.message}\n`));
  await within(30_000, 'closing the DPoP rig', () => dpopRig.close()).catch((e: Error) => process.stderr.write(`bench: ${e.message}\n`));
  await within(30_000, 'closing the company rig', () => corpRig.close()).catch((e: Error) => process.stderr.write(`bench: ${e.message}\n`));
  await corpProxy.close();
  await rm(corpTls.dir, { recursive: true, force: true }).catch(() => {});
  await rm(home, { recursive: true, force: true }).catch(() => {});
}
process.exit(exitCode);
