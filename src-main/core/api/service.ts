// The service behind every UI host (Electron IPC, `mcp-tokens ui`): the contract's handlers
// over the manager and the broker, and the event stream. Only metadata leaves this module.
import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker/broker.js';
import { configSnippet, runningLauncher, withDataDir, type ClientFs, type ImportGrant, type Launcher } from '../clients/index.js';
import { UserError } from '../platform/errors.js';
import type { Manager, ServerView } from '../manager/manager.js';
import type { BrowserOpener, Cipher, Clock, Logger } from '../platform/services.js';
import { redact } from '../platform/redact.js';
import type { FlowKind } from '../types.js';
import { safeHttpUrl } from '../platform/urls.js';
import { clientsApi } from './clients.js';
import { headerSummaries, resolveHeaderEdits } from './headers.js';
import { idpHandlers, reauthorizeGrant } from './idp.js';
import { listClients, removeBridgeEntry } from './client-entries.js';
import { uiError, uiProgressLine } from './words.js';
import { networkStatus, testConnection } from './network.js';
import {
  type ApiEvents,
  type ApiHandlers,
  type ApiService,
  type AppInfo,
  type ClientKind,
  type ClientRemoveResult,
  CLIENT_KINDS,
  DEFAULT_SETTINGS,
  type EventName,
  type ServerSummary,
  type Settings,
} from '../../../src-shared/contract.js';

export interface SettingsStore {
  get(): Promise<Settings>;
  set(p: Partial<Settings>): Promise<Settings>;
}

export interface ApiServiceDeps {
  home: string;
  manager: Manager;
  broker: Broker;
  cipher: Pick<Cipher, 'kind' | 'description' | 'weak'>;
  opener: BrowserOpener;
  settings: SettingsStore;
  host: AppInfo['host'];
  version: string;
  clock: Clock;
  logger: Logger;
  /** Where MCP client configs are found (HOME, APPDATA…); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How entries written into MCP client configs start the bridge (the packaged app's own binary); default npx. */
  launcher?: Launcher;
  /** Re-seals an mcp-remote grant during a migration; default the manager's import, as the CLI does. */
  importGrant?: ImportGrant;
  /** Client config file access, platform and mcp-remote's token dir, for tests. */
  clientFiles?: { fs?: ClientFs; platform?: NodeJS.Platform; authDir?: string; now?: () => Date };
  /** Which MCP clients run a bridge for a target (id or URL). */
  usedBy?: () => Promise<Map<string, string[]>>;
  /** The config entry for an MCP client. */
  clientConfig?: (kind: ClientKind, server: { id: string; name: string; url: string }) => { snippet: string; file?: string };
  /** How long a bridge's consent request waits for an answer. */
  consentTimeoutMs?: number;
  /** Where `npm run demo` serves its MCP server (default DEMO_URL); null: never offer it. */
  demoUrl?: string | null;
}

/** The address `npm run demo` serves the demo server on. */
export const DEMO_URL = 'http://127.0.0.1:8788/mcp';

/**
 * Whether the demo server answers now (any HTTP answer counts; it asks for a sign-in). Offered
 * only then: it exists only where someone runs the project from source.
 */
export async function demoAnswers(url: string, timeoutMs = 800): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status > 0;
  } catch {
    return false;
  }
}

export function memorySettings(initial: Partial<Settings> = {}): SettingsStore {
  let cur: Settings = { ...DEFAULT_SETTINGS, ...initial };
  return {
    get: async () => cur,
    set: async (p) => (cur = { ...cur, ...p }),
  };
}

/**
 * The default entry, exactly as "Add to <client>" writes it: the same launcher (this installation's
 * own, absolute paths), with a non-default data dir in its env.
 */
export function defaultClientConfig(
  kind: ClientKind,
  server: { id: string; name: string; url: string },
  env: NodeJS.ProcessEnv = process.env,
  launcher: Launcher = runningLauncher(),
  platform?: NodeJS.Platform,
): { snippet: string; file?: string } {
  return configSnippet(kind, server, withDataDir(launcher, env, platform), { env, ...(platform ? { platform } : {}) });
}

function summary(v: ServerView, users: Map<string, string[]> | undefined): ServerSummary {
  const used = new Set([...(users?.get(v.id) ?? []), ...(users?.get(v.url) ?? [])]);
  return {
    id: v.id,
    name: v.name,
    url: v.url,
    resource: v.resource,
    issuer: v.issuer,
    status: v.status,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.detail ? { detail: redact(v.detail) } : {}),
    scopes: v.scopes,
    ...(v.expiresAt ? { expiresAt: v.expiresAt } : {}),
    hasRefreshToken: v.hasRefreshToken,
    ...(v.lastRefreshAt ? { lastRefreshAt: v.lastRefreshAt } : {}),
    registration: v.registration,
    flow: v.flow,
    ...(v.lastError ? { lastError: redact(v.lastError) } : {}),
    activity: v.activity.map((a) => ({ ...a, ...(a.detail ? { detail: redact(a.detail) } : {}) })),
    usedBy: [...used].sort(),
    headers: headerSummaries(v.headers),
    ...(v.lastUsed ? { lastUsed: v.lastUsed } : {}),
    ...(v.dpop ? { dpop: v.dpop } : {}),
    grant: { kind: v.grant.kind, label: v.grant.label, ...(v.grant.idp ? { idp: v.grant.idp } : {}) },
  };
}

/** The error a UI sees: code, a message and hint in UI words, the technical text as detail; never a stack or a secret. */
export function toApiError(err: unknown): { code: string; message: string; hint?: string; detail?: string } {
  if (err instanceof UserError) return uiError({ code: err.code, message: redact(err.message), ...(err.hint ? { hint: redact(err.hint) } : {}) });
  if (err instanceof Error && err.name === 'ApiArgumentError') return { code: 'usage', message: redact(err.message) };
  return { code: 'internal', message: 'Something went wrong inside MCP Token Manager; see its log.' };
}

export interface HostedApiService extends ApiService {
  /** The broker's consent hook: asks every UI through `consent/request`, bounded in time. */
  confirmLink(url: string, requestedBy: string): Promise<{ approve: boolean; flow?: FlowKind; name?: string }>;
  /** The broker's late-name hook: a consent request for `url` that named no client takes this name. */
  clientNamed(url: string, client: string): void;
}

/** What the broker says when a client did not introduce itself (yet). */
export const UNNAMED_CLIENT = 'An MCP client';
const LATE_NAMES_KEPT_MS = 60_000;

export function createApiService(d: ApiServiceDeps): HostedApiService {
  const listeners = new Map<EventName, Set<(p: never) => void>>();
  const flows = new Map<string, AbortController>();
  /** Every progress stream running now (links and discoveries), so a window that missed an event can reconcile. */
  const running = new Map<string, string>();
  const consents = new Map<string, (a: { approve: boolean; flow?: FlowKind; name?: string }) => void>();
  /** Consent requests waiting, by id: their URL and who asks (to take a late name). */
  const asking = new Map<string, { url: string; requestedBy: string }>();
  /** Client names that came before their consent request went up (discovery takes a while), by URL. */
  const lateNames = new Map<string, { client: string; at: number }>();

  function emit<E extends EventName>(event: E, payload: ApiEvents[E]) {
    for (const fn of listeners.get(event) ?? []) {
      try {
        (fn as (p: ApiEvents[E]) => void)(payload);
      } catch (err) {
        d.logger.log('warn', `event listener for ${event} failed: ${String(err)}`);
      }
    }
  }

  async function users(): Promise<Map<string, string[]> | undefined> {
    try {
      return await d.usedBy?.();
    } catch (err) {
      d.logger.log('warn', `could not read MCP client configs: ${String(err)}`);
      return undefined;
    }
  }

  async function list(): Promise<ServerSummary[]> {
    const u = await users();
    return (await d.manager.list()).map((v) => summary(v, u));
  }

  async function changed() {
    try {
      emit('servers/changed', await list());
    } catch (err) {
      d.logger.log('warn', `could not list servers: ${String(err)}`);
    }
  }

  const unsubscribeBroker = d.broker.subscribe(() => void changed());

  const clients = clientsApi({
    manager: d.manager,
    ...(d.env ? { env: d.env } : {}),
    ...(d.launcher ? { launcher: d.launcher } : {}),
    ...(d.importGrant ? { importGrant: d.importGrant } : {}),
    ...d.clientFiles,
  });

  /** Runs one progress stream to its end: every stream gets exactly one `link/done`, whatever happens. */
  async function stream<T>(kind: 'preview' | 'link', url: string, run: (flowId: string, progress: (line: string) => void, signal: AbortSignal) => Promise<T>, serverOf?: (r: T) => string): Promise<{ flowId: string; result: T }> {
    const flowId = randomUUID();
    const ac = new AbortController();
    flows.set(flowId, ac);
    running.set(flowId, url);
    try {
      const result = await run(flowId, (line) => emit('link/progress', { flowId, kind, url, line: uiProgressLine(redact(line)) }), ac.signal);
      emit('link/done', { flowId, kind, ok: true, ...(serverOf ? { serverId: serverOf(result) } : {}) });
      return { flowId, result };
    } catch (err) {
      const e = toApiError(err);
      emit('link/done', { flowId, kind, ok: false, ...(ac.signal.aborted ? { cancelled: true } : {}), error: e });
      throw err;
    } finally {
      flows.delete(flowId);
      running.delete(flowId);
    }
  }

  async function runLink(
    url: string,
    opts: { name?: string; flow?: FlowKind; clientId?: string; clientMetadataUrl?: string; scopes?: string[]; id?: string; account?: 'new'; loginHint?: string },
  ): Promise<{ flowId: string; server: ServerSummary; note?: string }> {
    const { flowId, result: v } = await stream(
      'link',
      url,
      (id, progress, signal) => d.manager.link(url, { ...opts, signal, progress, onDeviceCode: (c) => emit('link/deviceCode', { flowId: id, ...c }) }),
      (v) => v.id,
    );
    void changed();
    return { flowId, server: summary(v, await users()), ...(v.note ? { note: v.note } : {}) };
  }

  const entryDeps = { env: () => d.env ?? process.env, ...(d.clientFiles?.fs ? { fs: d.clientFiles.fs } : {}), ...(d.clientFiles?.platform ? { platform: d.clientFiles.platform } : {}), ...(d.clientFiles?.now ? { now: d.clientFiles.now } : {}) };

  /** Removes the server's bridge entries from every client that has one (unlink's "remove the entries too"). */
  async function removeEverywhere(server: { id: string; url: string }): Promise<ClientRemoveResult[]> {
    const out: ClientRemoveResult[] = [];
    for (const kind of CLIENT_KINDS) {
      try {
        const r = await removeBridgeEntry(entryDeps, kind, server);
        if (r.removed.length) out.push(r);
      } catch (err) {
        d.logger.log('warn', `could not remove ${server.id} from the ${kind} config: ${String(err)}`);
      }
    }
    return out;
  }

  const idpDeps = { manager: d.manager, stream, summary: async (v: ServerView) => summary(v, await users()), changed: () => void changed() };

  const handlers: ApiHandlers = {
    'app/info': async () => {
      const demo = d.demoUrl === null ? undefined : (d.demoUrl ?? DEMO_URL);
      const up = demo !== undefined && (await demoAnswers(demo));
      return { version: d.version, host: d.host, secrets: { kind: d.cipher.kind, description: d.cipher.description, weak: d.cipher.weak }, dataDir: d.home, ...(up ? { demo: { url: demo } } : {}) };
    },
    'servers/list': () => list(),
    'servers/get': async (id) => summary(await d.manager.status(id), await users()),
    'servers/preview': async (req) =>
      (
        await stream('preview', req.url, (_id, progress) =>
          d.manager.preview(req.url, {
            ...(req.clientId ? { clientId: req.clientId } : {}),
            ...(req.clientMetadataUrl ? { clientMetadataUrl: req.clientMetadataUrl } : {}),
            ...(req.scopes ? { scopes: req.scopes } : {}),
            progress,
          }),
        )
      ).result,
    'servers/link': async (req) => {
      const { url, ...rest } = req;
      return runLink(url, rest);
    },
    'servers/cancelLink': async (flowId) => {
      const ac = flows.get(flowId);
      ac?.abort();
      return { cancelled: Boolean(ac) };
    },
    'servers/refresh': async (id) => {
      const v = await d.broker.refreshNow(id);
      void changed();
      return summary(v, await users());
    },
    'servers/reauthorize': async (id, o) => {
      const v = await d.manager.status(id);
      // A server signed in through the company IdP comes back with one sign-in there (every server of it does).
      if (v.grant.kind !== 'authorization_code') return reauthorizeGrant(idpDeps, v);
      // This account, not the URL's first: a server may have several.
      const r = await runLink(v.url, { id: v.id, name: v.name, ...(o.flow ? { flow: o.flow } : {}) });
      return r.server;
    },
    'servers/addAccount': async (id, o) => {
      const v = await d.manager.status(id);
      return runLink(v.url, { account: 'new', ...(o.name ? { name: o.name } : {}), ...(o.loginHint ? { loginHint: o.loginHint } : {}), flow: o.flow ?? v.flow });
    },
    'servers/revoke': async (id) => {
      const r = await d.manager.revoke(id);
      void changed();
      return { server: summary(r.view, await users()), revokedAtAs: r.revokedAtAs, ...(r.note ? { note: r.note } : {}) };
    },
    'servers/unlink': async (id, o) => {
      const before = await d.manager.status(id);
      const r = await d.manager.unlink(id);
      const clientsDone = o?.removeFromClients ? await removeEverywhere(before) : undefined;
      void changed();
      return { id: r.id, revokedAtAs: r.revokedAtAs, ...(r.note ? { note: r.note } : {}), ...(clientsDone ? { clients: clientsDone } : {}) };
    },
    'servers/clientConfig': async (id, kind) => {
      const v = await d.manager.status(id);
      const make = d.clientConfig ?? ((k: ClientKind, sv: { id: string; name: string; url: string }) => defaultClientConfig(k, sv, d.env, d.launcher, d.clientFiles?.platform));
      return { client: kind, ...make(kind, { id: v.id, name: v.name, url: v.url }) };
    },
    'servers/setHeaders': async (id, edits) => {
      // The manager reads an unknown id as a URL; the UI should hear "not in the list any more".
      if (!(await d.manager.lookup(id))) throw new UserError('not-found', `No linked server "${id}".`);
      // Kept rows take the stored value here, in main: the UI only ever had the masked one.
      const list = resolveHeaderEdits(edits, await d.manager.headersFor(id));
      const v = await d.manager.setHeaders(id, list);
      void changed();
      return summary(v, await users());
    },
    'clients/add': async (id, kind) => {
      const r = await clients.add(id, kind);
      // "Used by" on the server changes with the new entry.
      void changed();
      return r;
    },
    'clients/remove': async (id, kind) => {
      const v = await d.manager.status(id);
      const r = await removeBridgeEntry(entryDeps, kind, v);
      void changed();
      return r;
    },
    'clients/list': async () => listClients(entryDeps, await d.manager.list()),
    'activity/list': async () => (await d.manager.activity()).map((a) => ({ ...a, ...(a.detail ? { detail: redact(a.detail) } : {}) })),
    'app/flows': async () => ({ running: [...running].map(([flowId, url]) => ({ flowId, url })) }),
    'clients/migrationPlan': () => clients.plan(),
    'clients/migrate': async (o) => {
      const r = await clients.migrate(o);
      // Imported grants are new servers, and replaced entries change "used by".
      void changed();
      return r;
    },
    'consent/answer': async (requestId, answer) => {
      const resolve = consents.get(requestId);
      if (!resolve) throw new UserError('not-found', 'That request is no longer waiting for an answer.', 'The bridge may have given up; start it again.');
      consents.delete(requestId);
      resolve(answer);
      return { ok: true };
    },
    'settings/get': () => d.settings.get(),
    'settings/set': (p) => d.settings.set(p),
    ...idpHandlers(idpDeps),
    'shell/openExternal': async (url) => {
      safeHttpUrl(url, 'link');
      await d.opener.open(url);
      return { opened: true };
    },
    'network/status': async () => networkStatus(),
    'network/test': async (id) => testConnection((await d.manager.status(id)).url),
  };

  async function confirmLink(url: string, requestedBy: string): Promise<{ approve: boolean; flow?: FlowKind; name?: string }> {
    const preview = await d.manager.preview(url);
    const requestId = randomUUID();
    const late = lateNames.get(preview.url);
    lateNames.delete(preview.url);
    const who = requestedBy === UNNAMED_CLIENT && late && d.clock.now() - late.at < LATE_NAMES_KEPT_MS ? late.client : requestedBy;
    return new Promise((resolve) => {
      const done = () => {
        consents.delete(requestId);
        asking.delete(requestId);
      };
      const timer = setTimeout(() => {
        done();
        resolve({ approve: false });
      }, d.consentTimeoutMs ?? 5 * 60_000);
      consents.set(requestId, (a) => {
        clearTimeout(timer);
        done();
        resolve(a);
      });
      asking.set(requestId, { url: preview.url, requestedBy: who });
      emit('consent/request', { requestId, requestedBy: who, preview });
    });
  }

  function clientNamed(url: string, client: string): void {
    let named = false;
    for (const [requestId, a] of asking) {
      if (a.url !== url || a.requestedBy !== UNNAMED_CLIENT) continue;
      a.requestedBy = client;
      named = true;
      emit('consent/update', { requestId, requestedBy: client });
    }
    if (named) return;
    // Its request is still in discovery: kept a short while, for at most a few URLs.
    lateNames.set(url, { client, at: d.clock.now() });
    while (lateNames.size > 20) lateNames.delete(lateNames.keys().next().value!);
  }

  return {
    handlers,
    confirmLink,
    clientNamed,
    on(event, fn) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn as (p: never) => void);
      return () => set.delete(fn as (p: never) => void);
    },
    async close() {
      unsubscribeBroker();
      for (const ac of flows.values()) ac.abort();
      for (const resolve of consents.values()) resolve({ approve: false });
      consents.clear();
    },
  };
}
