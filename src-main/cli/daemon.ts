// `mcp-tokens daemon`: hosts the broker headless. A daemon started by a bridge exits after the
// last bridge has gone plus an idle grace period, so no orphan is left behind.
import { closeSync, writeSync } from 'node:fs';
import { Broker } from '../core/broker/broker.js';
import { brokerAddress } from '../core/broker/protocol.js';
import { BrokerAlreadyRunning, type BrokerServer, serveBroker } from '../core/broker/server.js';
import { systemClock } from '../core/platform/services.js';
import type { CliContext } from './context.js';

export async function runDaemon(ctx: CliContext, opts: { idleExitMs?: number; version: string }): Promise<number> {
  const broker = new Broker({ manager: ctx.manager, clock: systemClock, logger: ctx.logger, vaultStamp: () => ctx.vault.stamp() });
  const address = brokerAddress(ctx.home);
  let server: BrokerServer | undefined;
  try {
    server = await serveBroker(broker, {
      address,
      logger: ctx.logger,
      version: opts.version,
      ...(opts.idleExitMs !== undefined ? { idleExitMs: opts.idleExitMs } : {}),
      onIdle: () => {
        ctx.logger.log('info', 'no bridge connected for the idle period; exiting');
        void server?.close().then(() => process.exit(0));
      },
    });
  } catch (err) {
    if (err instanceof BrokerAlreadyRunning) {
      process.stderr.write(`${err.message}\n`);
      return 0;
    }
    throw err;
  }
  signalReady();
  process.stderr.write(`Token broker listening at ${address} (pid ${process.pid}).${opts.idleExitMs !== undefined ? ` Exits after ${Math.round(opts.idleExitMs / 1000)} s without bridges.` : ' Ctrl-C to stop.'}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void server?.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
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
