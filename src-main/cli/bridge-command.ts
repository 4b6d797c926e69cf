// `mcp-tokens bridge <id|url>`: what Claude Desktop launches. Tokens come only from the broker
// (started on demand); stdout carries only JSON-RPC, everything else goes to stderr and the log.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BridgeAuthError, NO_AUTH, type TokenSource } from '../bridge/token-source.js';
import { BrokerClient } from '../core/broker/client.js';
import { brokerAddress } from '../core/broker/protocol.js';
import { isUserError } from '../core/platform/errors.js';
import { createLogger } from '../core/platform/log.js';
import type { ServerView } from '../core/manager/manager.js';
import { dataHome } from '../core/vault/paths.js';
import { netFetch, setSystemProxyResolver } from '../core/platform/network.js';
import { envHasProxy } from '../core/platform/network-rules.js';
import { redact } from '../core/platform/redact.js';
import { VERSION } from '../core/platform/version.js';
import { checkHeaders, expandHeaderValue, mergeHeaders, parseHeaderFlag, type HeaderSpec } from '../core/platform/custom-headers.js';

/** The fd on which a daemon started by a bridge says it listens (see daemon.ts). */
export const READY_FD = 3;
export const READY_FD_ENV = 'MCP_TOKENS_READY_FD';

/**
 * Starts a broker detached: the desktop app when it sealed the vault (only it can open it),
 * else the headless daemon, which exits by itself once no bridge is left. Resolves when the
 * daemon says it listens (or has exited, e.g. because another one won), so the caller connects
 * once instead of polling; for the app, at once (the caller polls).
 */
async function startBroker(home: string, env: NodeJS.ProcessEnv, log: (level: 'info' | 'error', msg: string) => void): Promise<void> {
  // Only the cold path reads the launcher file (and loads its schema).
  const { APP_LAUNCHER_FILE, APP_SEALED_KEY_FILE, brokerToStart, parseAppLauncher, STARTED_BY_BRIDGE } = await import('../core/app-model/app-launcher.js');
  const launcher = parseAppLauncher(readIfPresent(join(home, APP_LAUNCHER_FILE)));
  const plan = brokerToStart({ appSealed: existsSync(join(home, APP_SEALED_KEY_FILE)), launcher });
  if (plan.kind === 'none') {
    log('error', plan.why);
    return;
  }
  if (plan.kind === 'app') {
    // The app must run as Electron, not as the Node it may have been started from.
    const { ELECTRON_RUN_AS_NODE: _drop, ...appEnv } = env;
    log('info', 'starting MCP Token Manager (it holds this vault)');
    const child = spawn(plan.launcher.command, [...plan.launcher.args, STARTED_BY_BRIDGE], { detached: true, stdio: 'ignore', env: appEnv });
    child.on('error', (e) => log('error', `could not start the token broker: ${e.message}`));
    child.unref();
    return;
  }
  const entry = process.argv[1];
  if (!entry) return;
  const child = spawn(process.execPath, [entry, 'daemon', '--idle-exit', env.MCP_TOKENS_DAEMON_IDLE ?? '30'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...env, [READY_FD_ENV]: String(READY_FD) },
  });
  child.unref();
  const ready = child.stdio[READY_FD] as Readable | null;
  await new Promise<void>((resolve) => {
    // No destroy() here: destroying the pipe from its own 'data' handler closed its fd twice, and
    // the second close hit the broker socket that had reused the number ("connection lost").
    // The daemon closes its end right after the line, so the pipe ends and closes by itself.
    const done = () => resolve();
    child.once('error', (e) => {
      log('error', `could not start the token broker: ${e.message}`);
      done();
    });
    if (!ready) return done();
    (ready as Readable & { unref?: () => void }).unref?.(); // a daemon that never answers must not hold the bridge open
    // A line means "listening"; the end of the pipe means it exited (maybe another one won).
    ready.once('data', done);
    ready.once('end', done);
    ready.once('error', done);
  });
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function asAuthError(err: unknown): BridgeAuthError {
  if (err instanceof BridgeAuthError) return err;
  const msg = isUserError(err) ? err.message : err instanceof Error ? err.message : String(err);
  return new BridgeAuthError(redact(msg));
}

/** How long a proof signed ahead may wait for its request: a proof's iat must be fresh. */
const SPARE_PROOF_MS = 2_000;

/** The bridge's view of the broker for one server: caches the token it was given. */
export class BrokerTokenSource implements TokenSource {
  private token: string | undefined;
  private expiresAt: number | undefined;
  private clientName: string | undefined;
  /** The DPoP-bound tokens among those handed out (the last few: old ones are never sent again). */
  private readonly bound: string[] = [];
  /** The proof signed ahead for the next POST (see proof()). */
  private spare: { key: string; at: number; proof: Promise<string> } | undefined;
  private nonce: string | undefined;
  constructor(
    private readonly client: BrokerClient,
    private readonly serverId: string,
    readonly headers: ReadonlyArray<{ name: string; value: string }> = [],
  ) {}

  private keep(g: { accessToken: string; expiresAt?: number; dpop?: true }): string {
    this.token = g.accessToken;
    this.expiresAt = g.expiresAt;
    if (g.dpop === true && !this.bound.includes(g.accessToken)) {
      this.bound.push(g.accessToken);
      if (this.bound.length > 4) this.bound.shift();
    }
    return g.accessToken;
  }

  isDpop(token: string): boolean {
    return this.bound.includes(token);
  }

  /**
   * The broker signs (it holds the key); the bridge only says which request, and the token's hash.
   * After each POST, the proof for the next POST to the same URL is asked for at once, so the
   * broker's round trip is off the next request's path; it is used once, within SPARE_PROOF_MS of
   * being asked for (a fresh iat), and only for exactly that method, URL, token and nonce.
   */
  async proof(p: { htm: string; htu: string; token: string; nonce?: string }): Promise<string> {
    const ath = createHash('sha256').update(p.token, 'ascii').digest('base64url');
    const u = new URL(p.htu);
    const htu = `${u.origin}${u.pathname}`;
    // The server's latest nonce, whichever of this bridge's connections saw it.
    if (p.nonce) this.nonce = p.nonce;
    const nonce = this.nonce;
    const key = `${p.htm} ${htu} ${ath} ${nonce ?? ''}`;
    const spare = this.spare;
    this.spare = undefined;
    let proof: string | undefined;
    if (spare && spare.key === key && Date.now() - spare.at < SPARE_PROOF_MS) proof = await spare.proof.catch(() => undefined);
    if (proof === undefined) {
      try {
        proof = await this.sign(p.htm, htu, ath, nonce);
      } catch (err) {
        throw asAuthError(err);
      }
    }
    if (p.htm === 'POST' && !this.spare) {
      const next = this.sign(p.htm, htu, ath, nonce);
      next.catch(() => {});
      this.spare = { key, at: Date.now(), proof: next };
    }
    return proof;
  }

  private async sign(htm: string, htu: string, ath: string, nonce: string | undefined): Promise<string> {
    return (await this.client.request('signProof', { server: this.serverId, htm, htu, ath, ...(nonce ? { nonce } : {}) })).proof;
  }

  setClient(info: { name: string; version?: string }): void {
    this.clientName = info.name.slice(0, 100);
    // The next request tells the broker who is using the server.
    this.token = undefined;
  }

  async getToken(minValiditySeconds: number): Promise<string> {
    if (this.token && (this.expiresAt === undefined || this.expiresAt - Date.now() > minValiditySeconds * 1000)) return this.token;
    try {
      return this.keep(await this.client.request('getToken', { server: this.serverId, minValiditySeconds, ...(this.clientName ? { client: this.clientName } : {}) }));
    } catch (err) {
      this.token = undefined;
      throw asAuthError(err);
    }
  }

  async reportRejected(token: string, why?: { dpopRefused?: boolean }): Promise<string> {
    try {
      return this.keep(await this.client.request('reportRejected', { server: this.serverId, token, ...(why?.dpopRefused ? { dpopRefused: true } : {}) }));
    } catch (err) {
      this.token = undefined;
      throw asAuthError(err);
    }
  }

  async stepUp(scopes: string[]): Promise<string> {
    try {
      // The person approves in the browser: allow the full approval window.
      return this.keep(await this.client.request('stepUp', { server: this.serverId, scopes }, 6 * 60_000));
    } catch (err) {
      this.token = undefined;
      throw asAuthError(err);
    }
  }
}

/** MCP_TOKENS_MAX_LINE_BYTES lowers (or raises) the longest stdin line the bridge accepts. */
function maxLine(env: NodeJS.ProcessEnv): { maxLineBytes?: number } {
  const n = Number(env.MCP_TOKENS_MAX_LINE_BYTES);
  return Number.isSafeInteger(n) && n >= 1024 ? { maxLineBytes: n } : {};
}

function looksLikeUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** MCP_TOKENS_REQUEST_TIMEOUT (seconds): how long a call waits for a sign-in; default 120 s. */
function requestWaitMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.MCP_TOKENS_REQUEST_TIMEOUT);
  return Number.isFinite(n) && n > 0 ? n * 1000 : 120_000;
}

function reasonOf(err: unknown): string {
  return redact(isUserError(err) ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : err instanceof Error ? err.message : String(err));
}

/**
 * The headers to send: the server's stored ones, then `--header` flags of this entry, with
 * `${VAR}` expanded from this process's environment (the entry's env), never stored expanded.
 */
async function serverHeaders(client: BrokerClient, serverId: string | undefined, flags: HeaderSpec[], env: NodeJS.ProcessEnv, log: (level: 'warn', msg: string) => void): Promise<HeaderSpec[]> {
  let stored: HeaderSpec[] = [];
  if (serverId !== undefined) {
    try {
      stored = (await client.request('headers', { server: serverId })).headers;
    } catch (err) {
      // A broker from an older version knows no per-server headers.
      log('warn', `could not read the headers of '${serverId}': ${reasonOf(err)}`);
    }
  }
  return mergeHeaders(stored, flags).map((h) => ({ name: h.name, value: expandHeaderValue(h.value, env, (v) => log('warn', `header ${h.name}: \${${v}} is not set in the environment; sending it empty`)) }));
}

/**
 * One cheap unauthenticated request (server/discover, which opens no session): a server that
 * wants a sign-in answers 401/403. Anything unclear (no answer, 404, 405, 5xx) takes the broker's
 * `link` path, which probes properly and explains.
 */
async function answersWithoutAuth(url: string, headers: HeaderSpec[]): Promise<boolean> {
  try {
    const res = await netFetch(url, {
      method: 'POST',
      // A well-formed request for either era: modern servers want the version header and _meta
      // on every POST; legacy ones answer 400 outside a session, after any auth check.
      headers: { ...Object.fromEntries(headers.map((h) => [h.name, h.value])), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'mcp-tokens-probe',
        method: 'server/discover',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'mcp-tokens-bridge', version: VERSION }, 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    await res.body?.cancel().catch(() => {});
    // 2xx, or a 4xx refusal of the request itself (outside a session, a version it does not
    // take) after letting it past any auth. 401/403 ask for a sign-in; 404 and 405 (a legacy SSE
    // endpoint that takes no POST) are unclear, so those link.
    return res.status >= 200 && res.status < 500 && !(res.status >= 300 && res.status < 400) && ![401, 403, 404, 405].includes(res.status);
  } catch {
    return false;
  }
}

export async function runBridgeCommand(target: string, opts: { name?: string; headers?: string[] }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const home = dataHome(env);
  const logger = createLogger({ home, stderr: true, level: env.MCP_TOKENS_DEBUG ? 'debug' : 'info' });
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => logger.log(level, `bridge[${process.pid}] ${msg}`);
  // A launch starts many bridges (and maybe the daemon) at once on a busy machine: allow it time.
  // A broker that is late (its lock held, nothing answering): the gate answers the client now
  // and says why calls wait; they fail with the reason if it never answers.
  const onLate = (reason: string) => {
    log('warn', reason);
    void gated().then((g) => g.setWaiting(`${reason.charAt(0).toUpperCase()}${reason.slice(1)}; waiting for it. Retry in a moment.`));
  };
  const client = new BrokerClient({ address: brokerAddress(home), home, start: () => startBroker(home, env, log), startTimeoutMs: 30_000, clientName: 'bridge', onLate });
  // An MCP client starts bridges without the app's environment: with no proxy variables here, the
  // proxy for a URL is what the app's system settings say, asked through the broker (a headless
  // broker knows none: direct).
  if (!envHasProxy(env)) setSystemProxyResolver(async (url) => (await client.request('resolveProxy', { url }, 3_000)).pac ?? undefined);
  const displayName = opts.name ?? (looksLikeUrl(target) ? new URL(target).host : target);
  // In front of the bridge until the server is usable: the client sees the reason, not a closed pipe.
  // Loaded only when needed: it brings the SDK's schemas (zod), which a working bridge never loads.
  // One gate per bridge: made early when the broker is late, or when the sign-in or a failure needs it.
  let gate: Promise<import('./sign-in-gate.js').SignInGate> | undefined;
  const gated = () =>
    (gate ??= (async () => {
      const { SignInGate } = await import('./sign-in-gate.js');
      return new SignInGate({ input: process.stdin, output: process.stdout, displayName, version: VERSION, waitMs: requestWaitMs(env), log });
    })());
  /** Runs the bridge on stdio, or behind the gate when one already answers the client. */
  const serve = async (run: (input: NodeJS.ReadableStream, output: NodeJS.WritableStream) => Promise<void>) => {
    if (!gate) return run(process.stdin, process.stdout);
    const g = await gate;
    g.open(run);
    await g.done;
  };
  const bridge = (serverUrl: string, name: string, tokens: TokenSource) => async (input: NodeJS.ReadableStream, output: NodeJS.WritableStream) => {
    const { runBridge } = await import('../bridge/bridge.js');
    await runBridge({ serverUrl, displayName: name, tokens, ...maxLine(env), input, output, log, dataDir: home });
  };
  const failed = async (reason: string): Promise<number> => {
    log('error', reason);
    const gate = await gated();
    gate.fail(reason);
    await gate.done;
    client.close();
    return 1;
  };

  let flagHeaders: HeaderSpec[];
  try {
    flagHeaders = checkHeaders((opts.headers ?? []).map(parseHeaderFlag));
  } catch (err) {
    return failed(reasonOf(err));
  }
  let view: ServerView | null;
  try {
    view = (await client.request('resolve', { server: target })).server;
  } catch (err) {
    return failed(reasonOf(err));
  }
  if (!view && !looksLikeUrl(target)) return failed(`No linked server "${target}". Link it with \`mcp-tokens link <url>\` or pass the URL instead.`);
  if (!view) {
    // An open server needs no sign-in: bridge it at once, so the client's first tools/list gets
    // the server's tools rather than the gate's empty list (clients that ignore list_changed).
    const openHeaders = await serverHeaders(client, undefined, flagHeaders, env, log);
    if (await answersWithoutAuth(target, openHeaders)) {
      log('info', `${target} asks for no authorization; bridging without a token`);
      try {
        await serve(bridge(target, displayName, { ...NO_AUTH, headers: openHeaders }));
      } finally {
        client.close();
      }
      return 0;
    }
    // First use: the client gets its initialize answered now; calls wait for the person.
    log('info', `${target} is not linked yet; asking the broker to link it (approve in your browser)`);
    const gate = await gated();
    gate.setWaiting(undefined);
    let code = 0;
    // The consent card names the client asking: its initialize comes right after the spawn.
    const asking = await gate.clientName(2000);
    // A client that introduces itself later (a slow start) is named on the card when it does.
    if (!asking) {
      void gate.clientNameLater().then((late) => (late ? client.request('nameClient', { url: target, client: late }).catch(() => undefined) : undefined));
    }
    client.request('link', { url: target, ...(opts.name ? { name: opts.name } : {}), ...(asking ? { client: asking } : {}) }, 6 * 60_000).then(
      async (r) => {
        log('info', `bridging stdio to ${r.server.url} for '${r.server.name}'`);
        const headers = await serverHeaders(client, r.server.id, flagHeaders, env, log);
        gate.open(bridge(r.server.url, r.server.name, new BrokerTokenSource(client, r.server.id, headers)));
      },
      (err: unknown) => {
        if (isUserError(err) && err.code === 'no-auth') {
          // An open server: nothing to hold a token for, but the bridge still carries the session.
          log('info', `${target} asks for no authorization; bridging without a token`);
          void serverHeaders(client, undefined, flagHeaders, env, log).then((headers) => gate.open(bridge(target, displayName, { ...NO_AUTH, headers })));
          return;
        }
        code = 1;
        const reason = `Sign-in to '${displayName}' did not complete: ${reasonOf(err)}`;
        log('error', reason);
        gate.fail(reason);
      },
    );
    await gate.done;
    client.close();
    return code;
  }
  log('info', `bridging stdio to ${view.url} for '${view.name}'`);
  try {
    const headers = await serverHeaders(client, view.id, flagHeaders, env, log);
    await serve(bridge(view.url, view.name, new BrokerTokenSource(client, view.id, headers)));
  } finally {
    client.close();
  }
  return 0;
}
