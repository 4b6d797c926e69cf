// Serves a Broker on a local socket that only the owning user can reach (0700 runtime dir, 0600
// socket), after winning the election for its data dir (election.ts): one broker per data dir.
import { chmod, mkdtemp, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { isUserError, UserError } from '../platform/errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../vault/fs.js';
import { advertisedAddressFile, daemonFailureFile, electionLockFile } from './address.js';
import { type ElectionLock, takeBrokerLock } from './election.js';
import type { Logger } from '../platform/services.js';
import { systemProxyAnswer } from '../platform/network.js';
import { redact } from '../platform/redact.js';
import type { Broker } from './broker.js';
import { type BrokerRequest, type BrokerResponse, BROKER_PROTOCOL, LineSplitter, MAX_BROKER_LINE, parseRequest, ProtocolError } from './protocol.js';

export interface BrokerServerOptions {
  address: string;
  /** The data dir this broker serves: the election is per data dir, whatever the address. */
  home?: string;
  /** The election lock, when the caller won it already (a daemon elects before opening the vault). */
  lock?: ElectionLock;
  logger: Logger;
  version: string;
  /** Exit when no client has been connected for this long (daemons started by a bridge). */
  idleExitMs?: number;
  onIdle?: () => void;
}

export interface BrokerServer {
  address: string;
  connections(): number;
  /** Waits (bounded) for refreshes in flight to be saved; call before close() on shutdown. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export class BrokerAlreadyRunning extends Error {}

/**
 * Wins the election for `home` (or returns null: another living broker holds it). The lock lives
 * in the data dir's private run/ dir, so the socket's runtime dir plays no part in who wins.
 */
export async function electBroker(home: string): Promise<ElectionLock | null> {
  try {
    return await takeBrokerLock(home);
  } catch (err) {
    throw new UserError('network', `The token broker cannot take its lock in ${dirname(electionLockFile(home))}: ${err instanceof Error ? err.message : String(err)}.`, 'That directory must belong to you and be private (mode 0700).', { cause: err });
  }
}

/**
 * The address to listen at: `address` when its directory is (or can be made) ours and private.
 * A shared temp dir lets anyone create `mcp-tokens-<uid>` first; then the socket goes to a fresh
 * directory with an unpredictable name (mkdtemp, 0700), which bridges find through the address
 * the broker advertises in the data dir.
 */
async function socketAddress(address: string, logger: Logger): Promise<string> {
  if (address.startsWith('\\\\')) return address;
  const dir = dirname(address);
  try {
    await ensurePrivateDir(dir);
    return address;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
    let fresh: string;
    try {
      fresh = await mkdtemp(join(dirname(dir), `mcp-tokens-${uid}-`));
    } catch {
      throw new UserError('network', `The token broker cannot use its runtime directory ${dir}: ${why}.`, 'Set XDG_RUNTIME_DIR or TMPDIR to a directory only you can write.', { cause: err });
    }
    const alt = join(fresh, basename(address));
    logger.log('warn', `the runtime directory ${dir} cannot be used (${why}); listening at ${alt} instead`);
    return alt;
  }
}

export async function serveBroker(broker: Broker, opts: BrokerServerOptions): Promise<BrokerServer> {
  const isPipe = opts.address.startsWith('\\\\');
  // The election, before the socket is touched: only its winner may unlink and listen.
  const lock = opts.lock ?? (await electBroker(opts.home ?? dirname(opts.address)));
  if (!lock) throw new BrokerAlreadyRunning(`A token broker already serves ${opts.home ?? opts.address}.`);
  try {
    const address = await socketAddress(opts.address, opts.logger);
    return await listenAsWinner(broker, { ...opts, address }, isPipe, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function listenAsWinner(broker: Broker, opts: BrokerServerOptions, isPipe: boolean, lock: { release(): Promise<void> }): Promise<BrokerServer> {
  // The winner alone is here: a socket file left at the address is a dead broker's.
  if (!isPipe) await unlink(opts.address).catch(() => {});
  const sockets = new Set<Socket>();
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (opts.idleExitMs === undefined || sockets.size > 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (sockets.size > 0) return;
      // A refresh still in flight would be lost with its rotated refresh token: wait for it.
      if (broker.busy) armIdle();
      else opts.onIdle?.();
    }, opts.idleExitMs);
  };

  const server: Server = createServer((sock) => {
    sockets.add(sock);
    clearTimeout(idleTimer);
    let unsubscribe: (() => void) | undefined;
    const send = (msg: BrokerResponse | object) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
    };
    const handle = async (line: string) => {
      let req: BrokerRequest;
      try {
        req = parseRequest(line);
      } catch (err) {
        const id = (() => {
          try {
            const v = JSON.parse(line) as { id?: unknown };
            return typeof v.id === 'number' ? v.id : -1;
          } catch {
            return -1;
          }
        })();
        send({ id, error: { code: 'bad-request', message: `Bad request: ${err instanceof ProtocolError ? err.message : 'invalid'}.` } });
        return;
      }
      try {
        const result = await dispatch(req);
        send({ id: req.id, result });
      } catch (err) {
        if (isUserError(err)) send({ id: req.id, error: { code: err.code, message: redact(err.message), ...(err.hint ? { hint: redact(err.hint) } : {}) } });
        else {
          opts.logger.log('error', `broker ${req.method} failed: ${err instanceof Error ? err.message : String(err)}`);
          send({ id: req.id, error: { code: 'internal', message: 'Internal error in the token broker; see its log.' } });
        }
      }
    };
    const dispatch = async (req: BrokerRequest): Promise<unknown> => {
      switch (req.method) {
        case 'hello':
          return { protocol: BROKER_PROTOCOL, pid: process.pid, version: opts.version };
        case 'resolve':
          return { server: await broker.resolve(req.params.server) };
        case 'headers':
          return { headers: await broker.headers(req.params.server) };
        case 'getToken':
          return broker.getToken(req.params.server, req.params.minValiditySeconds, req.params.client);
        case 'reportRejected':
          return broker.reportRejected(req.params.server, req.params.token, req.params.dpopRefused);
        case 'waitForReauth':
          return broker.waitForReauth(req.params.server, req.params.timeoutMs);
        case 'stepUp':
          return broker.stepUp(req.params.server, req.params.scopes);
        case 'link':
          return { server: await broker.link(req.params.url, req.params.name, req.params.client) };
        case 'refresh': {
          const { note, ...server } = await broker.refreshNow(req.params.server);
          return { server, ...(note ? { note } : {}) };
        }
        case 'status':
          return { servers: await broker.status() };
        case 'subscribe':
          unsubscribe ??= broker.subscribe((e) => send(e));
          return { ok: true };
        case 'signProof':
          return broker.signProof(req.params);
        case 'nameClient':
          broker.nameClient(req.params.url, req.params.client);
          return { ok: true };
        case 'resolveProxy':
          // Bridges started by MCP clients lack the app's network settings: the app answers for them.
          return { pac: await systemProxyAnswer(new URL(req.params.url)) };
      }
    };
    const splitter = new LineSplitter(MAX_BROKER_LINE, (l) => void handle(l), () => send({ id: -1, error: { code: 'bad-request', message: 'Request too large.' } }));
    sock.on('data', (c: Buffer) => splitter.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      unsubscribe?.();
      armIdle();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.address, () => resolve());
  });
  if (!isPipe) await chmod(opts.address, 0o600);
  armIdle();
  opts.logger.log('info', `broker listening (pid ${process.pid})`);
  if (opts.home) await advertise(opts.home, opts.address);

  return {
    address: opts.address,
    connections: () => sockets.size,
    drain: () => broker.drain(),
    async close() {
      clearTimeout(idleTimer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      broker.close();
      await lock.release();
    },
  };
}

/**
 * Leaves the address in the data dir, so a bridge whose environment points elsewhere (another
 * XDG_RUNTIME_DIR or TMPDIR than the broker's) still finds it; clears a previous start failure.
 */
async function advertise(home: string, address: string): Promise<void> {
  try {
    await ensurePrivateDir(dirname(advertisedAddressFile(home)));
    await writeFileAtomic(advertisedAddressFile(home), JSON.stringify({ address, pid: process.pid, at: Date.now() }), 0o600);
    await unlink(daemonFailureFile(home)).catch(() => {});
  } catch {
    // Only a convenience: the computed address works wherever the environments agree.
  }
}
