// `mcp-tokens daemon`: hosts the broker headless. A daemon started by a bridge exits after the
// last bridge has gone plus an idle grace period, so no orphan is left behind. Many daemons may
// be started at once (every bridge starts one when none answers): the election in serveBroker
// lets exactly one serve; the others exit 0 and their bridges connect to the winner.
import { closeSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { daemonFailureFile } from '../core/broker/address.js';
import { brokerAddress } from '../core/broker/protocol.js';
import { BrokerAlreadyRunning, type BrokerServer, electBroker, serveBroker } from '../core/broker/server.js';
import { isUserError } from '../core/platform/errors.js';
import { redact } from '../core/platform/redact.js';
import { systemClock } from '../core/platform/services.js';
import { ensurePrivateDir, writeFileAtomic } from '../core/vault/fs.js';
import { dataHome } from '../core/vault/paths.js';
import type { CliContext } from './context.js';

export async function runDaemon(open: () => Promise<CliContext>, opts: { idleExitMs?: number; version: string; env?: NodeJS.ProcessEnv }): Promise<number> {
  const home = dataHome(opts.env ?? process.env);
  let server: BrokerServer | undefined;
  const address = brokerAddress(home);
  try {
    // Elect first: the many daemons that bridges start at once lose before opening the vault.
    const lock = await electBroker(home);
    if (!lock) throw new BrokerAlreadyRunning(`A token broker already serves ${home}.`);
    // Only the winner loads the broker (and with it the manager, OAuth and the vault): the
    // daemons that lose above exit having loaded little more than the election.
    const { Broker } = await import('../core/broker/broker.js');
    const ctx = await open().catch(async (err: unknown) => {
      await lock.release();
      throw err;
    });
    const broker = new Broker({ manager: ctx.manager, clock: systemClock, logger: ctx.logger, vaultStamp: () => ctx.vault.stamp() });
    server = await serveBroker(broker, {
      address,
      home,
      lock,
      logger: ctx.logger,
      version: opts.version,
      ...(opts.idleExitMs !== undefined ? { idleExitMs: opts.idleExitMs } : {}),
      onIdle: () => {
        ctx.logger.log('info', 'no bridge connected for the idle period; exiting');
        void server?.drain().then(() => server?.close()).then(() => process.exit(0));
      },
    });
  } catch (err) {
    if (err instanceof BrokerAlreadyRunning) {
      // The bridge that started this one sees the ready pipe close and connects to the winner.
      process.stderr.write(`${err.message}\n`);
      return 0;
    }
    await recordFailure(home, err);
    throw err;
  }
  signalReady();
  process.stderr.write(`Token broker listening at ${server.address} (pid ${process.pid}).${opts.idleExitMs !== undefined ? ` Exits after ${Math.round(opts.idleExitMs / 1000)} s without bridges.` : ' Ctrl-C to stop.'}\n`);
  await new Promise<void>((resolve) => {
    // Let a refresh the AS already answered reach the vault before exiting (bounded).
    const stop = () => void server?.drain().then(() => server?.close()).then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Leaves the reason for the bridge that started this daemon (its stderr goes nowhere). */
async function recordFailure(home: string, err: unknown): Promise<void> {
  const message = redact(isUserError(err) ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : err instanceof Error ? err.message : String(err)).slice(0, 1000);
  try {
    await ensurePrivateDir(dirname(daemonFailureFile(home)));
    await writeFileAtomic(daemonFailureFile(home), JSON.stringify({ pid: process.pid, at: Date.now(), message }), 0o600);
  } catch {
    // The data dir itself may be what failed; the bridge then says the broker did not answer.
  }
}

/**
 * A bridge that started this daemon waits on an inherited pipe (fd in MCP_TOKENS_READY_FD) for the
 * line that says it listens, instead of polling; the fd is closed after, and by exit in any case.
 */
function signalReady(): void {
  const fd = Number(process.env.MCP_TOKENS_READY_FD);
  delete process.env.MCP_TOKENS_READY_FD; // not for anything this daemon starts
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, 'listening\n');
    closeSync(fd);
  } catch {
    // the bridge is gone; nobody waits
  }
}
