// `npm run soak`: grants survive the field's ordinary events, as a benchmark (a script, not a
// timed test). 20 bridges on 3 servers whose AS rotates refresh tokens with reuse detection (a
// reused refresh token kills the grant, oidc-provider's behaviour), access tokens of 10, 15 and
// 20 s, and faults injected at random: the broker killed, the token endpoint answering 500 or
// hanging past the client's timeout, the resource server dropping all live access tokens, a
// bridge killed mid-call. Prints the figures and exits non-zero when an invariant breaks.
//
// Duration: `--seconds N`, or SOAK_SECONDS, or `--ci` (30 s); default 180 s.
// SOAK_CALL_BOUND_MS (default 10000): a call with no answer (result or error) by then is a hang.
//
// The broker is killed with SIGTERM at any moment (it drains refreshes the AS already answered,
// then exits) or with SIGKILL only when no token request is in flight or just answered: a
// SIGKILL between the AS's answer and the vault write loses a rotated refresh token for any
// client when the AS allows no reuse grace, and nothing on this side can prevent that.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BrokerClient } from '../src-main/core/broker/client.js';
import { brokerAddress } from '../src-main/core/broker/protocol.js';
import { type Rig, startRig } from '../test/rig/index.js';
import { openVault } from '../test/integration/grant-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const PERSON = join(ROOT, 'test/rig/person.mjs');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SECONDS = Number(arg('--seconds') ?? process.env.SOAK_SECONDS ?? (process.argv.includes('--ci') ? 30 : 180));
const CALL_BOUND_MS = Number(process.env.SOAK_CALL_BOUND_MS ?? 10_000);
const BRIDGES = 20;
const TTLS = [10, 15, 20];
if (!(SECONDS > 0) || !(CALL_BOUND_MS > 0)) {
  process.stderr.write('usage: tsx bench/soak.ts [--seconds N | --ci]\n');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.random() * (b - a);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.on('exit', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

// ------------------------------------------------------------------------------ the world

const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-soak-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: home,
  MCP_TOKENS_HOME: home,
  MCP_TOKENS_KEYRING: 'off',
  MCP_TOKENS_DAEMON_IDLE: '30',
  BROWSER: `"${process.execPath}" "${PERSON}"`,
};
const rigs: Rig[] = [];
const ids: string[] = [];
for (const ttl of TTLS) {
  const rig = await startRig('api-path-rotating', { accessTokenTtl: ttl });
  rigs.push(rig);
  const r = await runCli(['link', rig.mcpUrl, '--json'], env);
  if (r.code !== 0) throw new Error(`link failed: ${r.stderr}`);
  ids.push((JSON.parse(r.stdout) as { id: string }).id);
}
process.stderr.write(`soak: ${SECONDS} s, ${BRIDGES} bridges on ${rigs.length} servers (access tokens ${TTLS.join('/')} s), data dir ${home}\n`);

// ------------------------------------------------------------------------------ bridges

const stats = { calls: 0, ok: 0, failed: 0, hangs: 0, slowestFailureMs: 0, slowestCallMs: 0, reauthErrors: 0, bridgeRestarts: 0 };
const failureKinds = new Map<string, number>();
let stopping = false;

class SoakBridge {
  client!: Client;
  transport!: StdioClientTransport;
  private n = 0;
  constructor(
    readonly index: number,
    readonly server: number,
  ) {}

  async start(): Promise<void> {
    this.transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', ids[this.server]!], env: env as Record<string, string>, stderr: 'ignore' });
    this.client = new Client({ name: `soak-${this.index}`, version: '1.0.0' });
    await this.client.connect(this.transport, { timeout: 300_000 });
  }

  get pid(): number | null {
    return this.transport.pid;
  }

  /** One bounded call; a missing answer after CALL_BOUND_MS is a hang. */
  async call(): Promise<void> {
    const text = `b${this.index} #${this.n++}`;
    const t0 = Date.now();
    stats.calls++;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), CALL_BOUND_MS)));
    const call = this.client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: 300_000 }).then(
      (r) => ({ ok: (r.content as Array<{ text?: string }>)[0]?.text === text, err: undefined as Error | undefined }),
      (e: Error) => ({ ok: false, err: e }),
    );
    const first = await Promise.race([call, bound]);
    clearTimeout(timer);
    if (first === 'hang') {
      stats.hangs++;
      const late = await call;
      stats.slowestCallMs = Math.max(stats.slowestCallMs, Date.now() - t0);
      if (!late.ok) stats.failed++;
      else stats.ok++;
      return;
    }
    const ms = Date.now() - t0;
    stats.slowestCallMs = Math.max(stats.slowestCallMs, ms);
    if (first.ok) {
      stats.ok++;
      return;
    }
    stats.failed++;
    stats.slowestFailureMs = Math.max(stats.slowestFailureMs, ms);
    const msg = first.err?.message ?? 'wrong answer';
    if (/re-authorize/i.test(msg)) stats.reauthErrors++;
    const kind = msg.replace(/MCP error -?\d+: /, '').replace(/http:\/\/127\.0\.0\.1:\d+/g, '<rig>').replace(/'[^']*'/g, "'…'").slice(0, 90);
    failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
  }

  async loop(): Promise<void> {
    while (!stopping) {
      if (this.transport.pid === null) {
        // Killed by a fault: Claude Desktop would start it again.
        await this.start().catch(() => sleep(1000));
        stats.bridgeRestarts++;
        continue;
      }
      await this.call();
      await sleep(rand(300, 900));
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}

const bridges = Array.from({ length: BRIDGES }, (_, i) => new SoakBridge(i, i % rigs.length));
await Promise.all(bridges.map((b) => b.start()));

// ------------------------------------------------------------------------------ observers

const brokerPids = new Set<number>();
let maxBrokersAlive = 0;
let peakBrokerRssKb = 0;
async function sampleBrokers(): Promise<void> {
  for (const f of ['mcp-tokens.log.1', 'mcp-tokens.log']) {
    const text = await readFile(join(home, 'logs', f), 'utf8').catch(() => '');
    for (const m of text.matchAll(/broker listening \(pid (\d+)\)/g)) brokerPids.add(Number(m[1]));
  }
  const living = [...brokerPids].filter(alive);
  maxBrokersAlive = Math.max(maxBrokersAlive, living.length);
  for (const pid of living) {
    const st = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(st);
    if (hwm) peakBrokerRssKb = Math.max(peakBrokerRssKb, Number(hwm[1]));
  }
}
const sampler = setInterval(() => void sampleBrokers(), 250);

async function currentBrokerPid(): Promise<number | undefined> {
  const c = new BrokerClient({ address: brokerAddress(home, process.platform, env), home });
  try {
    return (await c.request('hello', { client: 'soak' }, 3000)).pid;
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

// ------------------------------------------------------------------------------ faults

type Fault = 'kill-broker' | 'as-500' | 'as-hang' | 'rs-drop' | 'kill-bridge';
const faultLog: Array<{ at: number; fault: Fault; detail: string }> = [];
const lastDrop = new Map<number, number>();
const dropsAt: Array<{ rig: number; at: number }> = [];
const killSignals = { SIGTERM: 0, SIGKILL: 0 };

function tokenQuiet(): boolean {
  const now = Date.now();
  return rigs.every((r) => r.as.tokenRequestsInFlight() === 0 && (r.as.tokenRequests.at(-1)?.at ?? 0) < now - 3000);
}

async function inject(f: Fault): Promise<string> {
  const ri = Math.floor(Math.random() * rigs.length);
  const rig = rigs[ri]!;
  switch (f) {
    case 'kill-broker': {
      const pid = await currentBrokerPid();
      if (pid === undefined) return 'no broker running';
      let sig: 'SIGTERM' | 'SIGKILL' = Math.random() < 0.5 ? 'SIGKILL' : 'SIGTERM';
      if (sig === 'SIGKILL') {
        for (let i = 0; i < 40 && !tokenQuiet(); i++) await sleep(100);
        if (!tokenQuiet()) sig = 'SIGTERM';
      }
      process.kill(pid, sig);
      killSignals[sig]++;
      return `${sig} broker ${pid}`;
    }
    case 'as-500': {
      rig.as.setTokenFault({ status500: true });
      const ms = rand(3000, 6000);
      setTimeout(() => rig.as.setTokenFault(undefined), ms);
      return `token endpoint of server ${ri} answers 500 for ${Math.round(ms / 1000)} s`;
    }
    case 'as-hang': {
      rig.as.setTokenFault({ hangMs: 20_000 });
      const ms = rand(4000, 8000);
      setTimeout(() => rig.as.setTokenFault(undefined), ms);
      return `token endpoint of server ${ri} hangs (20 s, past the 15 s timeout) for ${Math.round(ms / 1000)} s`;
    }
    case 'rs-drop': {
      // Two drops on one server within 40 s would look like a grant the server refuses.
      const ok = [...rigs.keys()].filter((i) => Date.now() - (lastDrop.get(i) ?? 0) > 40_000);
      if (!ok.length) return 'skipped (every server dropped tokens less than 40 s ago)';
      const i = pick(ok);
      lastDrop.set(i, Date.now());
      dropsAt.push({ rig: i, at: Date.now() });
      rigs[i]!.mcp.dropLiveTokens();
      return `server ${i} drops every live access token`;
    }
    case 'kill-bridge': {
      const b = pick(bridges.filter((x) => x.pid !== null));
      const during = b.call(); // a call in flight when it dies
      await sleep(rand(0, 30));
      const pid = b.pid;
      if (pid) process.kill(pid, 'SIGKILL');
      await during;
      return `bridge ${b.index} (pid ${pid}) killed mid-call`;
    }
  }
}

const t0 = Date.now();
const end = t0 + SECONDS * 1000;
const loops = bridges.map((b) => b.loop());
const faultsRun = (async () => {
  const kinds: Fault[] = ['kill-broker', 'as-500', 'as-hang', 'rs-drop', 'kill-bridge'];
  let queue: Fault[] = [];
  await sleep(rand(3000, 6000));
  while (Date.now() < end - 3000) {
    if (!queue.length) queue = [...kinds].sort(() => Math.random() - 0.5);
    const f = queue.shift()!;
    const detail = await inject(f).catch((e: Error) => `failed to inject: ${e.message}`);
    faultLog.push({ at: Date.now() - t0, fault: f, detail });
    process.stderr.write(`  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${f}: ${detail}\n`);
    await sleep(rand(SECONDS > 60 ? 8000 : 5000, SECONDS > 60 ? 14_000 : 8000));
  }
})();

while (Date.now() < end) {
  await sleep(1000);
}
stopping = true;
await faultsRun;
await Promise.all(loops);
for (const r of rigs) r.as.setTokenFault(undefined);

// ------------------------------------------------------------------------------ verdict

// Grants: each server must still be usable, and its stored refresh token live at the AS.
let grantsLost = 0;
const vault = await openVault(home);
const data = await vault.read();
for (const [i, id] of ids.entries()) {
  const rec = data.servers[id]!;
  const rt = data.secrets.tokens[id]?.refreshToken;
  const live = rt ? await rigs[i]!.as.isRefreshTokenActive(rt) : false;
  if (rec.state.status !== 'ok' || !live) {
    grantsLost++;
    process.stderr.write(`  grant of ${id} lost: ${rec.state.status} ${rec.state.reason ?? ''} ${rec.state.detail ?? ''}; refresh token live at the AS: ${live}\n`);
  }
}

let reuses = 0;
let refreshesOk = 0;
let refreshErrors = 0;
let expiryRefreshes = 0;
let duplicateRefreshes = 0;
let minGapRatio = Infinity;
for (const [i, rig] of rigs.entries()) {
  const seen = rig.as.presentedRefreshTokens;
  reuses += seen.length - new Set(seen).size;
  const refreshes = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token');
  reuses += refreshes.filter((t) => t.error === 'invalid_grant').length;
  // Each reuse, with what came before it: the first presentation's outcome and the faults near it.
  for (const [k, t] of refreshes.entries()) {
    const first = refreshes.findIndex((u) => u.refreshToken === t.refreshToken);
    if (first === k && t.error !== 'invalid_grant') continue;
    const f = refreshes[first]!;
    const near = faultLog.filter((x) => x.at + t0 >= (f.receivedAt ?? f.at) - 30_000 && x.at + t0 <= t.at).map((x) => `${(x.at / 1000).toFixed(1)} s ${x.fault}`);
    process.stderr.write(
      `  reuse on server ${i}: presented at ${(((t.receivedAt ?? t.at) - t0) / 1000).toFixed(1)} s (${t.status}${t.error ? ` ${t.error}` : ''}); ` +
        (first === k ? 'first presentation' : `first at ${(((f.receivedAt ?? f.at) - t0) / 1000).toFixed(1)} s, answered ${((f.at - t0) / 1000).toFixed(1)} s (${f.status}${f.clientGone ? ', client had gone' : ''})`) +
        `; faults near: ${near.join(', ') || 'none'}\n`,
    );
  }
  refreshErrors += refreshes.filter((t) => t.status !== 200).length;
  const ok = refreshes.filter((t) => t.status === 200);
  refreshesOk += ok.length;
  // A refresh for expiry comes about half a lifetime after the one before; one much sooner,
  // with no token drop in between to explain it, would be a second refresh for one expiry.
  const half = (TTLS[i]! * 1000) / 2;
  for (let k = 1; k < ok.length; k++) {
    const prev = ok[k - 1]!.at;
    const cur = ok[k]!.at;
    if (dropsAt.some((d) => d.rig === i && d.at >= prev - 1000 && d.at <= cur)) continue;
    expiryRefreshes++;
    minGapRatio = Math.min(minGapRatio, (cur - prev) / half);
    if (cur - prev < half / 2) duplicateRefreshes++;
  }
}

clearInterval(sampler);
await sampleBrokers();
await Promise.all(bridges.map((b) => b.close()));
const last = await currentBrokerPid();
if (last) {
  process.kill(last, 'SIGTERM');
  // The broker writes its run files as it exits: wait (bounded) so the data dir can be removed.
  for (let i = 0; i < 100 && alive(last); i++) await sleep(100);
}
await Promise.all(rigs.map((r) => r.close()));

const perExpiry = expiryRefreshes ? expiryRefreshes / (expiryRefreshes - duplicateRefreshes || 1) : 1;
const lines = [
  `soak: ${SECONDS} s, ${BRIDGES} bridges, ${rigs.length} servers (rotating refresh tokens with reuse detection, access tokens ${TTLS.join('/')} s)`,
  `faults injected:         ${faultLog.length} (${(['kill-broker', 'as-500', 'as-hang', 'rs-drop', 'kill-bridge'] as Fault[]).map((k) => `${k} ${faultLog.filter((f) => f.fault === k).length}`).join(', ')}; broker kills SIGTERM ${killSignals.SIGTERM}, SIGKILL ${killSignals.SIGKILL})`,
  `calls made:              ${stats.calls} (ok ${stats.ok})`,
  `calls failed:            ${stats.failed}, each a JSON-RPC error; slowest failure ${(stats.slowestFailureMs / 1000).toFixed(1)} s; slowest call ${(stats.slowestCallMs / 1000).toFixed(1)} s`,
  ...[...failureKinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${String(n).padStart(5)} × ${k}`),
  `calls with no answer within ${CALL_BOUND_MS / 1000} s (hangs): ${stats.hangs}`,
  `bridge restarts:         ${stats.bridgeRestarts}`,
  `refreshes:               ${refreshesOk} ok, ${refreshErrors} refused or failed at the AS (500s and hangs injected)`,
  `refreshes per expiry:    ${perExpiry.toFixed(2)} (${expiryRefreshes} refreshes for expiry, ${duplicateRefreshes} within a quarter lifetime of the previous; shortest gap ${Number.isFinite(minGapRatio) ? `${minGapRatio.toFixed(2)} × half a lifetime` : 'n/a'})`,
  `RT reuses seen by the AS: ${reuses}`,
  `grants lost:             ${grantsLost}`,
  `brokers alive at once:   ${maxBrokersAlive} (max; ${brokerPids.size} brokers over the run)`,
  `broker peak RSS:         ${(peakBrokerRssKb / 1024).toFixed(1)} MB`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const broken = [
  stats.hangs > 0 && 'a call got no answer in time',
  reuses > 0 && 'a refresh token was reused',
  grantsLost > 0 && 'a grant was lost',
  maxBrokersAlive > 1 && 'two brokers were alive at once',
  duplicateRefreshes > 0 && 'one expiry was refreshed twice',
  stats.calls === 0 && 'no calls were made',
].filter(Boolean);
if (broken.length) {
  // Kept for a look at the broker's log (log/ in the data dir): it holds no secret in clear.
  process.stdout.write(`INVARIANTS BROKEN: ${broken.join('; ')}\nthe data dir is kept: ${home}\n`);
  process.exit(1);
}
await rm(home, { recursive: true, force: true, maxRetries: 5 });
process.stdout.write('all invariants held\n');
process.exit(0);
