// The renderer's one store. It is fed only by the typed Api: call results and pushed events.
// UI-only state (which screen, what the add-a-server wizard is doing) lives here too so the
// screens stay thin and the whole behaviour is testable without React.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  Api,
  ApiEvents,
  ApiResults,
  AppInfo,
  ArgsOf,
  ActivityItem,
  ClientAddResult,
  ClientKind,
  ClientOverview,
  ClientRemoveResult,
  HeaderEdit,
  LinkPreview,
  LinkRequest,
  MigrateOptions,
  MigrationPlanSummary,
  MigrationResultSummary,
  ServerSummary,
  Settings,
} from '../src-shared/contract.js';
import type { FlowKind, NetworkStatus, NetworkTestResult } from '../src-shared/contract.js';
import { clientAddNotice, clientLabel, clientRemoveNotice, errorText, hostOf, sameUrl, scrubTokens, type Tone } from './view/format.js';

/** A failure as a notice: message, what to do, and the technical account folded. */
export function problemNotice(e: Problem): Notice {
  return { tone: 'bad', text: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.detail ? { detail: e.detail } : {}) };
}

export type View =
  | { name: 'servers' }
  | { name: 'add' }
  | { name: 'detail'; id: string }
  | { name: 'settings' }
  | { name: 'migrate' }
  | { name: 'clients' }
  | { name: 'activity' };

export interface Problem {
  message: string;
  hint?: string;
  /** The technical account, shown folded ("Show details"). */
  detail?: string;
  code?: string;
}

export interface Notice {
  tone: Tone;
  text: string;
  hint?: string;
  detail?: string;
  /** Says a sign-in to this URL is under way: it goes once a sign-in to it since `since` shows in the server list. */
  until?: { url: string; since: number };
}

/** A "signing in…" notice is stale once the list shows that server signed in since the notice went up. */
export function noticeSettled(notice: Notice | undefined, servers: ServerSummary[]): boolean {
  const u = notice?.until;
  if (!u) return false;
  return servers.some((s) => sameUrl(s.url, u.url) && s.activity.some((e) => (e.kind === 'linked' || e.kind === 'reauthorized') && e.at >= u.since));
}

/** A list loaded from main on demand (Clients, Activity). */
export interface Loadable<T> {
  loading: boolean;
  data?: T;
  error?: Problem;
}

/** A link (or re-authorization) running in main, as told by its events. */
export interface Flow {
  flowId: string;
  url?: string;
  lines: string[];
  deviceCode?: ApiEvents['link/deviceCode'];
  state: 'running' | 'done' | 'error';
  error?: Problem;
  serverId?: string;
  startedAt: number;
  /** Time of the last event; a flow id reused by a later attempt counts from here. */
  updatedAt: number;
  /** A screen of this UI started it and reports its outcome itself. */
  owned?: boolean;
  dismissed?: boolean;
}

export type PreviewRequest = ArgsOf<'servers/preview'>[0];

export type AddState =
  | { stage: 'idle' }
  | { stage: 'previewing'; request: PreviewRequest; since: number; lines: string[] }
  | { stage: 'consent'; request: PreviewRequest; preview: LinkPreview; since: number }
  | { stage: 'linking'; request: PreviewRequest; preview: LinkPreview; flow: FlowKind; since: number }
  | { stage: 'done'; request: PreviewRequest; preview: LinkPreview; server: ServerSummary; flowId: string; since: number; note?: string }
  | { stage: 'failed'; step: 'preview' | 'link'; request: PreviewRequest; preview?: LinkPreview; error: Problem; since: number; lines?: string[] };

export type OpKind = 'refresh' | 'reauthorize' | 'revoke' | 'unlink' | 'account';

export interface ServerOp {
  busy?: OpKind;
  since?: number;
  notice?: Notice;
}

export interface ConsentItem {
  request: ApiEvents['consent/request'];
  busy?: boolean;
  error?: Problem;
}

/** The mcp-remote entries found in MCP client configs, and a migration of them. */
export interface MigrationState {
  loading: boolean;
  plan?: MigrationPlanSummary;
  error?: Problem;
  applying: boolean;
  result?: MigrationResultSummary;
  applyError?: Problem;
}

/** The outcome of writing the bridge entry into a client's config, ready to show. */
export type ClientAddOutcome = { ok: true; result: ClientAddResult; notice: Notice } | { ok: false; error: Problem };
export type ClientRemoveOutcome = { ok: true; result: ClientRemoveResult; notice: Notice } | { ok: false; error: Problem };

export interface AppState {
  /** The host's API, for screens with their own small state (company sign-in). */
  api: Api;
  ready: boolean;
  loadError?: Problem;
  info?: AppInfo;
  settings?: Settings;
  settingsBusy: boolean;
  settingsNotice?: Notice;
  servers: ServerSummary[];
  view: View;
  flows: Record<string, Flow>;
  add: AddState;
  ops: Record<string, ServerOp>;
  consents: ConsentItem[];
  /** A short message for the whole window (e.g. after unlinking the server on screen). */
  notice?: Notice;
  migration: MigrationState;
  clients: Loadable<ClientOverview[]>;
  activity: Loadable<ActivityItem[]>;

  /** Subscribes to events and loads everything; returns the unsubscribe. */
  init(): () => void;
  reload(): Promise<void>;
  navigate(view: View): void;
  preview(request: PreviewRequest): Promise<void>;
  approve(choice: { flow: FlowKind; name?: string }): Promise<void>;
  cancelAdd(): Promise<void>;
  resetAdd(): void;
  refresh(id: string): Promise<void>;
  reauthorize(id: string, flow?: FlowKind): Promise<void>;
  /** Signs in with another account of server `id`'s URL: a new row; its page opens when done. */
  addAccount(id: string, o: { name?: string; loginHint?: string; flow?: FlowKind }): Promise<void>;
  revoke(id: string): Promise<void>;
  unlink(id: string, opts?: { removeFromClients?: boolean }): Promise<void>;
  clientConfig(id: string, client: ClientKind): Promise<ApiResults['servers/clientConfig']>;
  /** Replaces the server's headers; rows the person did not touch are sent as `keep`, never with a value. */
  saveHeaders(id: string, edits: HeaderEdit[]): Promise<{ ok: true; server: ServerSummary } | { ok: false; error: Problem }>;
  /** Settings' Network card: where proxies and certificates come from, and a connection test. */
  networkStatus(): Promise<NetworkStatus>;
  testNetwork(id: string): Promise<NetworkTestResult>;
  /** Writes the bridge entry into the client's config file (main backs the file up first). */
  addToClient(id: string, client: ClientKind): Promise<ClientAddOutcome>;
  /** Removes the server's bridge entry from the client's config file (main backs the file up first). */
  removeFromClient(id: string, client: ClientKind): Promise<ClientRemoveOutcome>;
  loadClients(): Promise<void>;
  loadActivity(): Promise<void>;
  /** Ends flows this window still shows as running that main no longer runs (their end event was missed). */
  reconcileFlows(): Promise<void>;
  loadMigrationPlan(): Promise<void>;
  migrate(options: MigrateOptions): Promise<void>;
  answerConsent(requestId: string, approve: boolean, flow?: FlowKind, name?: string): Promise<void>;
  saveSettings(patch: Partial<Settings>): Promise<void>;
  openExternal(url: string): Promise<void>;
  dismissFlow(flowId: string): void;
  clearNotice(id?: string): void;
}

export type AppStore = StoreApi<AppState>;

const MAX_LINES = 200;
const MAX_FLOWS = 50;

export interface StoreOptions {
  now?: () => number;
}

/** Flows about one server URL that began at or after `since`, oldest first. */
export function flowsFor(flows: Record<string, Flow>, url: string | undefined, since = 0): Flow[] {
  return Object.values(flows)
    .filter((f) => f.updatedAt >= since && sameUrl(f.url, url))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** The URL and start time whose flows the current screen shows itself. */
export function screenClaim(s: Pick<AppState, 'view' | 'add' | 'servers' | 'ops'>): { url: string; since: number } | undefined {
  if (s.view.name === 'add' && s.add.stage !== 'idle') return { url: addUrl(s.add), since: s.add.since };
  if (s.view.name === 'detail') {
    const id = s.view.id;
    const server = s.servers.find((x) => x.id === id);
    if (server) return { url: server.url, since: 0 };
  }
  return undefined;
}

/** Flows the global "in progress" panel shows: running ones no screen shows, and failures nobody reported. */
export function backgroundFlows(s: Pick<AppState, 'view' | 'add' | 'servers' | 'ops' | 'flows'>): Flow[] {
  const claim = screenClaim(s);
  return Object.values(s.flows)
    .filter((f) => !f.dismissed)
    .filter((f) => f.state === 'running' || (f.state === 'error' && !f.owned))
    .filter((f) => !(claim && f.updatedAt >= claim.since && sameUrl(f.url, claim.url)))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** The server URL the wizard is about: the normalized one once the preview is known. */
export function addUrl(a: Exclude<AddState, { stage: 'idle' }>): string {
  return 'preview' in a && a.preview ? a.preview.url : a.request.url;
}

export function selectedServer(s: Pick<AppState, 'view' | 'servers'>): ServerSummary | undefined {
  const v = s.view;
  return v.name === 'detail' ? s.servers.find((x) => x.id === v.id) : undefined;
}

export function createAppStore(api: Api, opts: StoreOptions = {}): AppStore {
  const now = opts.now ?? (() => Date.now());
  // Bumped by every servers/changed so a slower list answer never overwrites a newer push.
  let serversSeq = 0;
  // Bumped whenever the wizard starts over, so late answers to an abandoned attempt are dropped.
  let addSeq = 0;
  // Bumped by every plan request, so a slower older answer never replaces a newer one.
  let planSeq = 0;

  return createStore<AppState>()((set, get) => {
    const upsertServer = (server: ServerSummary) => {
      serversSeq++;
      set((s) => {
        const i = s.servers.findIndex((x) => x.id === server.id);
        const servers = i < 0 ? [...s.servers, server] : s.servers.map((x, j) => (j === i ? server : x));
        return { servers, ...(noticeSettled(s.notice, servers) ? { notice: undefined } : {}) };
      });
    };

    const patchFlow = (flowId: string, patch: (f: Flow) => Partial<Flow>) => {
      set((s) => {
        const t = now();
        const existing: Flow = s.flows[flowId] ?? { flowId, lines: [], state: 'running', startedAt: t, updatedAt: t };
        const flows = { ...s.flows, [flowId]: { ...existing, ...patch(existing), updatedAt: t } };
        return { flows: prune(flows) };
      });
    };

    /** Marks flows of `url` since `since` as finished by a call this UI made (their events may lag or never come). */
    const settleFlows = (url: string, since: number, outcome: { ok: true; flowId?: string; serverId?: string } | { ok: false; error: Problem }) => {
      set((s) => {
        const flows = { ...s.flows };
        for (const f of Object.values(s.flows)) {
          const mine = outcome.ok && outcome.flowId ? f.flowId === outcome.flowId : f.updatedAt >= since && sameUrl(f.url, url);
          if (!mine) continue;
          const next: Flow = { ...f, owned: true };
          if (f.state === 'running') {
            if (outcome.ok) {
              next.state = 'done';
              if (outcome.serverId) next.serverId = outcome.serverId;
            } else {
              next.state = 'error';
              next.error = outcome.error;
            }
          }
          flows[f.flowId] = next;
        }
        return { flows };
      });
    };

    const setOp = (id: string, op: ServerOp) => set((s) => ({ ops: { ...s.ops, [id]: op } }));

    const runOp = async <T>(id: string, kind: OpKind, call: () => Promise<T>, after: (r: T) => Notice | undefined): Promise<boolean> => {
      const since = now();
      setOp(id, { busy: kind, since });
      try {
        const r = await call();
        const notice = after(r);
        setOp(id, notice ? { notice } : {});
        return true;
      } catch (err) {
        setOp(id, { notice: problemNotice(errorText(err)) });
        return false;
      }
    };

    const loadServers = async () => {
      const seq = serversSeq;
      const list = await api['servers/list']();
      if (seq === serversSeq) set((s) => ({ servers: list, ...(noticeSettled(s.notice, list) ? { notice: undefined } : {}) }));
    };

    return {
      api,
      ready: false,
      settingsBusy: false,
      servers: [],
      view: { name: 'servers' },
      flows: {},
      add: { stage: 'idle' },
      ops: {},
      consents: [],
      migration: { loading: false, applying: false },
      clients: { loading: false },
      activity: { loading: false },

      init() {
        const offs = [
          api.on('servers/changed', (servers) => {
            serversSeq++;
            set((s) => ({ servers, ...(noticeSettled(s.notice, servers) ? { notice: undefined } : {}) }));
          }),
          api.on('link/progress', ({ flowId, kind, url, line }) => {
            // Discovery for the consent card is not a link: its lines belong to the wizard (and a
            // line that arrives after the card is up is a straggler of it), not to a flow.
            const a = get().add;
            const known = get().flows[flowId]?.state === 'running';
            if (!known && (kind === 'preview' || a.stage === 'previewing' || a.stage === 'consent' || (a.stage === 'failed' && a.step === 'preview')) && sameUrl(url, a.stage === 'idle' ? undefined : a.request.url)) {
              if (a.stage === 'previewing') set({ add: { ...a, lines: [...a.lines, scrubTokens(line)].slice(-MAX_LINES) } });
              return;
            }
            // Another window's discovery: nothing to show here, and nothing that could be left hanging.
            if (kind === 'preview') return;
            patchFlow(flowId, (f) => ({
              url: f.url ?? url,
              lines: [...f.lines, scrubTokens(line)].slice(-MAX_LINES),
            }));
          }),
          api.on('link/deviceCode', (code) => {
            patchFlow(code.flowId, () => ({ deviceCode: code }));
          }),
          api.on('link/done', ({ flowId, kind, ok, serverId, error }) => {
            if (kind === 'preview' && !get().flows[flowId]) return;
            patchFlow(flowId, () => ({
              state: ok ? 'done' : 'error',
              ...(serverId ? { serverId } : {}),
              ...(error ? { error: { message: scrubTokens(error.message), ...(error.hint ? { hint: scrubTokens(error.hint) } : {}), ...(error.detail ? { detail: scrubTokens(error.detail) } : {}) } } : {}),
            }));
          }),
          api.on('consent/request', (request) => {
            set((s) => (s.consents.some((c) => c.request.requestId === request.requestId) ? s : { consents: [...s.consents, { request }] }));
          }),
          // The client introduced itself after the request went up: the dialog names it now.
          api.on('consent/update', ({ requestId, requestedBy }) => {
            set((s) => ({ consents: s.consents.map((c) => (c.request.requestId === requestId ? { ...c, request: { ...c.request, requestedBy } } : c)) }));
          }),
        ];
        void get().reload();
        // A flow whose end event was lost (a dropped connection) is settled from main's state.
        const timer = setInterval(() => {
          if (Object.values(get().flows).some((f) => f.state === 'running')) void get().reconcileFlows();
        }, 15_000);
        return () => {
          clearInterval(timer);
          for (const off of offs) off();
        };
      },

      async reload() {
        try {
          const [info, settings] = await Promise.all([api['app/info'](), api['settings/get'](), loadServers()]);
          set({ info, settings, ready: true, loadError: undefined });
        } catch (err) {
          set({ ready: true, loadError: errorText(err) });
        }
        // Apart from the rest: an unreadable client config must not stop the app from loading.
        void get().loadMigrationPlan();
        void get().reconcileFlows();
        const v = get().view.name;
        if (v === 'clients') void get().loadClients();
        if (v === 'activity') void get().loadActivity();
      },

      async reconcileFlows() {
        let live: Set<string>;
        try {
          live = new Set((await api['app/flows']()).running.map((f) => f.flowId));
        } catch {
          return;
        }
        set((s) => {
          const stale = Object.values(s.flows).filter((f) => f.state === 'running' && !live.has(f.flowId));
          if (!stale.length) return s;
          const flows = { ...s.flows };
          // Its outcome is in the server list (servers/changed); the card just stops spinning.
          for (const f of stale) flows[f.flowId] = { ...f, state: 'done', dismissed: true };
          return { flows };
        });
      },

      async loadClients() {
        set((s) => ({ clients: { ...s.clients, loading: true } }));
        try {
          const data = await api['clients/list']();
          set({ clients: { loading: false, data } });
        } catch (err) {
          set((s) => ({ clients: { ...s.clients, loading: false, error: errorText(err) } }));
        }
      },

      async loadActivity() {
        set((s) => ({ activity: { ...s.activity, loading: true } }));
        try {
          const data = await api['activity/list']();
          set({ activity: { loading: false, data } });
        } catch (err) {
          set((s) => ({ activity: { ...s.activity, loading: false, error: errorText(err) } }));
        }
      },

      navigate(view) {
        const s = get();
        // Leaving a finished or untouched wizard starts it over; a running one keeps going in the background.
        if (s.view.name === 'add' && view.name !== 'add' && s.add.stage !== 'previewing' && s.add.stage !== 'linking') get().resetAdd();
        set({ view, notice: undefined });
        if (view.name === 'clients') void get().loadClients();
        if (view.name === 'activity') void get().loadActivity();
      },

      async preview(request) {
        const seq = ++addSeq;
        const since = now();
        const req: PreviewRequest = { ...request, url: request.url.trim() };
        set({ add: { stage: 'previewing', request: req, since, lines: [] } });
        try {
          const preview = await api['servers/preview'](req);
          if (seq !== addSeq) return;
          set({ add: { stage: 'consent', request: req, preview, since } });
        } catch (err) {
          if (seq !== addSeq) return;
          const error = errorText(err);
          const a = get().add;
          set({ add: { stage: 'failed', step: 'preview', request: req, error, since, lines: a.stage === 'previewing' ? a.lines : [] } });
        }
      },

      async approve({ flow, name }) {
        const a = get().add;
        if (a.stage !== 'consent') return;
        const seq = ++addSeq;
        const since = now();
        const { preview, request } = a;
        set({ add: { stage: 'linking', request, preview, flow, since } });
        const req: LinkRequest = { url: preview.url, flow };
        const trimmed = name?.trim();
        if (trimmed) req.name = trimmed;
        if (request.clientId) req.clientId = request.clientId;
        if (request.clientMetadataUrl) req.clientMetadataUrl = request.clientMetadataUrl;
        if (request.scopes?.length) req.scopes = request.scopes;
        try {
          const { flowId, server, note } = await api['servers/link'](req);
          settleFlows(preview.url, since, { ok: true, flowId, serverId: server.id });
          upsertServer(server);
          if (seq !== addSeq) return;
          set({ add: { stage: 'done', request, preview, server, flowId, since, ...(note ? { note } : {}) } });
        } catch (err) {
          const error = errorText(err);
          settleFlows(preview.url, since, { ok: false, error });
          if (seq !== addSeq) return;
          set({ add: { stage: 'failed', step: 'link', request, preview, error, since } });
        }
      },

      async cancelAdd() {
        const a = get().add;
        if (a.stage === 'linking') {
          const running = flowsFor(get().flows, a.preview.url, a.since).filter((f) => f.state === 'running');
          // servers/link then rejects, which moves the wizard to "failed" with the reason.
          await Promise.all(running.map((f) => api['servers/cancelLink'](f.flowId).catch(() => undefined)));
          if (running.length) return;
        }
        get().resetAdd();
      },

      resetAdd() {
        addSeq++;
        const a = get().add;
        if (a.stage !== 'idle') {
          const url = addUrl(a);
          set((s) => {
            const flows = { ...s.flows };
            for (const f of flowsFor(s.flows, url, a.since)) flows[f.flowId] = { ...f, owned: true, dismissed: f.state !== 'running' };
            return { flows };
          });
        }
        set({ add: { stage: 'idle' } });
      },

      async refresh(id) {
        await runOp(id, 'refresh', () => api['servers/refresh'](id), (server) => {
          upsertServer(server);
          return { tone: 'ok', text: 'Refreshed.' };
        });
      },

      async reauthorize(id, flow) {
        const server = get().servers.find((x) => x.id === id);
        const since = now();
        const ok = await runOp(id, 'reauthorize', () => api['servers/reauthorize'](id, flow ? { flow } : {}), (updated) => {
          upsertServer(updated);
          return { tone: 'ok', text: 'Signed in again.' };
        });
        if (server) {
          const notice = get().ops[id]?.notice;
          settleFlows(server.url, since, ok ? { ok: true } : { ok: false, error: { message: notice?.text ?? 'Failed.' } });
        }
      },

      async addAccount(id, o) {
        const server = get().servers.find((x) => x.id === id);
        const since = now();
        let added: ServerSummary | undefined;
        let flowId: string | undefined;
        const ok = await runOp(
          id,
          'account',
          () => {
            const name = o.name?.trim();
            const hint = o.loginHint?.trim();
            return api['servers/addAccount'](id, { ...(name ? { name } : {}), ...(hint ? { loginHint: hint } : {}), ...(o.flow ? { flow: o.flow } : {}) });
          },
          (r) => {
            added = r.server;
            flowId = r.flowId;
            upsertServer(r.server);
            return undefined;
          },
        );
        if (server) {
          const notice = get().ops[id]?.notice;
          settleFlows(server.url, since, ok ? { ok: true, ...(flowId ? { flowId } : {}) } : { ok: false, error: { message: notice?.text ?? 'Failed.' } });
        }
        if (added) {
          const a = added;
          // The new account's own page, where its client entries are added.
          set((s) => ({ view: s.view.name === 'detail' && s.view.id === id ? { name: 'detail', id: a.id } : s.view, notice: { tone: 'ok', text: `Added ${a.name}: another account on this server, with its own sign-in.`, hint: 'Add it to your MCP clients below; each account has its own entry.' } }));
        }
      },

      async revoke(id) {
        await runOp(id, 'revoke', () => api['servers/revoke'](id), (r) => {
          upsertServer(r.server);
          const text = r.revokedAtAs.length ? `Signed out. ${hostOf(r.server.issuer)} was told to end the sign-in.` : 'Signed out here.';
          return { tone: 'ok', text, ...(r.note ? { hint: scrubTokens(r.note) } : {}) };
        });
      },

      async unlink(id, opts) {
        const server = get().servers.find((x) => x.id === id);
        const since = now();
        setOp(id, { busy: 'unlink', since });
        try {
          const r = await api['servers/unlink'](id, opts?.removeFromClients ? { removeFromClients: true } : {});
          serversSeq++;
          set((s) => {
            const ops = { ...s.ops };
            delete ops[id];
            const removedFrom = (r.clients ?? []).map((c) => clientLabel(c.client));
            const text = `Removed ${server?.name ?? id}.${removedFrom.length ? ` Also taken out of ${removedFrom.join(', ')}; restart ${removedFrom.length === 1 ? 'it' : 'them'} to apply.` : ''}`;
            return {
              servers: s.servers.filter((x) => x.id !== id),
              ops,
              view: s.view.name === 'detail' && s.view.id === id ? { name: 'servers' } : s.view,
              notice: { tone: 'ok', text, ...(r.note ? { hint: scrubTokens(r.note) } : {}) },
            };
          });
        } catch (err) {
          setOp(id, { notice: problemNotice(errorText(err)) });
        }
        if (opts?.removeFromClients && get().view.name === 'clients') void get().loadClients();
      },

      clientConfig(id, client) {
        return api['servers/clientConfig'](id, client);
      },

      networkStatus() {
        return api['network/status']();
      },

      testNetwork(id) {
        return api['network/test'](id);
      },

      async saveHeaders(id, edits) {
        try {
          const server = await api['servers/setHeaders'](id, edits);
          upsertServer(server);
          return { ok: true, server };
        } catch (err) {
          return { ok: false, error: errorText(err) };
        }
      },

      async addToClient(id, client) {
        try {
          const result = await api['clients/add'](id, client);
          void get().loadClients();
          return { ok: true, result, notice: clientAddNotice(result) };
        } catch (err) {
          return { ok: false, error: errorText(err) };
        }
      },

      async removeFromClient(id, client) {
        try {
          const result = await api['clients/remove'](id, client);
          void get().loadClients();
          return { ok: true, result, notice: clientRemoveNotice(result) };
        } catch (err) {
          return { ok: false, error: errorText(err) };
        }
      },

      async loadMigrationPlan() {
        const seq = ++planSeq;
        set((s) => ({ migration: { ...s.migration, loading: true } }));
        try {
          const plan = await api['clients/migrationPlan']();
          if (seq !== planSeq) return;
          set((s) => ({ migration: { ...s.migration, loading: false, plan, error: undefined } }));
        } catch (err) {
          if (seq !== planSeq) return;
          set((s) => ({ migration: { ...s.migration, loading: false, error: errorText(err) } }));
        }
      },

      async migrate(options) {
        if (get().migration.applying) return;
        // Deleting mcp-remote's files only makes sense for sign-ins that were imported.
        const o: MigrateOptions = { importTokens: options.importTokens, deletePlaintext: options.importTokens && options.deletePlaintext };
        set((s) => ({ migration: { ...s.migration, applying: true, result: undefined, applyError: undefined } }));
        try {
          const result = await api['clients/migrate'](o);
          set((s) => ({ migration: { ...s.migration, applying: false, result } }));
        } catch (err) {
          set((s) => ({ migration: { ...s.migration, applying: false, applyError: errorText(err) } }));
        }
        // What is left (entries kept on mcp-remote, ones that failed) is shown from a fresh plan.
        await get().loadMigrationPlan();
      },

      async answerConsent(requestId, approve, flow, name) {
        const since = now();
        const mark = (patch: Partial<ConsentItem>) =>
          set((s) => ({ consents: s.consents.map((c) => (c.request.requestId === requestId ? { ...c, ...patch } : c)) }));
        mark({ busy: true, error: undefined });
        try {
          await api['consent/answer'](requestId, { approve, ...(approve && flow ? { flow } : {}), ...(approve && name?.trim() ? { name: name.trim() } : {}) });
          set((s) => {
            const item = s.consents.find((c) => c.request.requestId === requestId);
            const what = item ? (item.request.preview.resourceName ?? item.request.preview.url) : 'the server';
            const until = item ? { until: { url: item.request.preview.url, since } } : {};
            return {
              consents: s.consents.filter((c) => c.request.requestId !== requestId),
              notice: approve
                ? { tone: 'ok', text: `Approved. Signing in to ${what}${flow === 'device' ? '…' : ' — finish in the browser window that opens.'}`, ...until }
                : { tone: 'ok', text: `Declined: ${item?.request.requestedBy ?? 'the client'} will not connect to ${what}.` },
            };
          });
        } catch (err) {
          mark({ busy: false, error: errorText(err) });
        }
      },

      async saveSettings(patch) {
        const before = get().settings;
        // Shown at once; put back if main refuses.
        if (before) set({ settings: { ...before, ...patch } });
        set({ settingsBusy: true, settingsNotice: undefined });
        try {
          const settings = await api['settings/set'](patch);
          set({ settings, settingsBusy: false, settingsNotice: { tone: 'ok', text: 'Saved.' } });
        } catch (err) {
          set({ ...(before ? { settings: before } : {}), settingsBusy: false, settingsNotice: problemNotice(errorText(err)) });
        }
      },

      async openExternal(url) {
        try {
          await api['shell/openExternal'](url);
        } catch (err) {
          const e = errorText(err);
          set({ notice: { tone: 'bad', text: `Could not open the link: ${e.message}`, ...(e.hint ? { hint: e.hint } : {}) } });
        }
      },

      dismissFlow(flowId) {
        set((s) => {
          const f = s.flows[flowId];
          return f ? { flows: { ...s.flows, [flowId]: { ...f, dismissed: true } } } : s;
        });
      },

      clearNotice(id) {
        if (id === undefined) set({ notice: undefined });
        else
          set((s) => {
            const op = s.ops[id];
            if (!op?.notice) return s;
            const { notice: _drop, ...rest } = op;
            return { ops: { ...s.ops, [id]: rest } };
          });
      },
    };
  });
}

/** Keeps the flow map bounded: drops the oldest finished flows first. */
function prune(flows: Record<string, Flow>): Record<string, Flow> {
  const all = Object.values(flows);
  if (all.length <= MAX_FLOWS) return flows;
  const finished = all.filter((f) => f.state !== 'running').sort((a, b) => a.startedAt - b.startedAt);
  const out = { ...flows };
  for (const f of finished.slice(0, all.length - MAX_FLOWS)) delete out[f.flowId];
  return out;
}
