// `mcp-tokens ui`: the manager UI in the browser for machines where the desktop app can't run.
// The process hosts the broker (as the app does) when no other broker is running.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApiService } from '../core/api/service.js';
import { fileSettings } from '../core/api/settings-file.js';
import { findBridgeUsers } from '../core/clients/index.js';
import { Broker } from '../core/broker/broker.js';
import { brokerAddress } from '../core/broker/protocol.js';
import { BrokerAlreadyRunning, type BrokerServer, serveBroker } from '../core/broker/server.js';
import { systemClock } from '../core/platform/services.js';
import { startUiServer } from '../ui/server.js';
import type { CliContext } from './context.js';

/** The built renderer: dist/renderer beside the bundled CLI (dist/cli.js). */
export function rendererDir(): string {
  const candidates = [new URL('./renderer/', import.meta.url), new URL('../../dist/renderer/', import.meta.url)].map((u) => fileURLToPath(u).replace(/[/\\]$/, ''));
  return candidates.find((d) => existsSync(`${d}/index.html`)) ?? candidates[0]!;
}

export async function runUiCommand(ctx: CliContext, o: { open: boolean; port?: number; json: boolean; version: string }): Promise<number> {
  // The broker needs the service's consent hook, and the service needs the broker.
  const late: { service?: ReturnType<typeof createApiService> } = {};
  // Kept in the data dir, so they outlive this process (the app keeps its own in electron-store).
  const settings = fileSettings(ctx.home, ctx.logger);
  const broker = new Broker({
    manager: ctx.manager,
    refreshAheadS: async () => (await settings.get()).refreshAheadMinutes * 60,
    clock: systemClock,
    logger: ctx.logger,
    vaultStamp: () => ctx.vault.stamp(),
    confirmLink: (url, requestedBy) => (late.service ? late.service.confirmLink(url, requestedBy) : Promise.resolve({ approve: false })),
    onClientNamed: (url, client) => late.service?.clientNamed(url, client),
  });
  let brokerServer: BrokerServer | undefined;
  try {
    brokerServer = await serveBroker(broker, { address: brokerAddress(ctx.home), home: ctx.home, logger: ctx.logger, version: o.version });
  } catch (err) {
    if (!(err instanceof BrokerAlreadyRunning)) throw err;
    process.stderr.write('Note: a token broker is already running (the daemon or the app); this UI works beside it.\n');
  }
  const service = createApiService({
    home: ctx.home,
    manager: ctx.manager,
    broker,
    cipher: ctx.cipher,
    opener: ctx.opener,
    settings,
    host: 'browser',
    version: o.version,
    clock: systemClock,
    logger: ctx.logger,
    env: process.env,
    usedBy: () => findBridgeUsers(process.env),
    // A demo started on another port (DEMO_PORT) is named here.
    ...(process.env.MCP_TOKENS_DEMO_URL ? { demoUrl: process.env.MCP_TOKENS_DEMO_URL } : {}),
  });
  late.service = service;
  const ui = await startUiServer({ service, staticDir: rendererDir(), logger: ctx.logger, onWarning: (line) => process.stderr.write(`${line}\n`), ...(o.port !== undefined ? { port: o.port } : {}) });
  process.stderr.write(`MCP Token Manager UI: ${ui.url}\n(this link works once, in one browser; keep this terminal open; Ctrl-C stops it)\n`);
  if (o.json) process.stdout.write(`${JSON.stringify({ url: ui.url })}\n`);
  if (o.open) await ctx.opener.open(ui.url).catch((e: Error) => process.stderr.write(`Could not open a browser (${e.message}); open the link above.\n`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await ui.close();
  await service.close();
  await brokerServer?.close();
  broker.close();
  return 0;
}
