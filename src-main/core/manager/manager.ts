// The token manager: link, list, status, refresh, revoke, unlink, getToken. It is the only
// code that combines the vault with the AS; the broker and the CLI both drive it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LinkPreview } from '../types.js';
import { type DiscoveryResult, discover, supportsPkceS256 } from '../oauth/discovery.js';
import { UserError } from '../platform/errors.js';
import type { FetchFn } from '../oauth/http.js';
import { type LoopbackListener, DEFAULT_APPROVAL_TIMEOUT_MS, startLoopback } from '../oauth/loopback.js';
import * as wire from '../oauth/oauth.js';
import type { BrowserOpener, Cipher, Clock, Logger } from '../platform/services.js';
import { minValidityMs, needsRefresh, serverStatus, type ServerStatus, suggestId, tokenLifetimeMs, uniqueId } from './status.js';
import type { ActivityEntry, ClientRecord, FlowKind, GrantInfo, NeedsReauthReason, ServerRecord, VaultData } from '../types.js';
import { displayUrl, safeHttpUrl } from '../platform/urls.js';
import { checkHeaders, maskHeaderValue, type HeaderSpec } from '../platform/custom-headers.js';
import { VaultWriteError } from '../vault/vault.js';
import { isPidDead } from '../vault/fs.js';

export interface VaultStore {
  read(): Promise<VaultData>;
  update<T>(fn: (d: VaultData) => T | Promise<T>): Promise<T>;
}

export interface ManagerDeps {
  vault: VaultStore;
  cipher: Pick<Cipher, 'kind' | 'description' | 'weak'>;
  clock: Clock;
  opener: BrowserOpener;
  logger: Logger;
  /** Human progress lines (stderr in the CLI, events in the app). */
  progress?: (line: string) => void;
  fetchFn?: FetchFn;
}

export interface LinkOptions {
  name?: string;
  flow?: FlowKind;
  clientId?: string;
  clientSecret?: string;
  clientMetadataUrl?: string;
  scopes?: string[];
  /** false: print the URL only (`--no-open`). */
  open?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Progress lines of this link only (the app shows them on the card that started it). */
  progress?: (line: string) => void;
  /** The device code to show, when the device flow runs. */
  onDeviceCode?: (d: DeviceCodeView) => void;
  /** Per-server headers (as written, `${VAR}` unexpanded); undefined keeps the ones set before. */
  headers?: HeaderSpec[];
}

export interface DeviceCodeView {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresAt: number;
}

export type { LinkPreview };

const linkProgress = new AsyncLocalStorage<(line: string) => void>();

/** Registrable-domain approximation: the last two labels (IP literals and localhost compared whole). */
function siteOf(host: string): string {
  if (/^[\d.]+$/.test(host) || host.includes(':') || !host.includes('.')) return host;
  return host.split('.').slice(-2).join('.');
}

/** What anyone outside the broker may see of a server: never a token. */
export interface ServerView {
  id: string;
  name: string;
  url: string;
  resource: string;
  issuer: string;
  status: ServerStatus['status'];
  reason?: NeedsReauthReason;
  detail?: string;
  scopes: string[];
  expiresAt?: string;
  hasRefreshToken: boolean;
  lastRefreshAt?: string;
  registration: { method: ClientRecord['method'] | 'unknown'; clientId?: string };
  flow: FlowKind;
  secretsKeptIn: string;
  secretsWeak: boolean;
  lastError?: string;
  activity: ActivityEntry[];
  /** Per-server headers, literal values masked. */
  headers?: HeaderSpec[];
  lastUsed?: { client: string; at: number };
}

export interface RevokeOutcome {
  view: ServerView;
  revokedAtAs: Array<'refresh_token' | 'access_token'>;
  note?: string;
  /** What the AS answered when it did not confirm a revocation, as it said it. */
  asAnswer?: string;
}

const MAX_ACTIVITY = 200;
/** Activity is kept this long (and at most MAX_ACTIVITY entries per server). */
export const ACTIVITY_KEEP_MS = 30 * 24 * 60 * 60_000;
/** A client using a server again within this window is not a new activity entry. */
const USE_ACTIVITY_MS = 60 * 60_000;
/** A token obtained by refreshing after a 401 and rejected again this soon means the grant is not accepted. */
const REJECTED_AGAIN_WINDOW_MS = 30_000;
/** How long to wait for another process's refresh of the same grant, and how often. */
const OTHER_REFRESH_WAIT_MS = 20_000;
const OTHER_REFRESH_ROUNDS = 2;

type TokenSecrets = VaultData['secrets']['tokens'][string];
type RefreshCause = NonNullable<GrantInfo['lastRefreshCause']>;
type RefreshOutcome = 'refreshed' | 'not-needed' | 'no-refresh-token';

function storeHeaders(d: VaultData, rec: ServerRecord, list: HeaderSpec[]): void {
  d.secrets.headers ??= {};
  if (list.length) {
    rec.headers = list.map((h) => h.name);
    d.secrets.headers[rec.id] = list.map((h) => ({ name: h.name, value: h.value }));
  } else {
    delete rec.headers;
    delete d.secrets.headers[rec.id];
  }
}

export class Manager {
  private readonly d: ManagerDeps;
  constructor(deps: ManagerDeps) {
    this.d = deps;
  }

  private say(line: string) {
    this.d.progress?.(line);
    linkProgress.getStore()?.(line);
    this.d.logger.log('info', line);
  }

  // ---------------------------------------------------------------- views

  async list(): Promise<ServerView[]> {
    const data = await this.d.vault.read();
    return Object.values(data.servers)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => this.view(data, r));
  }

  async status(id: string): Promise<ServerView> {
    const data = await this.d.vault.read();
    return this.view(data, this.find(data, id));
  }

  private find(data: VaultData, idOrUrl: string): ServerRecord {
    const rec = data.servers[idOrUrl] ?? Object.values(data.servers).find((s) => s.url === idOrUrl || s.url === normalizeUrl(idOrUrl));
    if (!rec) {
      const known = Object.keys(data.servers);
      throw new UserError('not-found', `No linked server "${idOrUrl}".`, known.length ? `Linked: ${known.join(', ')}.` : 'Link one with `mcp-tokens link <url>`.');
    }
    return rec;
  }

  /** Finds a server by id or URL without throwing. */
  async lookup(idOrUrl: string): Promise<ServerView | undefined> {
    const data = await this.d.vault.read();
    try {
      return this.view(data, this.find(data, idOrUrl));
    } catch {
      return undefined;
    }
  }

  private view(data: VaultData, r: ServerRecord): ServerView {
    const hasToken = Boolean(data.secrets.tokens[r.id]?.accessToken);
    const st = serverStatus(r, hasToken, this.d.clock.now());
    const client = data.clients[r.clientKey];
    return {
      id: r.id,
      name: r.name,
      url: r.url,
      resource: r.resource,
      issuer: r.issuer,
      status: st.status,
      ...(st.reason ? { reason: st.reason } : {}),
      ...(st.detail ? { detail: st.detail } : {}),
      scopes: r.grant?.scope ?? r.requestedScopes,
      ...(r.grant?.expiresAt !== undefined ? { expiresAt: new Date(r.grant.expiresAt).toISOString() } : {}),
      hasRefreshToken: Boolean(r.grant?.hasRefreshToken && data.secrets.tokens[r.id]?.refreshToken),
      ...(r.grant?.lastRefreshAt !== undefined ? { lastRefreshAt: new Date(r.grant.lastRefreshAt).toISOString() } : {}),
      registration: client ? { method: client.method, clientId: client.clientId } : { method: 'unknown' },
      flow: r.flow,
      secretsKeptIn: this.d.cipher.description,
      secretsWeak: this.d.cipher.weak,
      ...(r.state.lastError ? { lastError: r.state.lastError.message } : {}),
      activity: r.activity.slice(-10),
      ...(r.headers?.length ? { headers: (data.secrets.headers?.[r.id] ?? []).map((h) => ({ name: h.name, value: maskHeaderValue(h.value) })) } : {}),
      ...(r.lastUsed ? { lastUsed: r.lastUsed } : {}),
    };
  }

  /** The headers as written, for the bridge (through the broker) to expand and send. */
  async headersFor(idOrUrl: string): Promise<HeaderSpec[]> {
    const data = await this.d.vault.read();
    const rec = this.find(data, idOrUrl);
    return rec.headers?.length ? (data.secrets.headers?.[rec.id] ?? []) : [];
  }

  /** Replaces a server's headers (an empty list removes them). */
  async setHeaders(idOrUrl: string, headers: HeaderSpec[]): Promise<ServerView> {
    const list = checkHeaders(headers);
    return this.d.vault.update((d) => {
      const rec = this.find(d, idOrUrl);
      storeHeaders(d, rec, list);
      rec.updatedAt = this.d.clock.now();
      return this.view(d, rec);
    });
  }

  /** Records that an MCP client asked for a token (no secret: the client's name and the time). */
  async recordUse(id: string, client: string): Promise<void> {
    const now = this.d.clock.now();
    await this.d.vault.update((d) => {
      const r = d.servers[id];
      if (!r) return;
      const prev = r.lastUsed;
      r.lastUsed = { client, at: now };
      if (!prev || prev.client !== client || now - prev.at > USE_ACTIVITY_MS) r.activity = appendActivity(r.activity, { at: now, kind: 'used', client });
    });
  }

  /** Every server's activity within the kept window, newest first. */
  async activity(): Promise<Array<ActivityEntry & { serverId: string; serverName: string }>> {
    const data = await this.d.vault.read();
    const since = this.d.clock.now() - ACTIVITY_KEEP_MS;
    return Object.values(data.servers)
      .flatMap((r) => r.activity.filter((a) => a.at >= since).map((a) => ({ ...a, serverId: r.id, serverName: r.name })))
      .sort((a, b) => b.at - a.at);
  }

  // ---------------------------------------------------------------- link

  /** Discovery only: what linking `rawUrl` would do, for the consent card. No side effects. */
  async preview(rawUrl: string, opts: Pick<LinkOptions, 'clientId' | 'clientMetadataUrl' | 'scopes' | 'progress'> = {}): Promise<LinkPreview> {
    const url = normalizeUrl(rawUrl);
    const run = async (): Promise<LinkPreview> => {
      const disc = await discover(url, {
        progress: (l) => this.say(l),
        ...(this.d.fetchFn ? { fetchFn: this.d.fetchFn } : {}),
        ...(opts.scopes ? { scopes: opts.scopes } : {}),
      });
      const as = disc.asMetadata;
      const flows: FlowKind[] = [];
      if (as.authorization_endpoint && supportsPkceS256(as)) flows.push('browser');
      if (as.device_authorization_endpoint) flows.push('device');
      if (!flows.length) chooseFlow(disc);
      const data = await this.d.vault.read();
      let registration: LinkPreview['registration'];
      if (opts.clientId) registration = 'pre-registered';
      else if (opts.clientMetadataUrl && as.client_id_metadata_document_supported === true) registration = 'metadata-document';
      else if (findDynamicClient(data, disc.issuer, flows[0]!)) registration = 'reuse';
      else registration = as.registration_endpoint ? 'dynamic' : 'impossible';
      const serverHost = new URL(url).hostname;
      const issuerUrl = new URL(disc.issuer);
      const existing = Object.values(data.servers).find((s) => s.url === url);
      const name = disc.resourceMetadata?.resource_name;
      return {
        url,
        resource: disc.resource,
        ...(typeof name === 'string' ? { resourceName: name.slice(0, 200) } : {}),
        transport: disc.transport === 'sse' ? 'sse' : 'streamable-http',
        issuer: disc.issuer,
        issuerHost: issuerUrl.host,
        issuerOtherSite: siteOf(issuerUrl.hostname) !== siteOf(serverHost),
        insecureHttp: issuerUrl.protocol === 'http:' || new URL(url).protocol === 'http:',
        scopes: disc.scopes,
        registration,
        flows,
        defaultFlow: flows[0]!,
        ...(existing ? { alreadyLinkedAs: existing.id } : {}),
      };
    };
    return opts.progress ? linkProgress.run(opts.progress, run) : run();
  }

  async link(rawUrl: string, opts: LinkOptions = {}): Promise<ServerView> {
    if (opts.progress) {
      const { progress, ...rest } = opts;
      return linkProgress.run(progress, () => this.link(rawUrl, rest));
    }
    const url = normalizeUrl(rawUrl);
    const headers = opts.headers ? checkHeaders(opts.headers) : undefined;
    const disc = await discover(url, {
      progress: (l) => this.say(l),
      ...(this.d.fetchFn ? { fetchFn: this.d.fetchFn } : {}),
      ...(opts.scopes ? { scopes: opts.scopes } : {}),
    });
    const flow = chooseFlow(disc, opts.flow);
    if (flow === 'browser' && !supportsPkceS256(disc.asMetadata)) {
      throw new UserError(
        'no-pkce',
        `The authorization server ${disc.issuer} does not advertise PKCE with S256 (code_challenge_methods_supported). Refusing to sign in without it.`,
        'Ask the server operator to enable PKCE S256.',
      );
    }
    if (flow === 'browser') safeHttpUrl(disc.asMetadata.authorization_endpoint, 'authorization endpoint');

    const before = await this.d.vault.read();
    const existing = Object.values(before.servers).find((s) => s.url === url);
    const listener = flow === 'browser' ? await this.bindListener(before, disc, opts) : undefined;
    try {
      let creds = await this.ensureClient(before, disc, flow, opts, listener);
      const signIn = (c: wire.ClientCredentials) => {
        const config = wire.makeConfig(disc.asMetadata, c);
        return flow === 'browser' ? this.browserFlow(config, disc, listener!, opts) : this.deviceFlow(config, disc, opts);
      };
      let tokens: wire.TokenResult;
      try {
        tokens = await signIn(creds);
      } catch (err) {
        // Once only: a second refusal is reported as it is.
        const other = await this.clientRefused(err, creds, disc, flow, listener);
        if (!other) throw err;
        creds = other;
        tokens = await signIn(creds);
      }
      const now = this.d.clock.now();
      const view = await this.d.vault.update((d) => {
        const id = existing && d.servers[existing.id] ? existing.id : uniqueId(suggestId(url, opts.name), (x) => Boolean(d.servers[x]));
        const prev = d.servers[id];
        d.clients[creds.record.key] = creds.record;
        if (prev && prev.clientKey !== creds.record.key) forgetUnusedClient(d, prev.clientKey, id);
        if (creds.clientSecret !== undefined) d.secrets.clients[creds.record.key] = { ...d.secrets.clients[creds.record.key], clientSecret: creds.clientSecret };
        const rec: ServerRecord = {
          id,
          name: opts.name ?? prev?.name ?? resourceName(disc) ?? id,
          url,
          resource: disc.resource,
          ...(disc.resourceMetadataUrl ? { resourceMetadataUrl: disc.resourceMetadataUrl } : {}),
          issuer: disc.issuer,
          asMetadata: disc.asMetadata,
          clientKey: creds.record.key,
          requestedScopes: disc.scopes,
          flow,
          createdAt: prev?.createdAt ?? now,
          updatedAt: now,
          state: { status: 'ok' },
          grant: grantFrom(tokens, disc.scopes, now, 0),
          activity: appendActivity(prev?.activity ?? [], { at: now, kind: prev ? 'reauthorized' : 'linked', detail: `via ${flow === 'browser' ? 'browser' : 'device code'}` }),
        };
        if (prev?.headers) rec.headers = prev.headers;
        d.servers[id] = rec;
        d.secrets.tokens[id] = secretTokens(tokens);
        if (headers) storeHeaders(d, rec, headers);
        return this.view(d, rec);
      });
      this.say(`Linked "${view.id}" (${view.url}); granted scopes: ${view.scopes.join(' ') || '(none)'}.`);
      return view;
    } finally {
      await listener?.close();
    }
  }

  /**
   * Takes over a grant another tool obtained (mcp-remote's plaintext store): discovers the
   * server as `link` does, checks the AS is the one the grant names, then seals the tokens and
   * the client registration into the vault. The grant must still refresh at that AS.
   */
  async importGrant(
    rawUrl: string,
    g: { accessToken: string; refreshToken?: string; expiresAt?: number; scope?: string; clientId: string; clientSecret?: string; tokenEndpointAuthMethod?: string; redirectUris?: string[]; grantTypes?: string[]; issuer?: string; name?: string; source: string },
  ): Promise<ServerView> {
    const url = normalizeUrl(rawUrl);
    if (!g.clientId) throw new UserError('registration', `The grant from ${g.source} for ${displayUrl(url)} has no client registration with it, so it could never be refreshed.`, `Link it afresh: mcp-tokens link ${url}`);
    const disc = await discover(url, { progress: (l) => this.say(l), ...(this.d.fetchFn ? { fetchFn: this.d.fetchFn } : {}) });
    if (g.issuer && g.issuer.replace(/\/$/, '') !== disc.issuer.replace(/\/$/, '')) {
      throw new UserError('issuer-mismatch', `The grant from ${g.source} was issued by ${g.issuer}, but ${displayUrl(url)} now uses ${disc.issuer}.`, `Link it afresh: mcp-tokens link ${url}`);
    }
    const now = this.d.clock.now();
    const key = `${disc.issuer}#imported:${g.clientId}`;
    const record: ClientRecord = {
      key,
      issuer: disc.issuer,
      clientId: g.clientId,
      method: 'dynamic',
      tokenEndpointAuthMethod: g.tokenEndpointAuthMethod ?? (g.clientSecret ? 'client_secret_basic' : 'none'),
      redirectUris: g.redirectUris ?? [],
      grantTypes: g.grantTypes ?? ['authorization_code', 'refresh_token'],
      registeredAt: now,
      hasSecret: Boolean(g.clientSecret),
    };
    const scopes = g.scope !== undefined ? g.scope.split(/\s+/).filter(Boolean) : disc.scopes;
    const view = await this.d.vault.update((d) => {
      const existing = Object.values(d.servers).find((s) => s.url === url);
      if (existing && d.secrets.tokens[existing.id]?.accessToken) {
        throw new UserError('usage', `${displayUrl(url)} is already linked as "${existing.id}"; nothing imported.`, 'Unlink it first if you want the imported grant instead.');
      }
      const id = existing?.id ?? uniqueId(suggestId(url, g.name), (x) => Boolean(d.servers[x]));
      d.clients[key] = record;
      if (g.clientSecret) d.secrets.clients[key] = { clientSecret: g.clientSecret };
      const rec: ServerRecord = {
        id,
        name: g.name ?? existing?.name ?? id,
        url,
        resource: disc.resource,
        ...(disc.resourceMetadataUrl ? { resourceMetadataUrl: disc.resourceMetadataUrl } : {}),
        issuer: disc.issuer,
        asMetadata: disc.asMetadata,
        clientKey: key,
        requestedScopes: scopes,
        flow: 'browser',
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        state: { status: 'ok' },
        grant: {
          scope: scopes,
          tokenType: 'Bearer',
          ...(g.expiresAt !== undefined ? { expiresAt: g.expiresAt } : {}),
          hasRefreshToken: Boolean(g.refreshToken),
          obtainedAt: now,
          refreshCount: 0,
        } as NonNullable<ServerRecord['grant']>,
        activity: appendActivity(existing?.activity ?? [], { at: now, kind: 'linked', detail: `imported from ${g.source}` }),
      };
      d.servers[id] = rec;
      d.secrets.tokens[id] = { accessToken: g.accessToken, ...(g.refreshToken ? { refreshToken: g.refreshToken } : {}) };
      return this.view(d, rec);
    });
    this.say(`Imported the grant for ${displayUrl(url)} from ${g.source} as "${view.id}".`);
    return view;
  }

  /** Binds the redirect listener first, so a dynamic registration can name its exact port. */
  private async bindListener(data: VaultData, disc: DiscoveryResult, opts: LinkOptions): Promise<LoopbackListener> {
    const reuse = opts.clientId ? undefined : findDynamicClient(data, disc.issuer, 'browser');
    const pinned = reuse ? pinnedPort(reuse.redirectUris) : undefined;
    if (pinned !== undefined) {
      try {
        return await startLoopback({ port: pinned });
      } catch {
        this.say(`Port ${pinned} of the earlier registration is busy; registering again with a new port.`);
      }
    }
    return startLoopback();
  }

  private async ensureClient(data: VaultData, disc: DiscoveryResult, flow: FlowKind, opts: LinkOptions, listener?: LoopbackListener): Promise<wire.ClientCredentials> {
    const as = disc.asMetadata;
    const now = this.d.clock.now();
    const grantTypes = flow === 'browser' ? ['authorization_code', 'refresh_token'] : ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'];
    const redirectUris = listener ? [listener.redirectUri] : [];
    if (opts.clientId) {
      const method = opts.clientSecret ? wire.pickSecretAuthMethod(as) : 'none';
      this.say(`Using the pre-registered client ${opts.clientId}.`);
      return {
        record: { key: `${disc.issuer}#${opts.clientId}`, issuer: disc.issuer, clientId: opts.clientId, method: 'pre-registered', tokenEndpointAuthMethod: method, redirectUris, grantTypes, registeredAt: now, hasSecret: Boolean(opts.clientSecret) },
        ...(opts.clientSecret ? { clientSecret: opts.clientSecret } : {}),
      };
    }
    if (opts.clientMetadataUrl) {
      if (as.client_id_metadata_document_supported === true) {
        const cimd = safeHttpUrl(opts.clientMetadataUrl, 'client metadata document URL');
        if (cimd.protocol !== 'https:' && !disc.issuer.startsWith('http:')) {
          throw new UserError('registration', 'A client metadata document URL must use https.', 'Host the document over https.');
        }
        this.say(`Using the client metadata document ${cimd.href} as client id.`);
        return { record: { key: `${disc.issuer}#${cimd.href}`, issuer: disc.issuer, clientId: cimd.href, method: 'metadata-document', tokenEndpointAuthMethod: 'none', redirectUris, grantTypes, registeredAt: now, hasSecret: false } };
      }
      this.say('The authorization server does not accept client metadata documents; falling back to dynamic registration.');
    }
    const reuse = findDynamicClient(data, disc.issuer, flow);
    if (reuse && (flow === 'device' || (listener && redirectMatches(reuse.redirectUris, listener)))) {
      this.say(`Reusing this app's registration at ${disc.issuer} (client ${reuse.clientId}).`);
      const secret = data.secrets.clients[reuse.key]?.clientSecret;
      return { record: reuse, ...(secret ? { clientSecret: secret } : {}) };
    }
    if (!as.registration_endpoint) {
      throw new UserError(
        'registration',
        `The authorization server ${disc.issuer} offers no dynamic registration${as.client_id_metadata_document_supported ? '' : ' and no client metadata documents'}, so this app cannot register itself.`,
        'Register an app with the provider and pass --client-id (and --client-secret-file for a confidential client).',
      );
    }
    return this.registerClient(disc, redirectUris, grantTypes);
  }

  /** Dynamic client registration, saved at once (a later failure must not cost a fresh registration). */
  private async registerClient(disc: DiscoveryResult, redirectUris: string[], grantTypes: string[], authMethod?: string): Promise<wire.ClientCredentials> {
    const as = disc.asMetadata;
    const now = this.d.clock.now();
    this.say(`Registering this app at ${displayUrl(String(as.registration_endpoint))} (dynamic client registration)…`);
    // No `scope` in the registration: some ASes then cap the client at those scopes, which
    // would make a later step-up (403 insufficient_scope) impossible without re-registering.
    const reg = await wire.registerDynamicClient(as, { redirectUris, grantTypes, ...(authMethod ? { authMethod } : {}) });
    const record: ClientRecord = {
      key: `${disc.issuer}#dcr:${reg.clientId}`,
      issuer: disc.issuer,
      clientId: reg.clientId,
      method: 'dynamic',
      tokenEndpointAuthMethod: reg.tokenEndpointAuthMethod,
      redirectUris: reg.redirectUris,
      grantTypes: reg.grantTypes,
      registeredAt: now,
      hasSecret: Boolean(reg.clientSecret),
    };
    await this.d.vault.update((d) => {
      d.clients[record.key] = record;
      if (reg.clientSecret || reg.registrationAccessToken) {
        d.secrets.clients[record.key] = {
          ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}),
          ...(reg.registrationAccessToken ? { registrationAccessToken: reg.registrationAccessToken } : {}),
        };
      }
    });
    return { record, ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}) };
  }

  /**
   * The AS refused this app's client credentials (invalid_client) while signing in: a dynamic
   * registration is replaced by one with another auth method, a pre-registered client with a
   * secret tries its other method. Undefined when there is nothing else to try.
   */
  private async clientRefused(err: unknown, creds: wire.ClientCredentials, disc: DiscoveryResult, flow: FlowKind, listener?: LoopbackListener): Promise<wire.ClientCredentials | undefined> {
    if (!(err instanceof wire.OAuthWireError) || err.oauthError !== 'invalid_client') return undefined;
    const rec = creds.record;
    const method = wire.alternateAuthMethod(disc.asMetadata, rec.tokenEndpointAuthMethod);
    if (!method) return undefined;
    if (rec.method === 'pre-registered') {
      if (!creds.clientSecret || method === 'none') return undefined;
      this.say(`${disc.issuer} refused the client credentials sent with ${rec.tokenEndpointAuthMethod} (${wire.describeOAuthError(err.cause)}); trying ${method} and asking for approval once more.`);
      return { ...creds, record: { ...rec, tokenEndpointAuthMethod: method } };
    }
    if (rec.method !== 'dynamic' || !disc.asMetadata.registration_endpoint) return undefined;
    this.say(`${disc.issuer} refused this app's registration (${wire.describeOAuthError(err.cause)}); registering again with ${method} and asking for approval once more.`);
    await this.d.vault.update((d) => forgetUnusedClient(d, rec.key));
    return this.registerClient(disc, listener ? [listener.redirectUri] : rec.redirectUris, rec.grantTypes, method);
  }

  private async browserFlow(config: ReturnType<typeof wire.makeConfig>, disc: DiscoveryResult, listener: LoopbackListener, opts: LinkOptions): Promise<wire.TokenResult> {
    const req = await wire.buildAuthorizationRequest(config, { redirectUri: listener.redirectUri, scopes: disc.scopes, resource: disc.resource });
    const timeoutMs = opts.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    const waiting = listener.wait(req.state, { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    waiting.catch(() => {}); // may reject (reused link) while the opener runs; awaited below
    if (opts.open === false) {
      this.say(`Open this URL in a browser to approve:\n  ${req.url.href}`);
    } else {
      // The browser gets a one-shot link on the listener, never the authorization URL itself:
      // a process's arguments are readable by every local user (/proc/*/cmdline).
      const start = listener.startUrl(req.url.href);
      this.say(`Opening your browser at ${displayUrl(req.url)}… (if nothing opens, visit:\n  ${start} )`);
      await this.d.opener.open(start).catch((err: Error) => this.say(`Could not open a browser (${err.message}); open the URL above yourself.`));
    }
    this.say(`Waiting for you to approve in the browser… (Ctrl-C to cancel, times out in ${Math.round(timeoutMs / 60_000) || 1} min)`);
    const cb = await waiting;
    try {
      wire.checkIss(cb.url, disc.asMetadata);
      const tokens = await wire.exchangeCode(config, cb.url, req, disc.resource);
      cb.finish(true);
      return tokens;
    } catch (err) {
      cb.finish(false);
      throw err;
    }
  }

  private async deviceFlow(config: ReturnType<typeof wire.makeConfig>, disc: DiscoveryResult, opts: LinkOptions): Promise<wire.TokenResult> {
    const r = await wire.startDeviceAuthorization(config, { scopes: disc.scopes, resource: disc.resource });
    const target = r.verification_uri_complete ?? r.verification_uri;
    this.say(`To approve, visit ${r.verification_uri} and enter the code ${r.user_code}`);
    if (r.verification_uri_complete) this.say(`  (or open ${r.verification_uri_complete})`);
    opts.onDeviceCode?.({
      userCode: r.user_code,
      verificationUri: r.verification_uri,
      ...(r.verification_uri_complete ? { verificationUriComplete: r.verification_uri_complete } : {}),
      expiresAt: this.d.clock.now() + (r.expires_in ?? 300) * 1000,
    });
    const timeoutMs = Math.min(opts.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS, (r.expires_in ?? 300) * 1000);
    // The code-carrying URL goes to the browser through a one-shot loopback link, as in the browser flow.
    const relay = opts.open !== false ? await startLoopback().catch(() => undefined) : undefined;
    try {
      if (opts.open !== false) await this.d.opener.open(relay ? relay.startUrl(target) : r.verification_uri).catch(() => {});
      this.say(`Waiting for the approval… (Ctrl-C to cancel, times out in ${Math.max(1, Math.round(timeoutMs / 60_000))} min)`);
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      return await wire.pollDevice(config, r, disc.resource, signal);
    } finally {
      await relay?.close();
    }
  }

  // ---------------------------------------------------------------- tokens

  /**
   * A token valid for at least `minValidityS`, refreshing if needed. Compare-and-refresh:
   * if another process already refreshed, its token is used and the AS is not called again.
   * Without a refresh token, a token that is still valid is handed out as it is.
   */
  async getToken(id: string, minValidityS = 60, refreshAheadS = 0): Promise<{ accessToken: string; expiresAt?: number }> {
    const data = await this.d.vault.read();
    const rec = this.find(data, id);
    const sec = data.secrets.tokens[rec.id];
    const now = this.d.clock.now();
    const minMs = (r: ServerRecord) => minValidityMs(minValidityS * 1000, refreshAheadS * 1000, tokenLifetimeMs(r.grant));
    if (rec.state.status === 'ok' && sec?.accessToken && !needsRefresh(rec.grant?.expiresAt, now, minMs(rec))) {
      return { accessToken: sec.accessToken, ...(rec.grant?.expiresAt !== undefined ? { expiresAt: rec.grant.expiresAt } : {}) };
    }
    const outcome = await this.refreshIf(rec.id, (r, s) => !s?.accessToken || needsRefresh(r.grant?.expiresAt, this.d.clock.now(), minMs(r)), 'expiry');
    const after = await this.d.vault.read();
    const r = after.servers[rec.id]!;
    const tok = after.secrets.tokens[rec.id];
    const expired = r.grant?.expiresAt !== undefined && r.grant.expiresAt <= this.d.clock.now();
    if (outcome === 'no-refresh-token' && tok?.accessToken && expired) {
      throw this.reauthError({ ...r, state: { status: 'needs-reauth', reason: 'expired', detail: 'The access token expired and this server gave no refresh token.' } });
    }
    if (!tok?.accessToken || r.state.status !== 'ok') throw this.reauthError(r);
    return { accessToken: tok.accessToken, ...(r.grant?.expiresAt !== undefined ? { expiresAt: r.grant.expiresAt } : {}) };
  }

  /**
   * The resource server answered 401 to `token`. Compare-and-refresh: one refresh per rejected
   * current token, whatever its age (servers drop live tokens on restarts and key rotations).
   * Only when the token obtained by that refresh is rejected too, or the AS refuses the refresh
   * token, is the server marked for re-authorization: at most one refresh per incident, no loop.
   */
  async reportRejected(id: string, token: string): Promise<{ accessToken: string; expiresAt?: number }> {
    const data = await this.d.vault.read();
    const rec = this.find(data, id);
    if (rec.state.status === 'needs-reauth') throw this.reauthError(rec);
    const cur = data.secrets.tokens[rec.id];
    const now = this.d.clock.now();
    const g = rec.grant;
    if (cur?.accessToken === token && g?.lastRefreshCause === 'rejected' && g.lastRefreshAt !== undefined && now - g.lastRefreshAt < REJECTED_AGAIN_WINDOW_MS) {
      await this.markNeedsReauth(rec.id, 'rejected', 'The server rejected the token obtained by refreshing after its previous rejection: it does not accept this grant.');
      throw this.reauthError((await this.d.vault.read()).servers[rec.id]!);
    }
    const outcome = await this.refreshIf(rec.id, (_r, s) => s?.accessToken === token, 'rejected');
    if (outcome === 'no-refresh-token') {
      await this.markNeedsReauth(rec.id, 'rejected', 'The server rejected the token, and it gave no refresh token to get another.');
    }
    const after = await this.d.vault.read();
    const r = after.servers[rec.id]!;
    const tok = after.secrets.tokens[rec.id];
    if (!tok?.accessToken || r.state.status !== 'ok' || tok.accessToken === token) {
      if (r.state.status === 'ok') await this.markNeedsReauth(rec.id, 'rejected', 'The server rejected the token and no newer one could be obtained.');
      throw this.reauthError((await this.d.vault.read()).servers[rec.id]!);
    }
    return { accessToken: tok.accessToken, ...(r.grant?.expiresAt !== undefined ? { expiresAt: r.grant.expiresAt } : {}) };
  }

  /**
   * Refresh now (`mcp-tokens refresh`). A grant without a refresh token is left as it is, with a
   * note saying until when its token is valid.
   */
  async refresh(id: string): Promise<ServerView & { note?: string }> {
    const data = await this.d.vault.read();
    const rec = this.find(data, id);
    const before = data.secrets.tokens[rec.id]?.accessToken;
    const outcome = await this.refreshIf(rec.id, (_r, s) => s?.accessToken === before, 'manual');
    const view = await this.status(rec.id);
    if (outcome !== 'no-refresh-token') return view;
    const exp = rec.grant?.expiresAt;
    if (exp !== undefined && exp <= this.d.clock.now()) {
      throw new UserError('needs-reauth', `'${rec.name}' gave no refresh token, and its access token expired at ${new Date(exp).toISOString()}.`, `Re-authorize it: mcp-tokens link ${rec.url}`);
    }
    const until = exp !== undefined ? `is valid until ${new Date(exp).toISOString()}` : 'has no stated expiry';
    return { ...view, note: `This server gave no refresh token; the current token ${until}; re-authorize after that (mcp-tokens link ${rec.url}).` };
  }

  /**
   * Refreshes when `stillNeeded` holds on the freshest data. No network under the vault lock:
   * the intent is recorded under the lock, the AS is called without it, and the answer is
   * written under the lock only if the refresh token used is still the stored one
   * (compare-and-swap). A rotated refresh token is saved before any token is handed out.
   */
  private async refreshIf(id: string, stillNeeded: (r: ServerRecord, s: TokenSecrets | undefined) => boolean, cause: RefreshCause): Promise<RefreshOutcome> {
    const opId = randomUUID();
    let plan: { refreshToken: string; config: ReturnType<typeof wire.makeConfig>; resource: string } | undefined;
    // Phase 1, under the lock: decide, and record the intent (a crash after the AS's answer is reported next start).
    for (let round = 0; ; round++) {
      const step = await this.d.vault.update((d): RefreshOutcome | 'wait' | 'go' => {
        const r = d.servers[id];
        if (!r) throw new UserError('not-found', `No linked server "${id}".`);
        if (r.state.status === 'needs-reauth') throw this.reauthError(r);
        const sec = d.secrets.tokens[id];
        if (!stillNeeded(r, sec)) return 'not-needed';
        if (!sec?.refreshToken) return 'no-refresh-token';
        const now = this.d.clock.now();
        // Another live process (a CLI without a broker) is refreshing this grant: wait for its answer.
        if (round < OTHER_REFRESH_ROUNDS && d.pending.some((p) => p.op === 'refresh' && p.serverId === id && p.pid !== process.pid && now - p.startedAt < OTHER_REFRESH_WAIT_MS && !isPidDead(p.pid))) return 'wait';
        const client = d.clients[r.clientKey];
        if (!client) {
          r.state = { status: 'needs-reauth', reason: 'rejected', detail: 'The client registration is missing.' };
          return 'not-needed';
        }
        const secret = d.secrets.clients[client.key]?.clientSecret;
        plan = { refreshToken: sec.refreshToken, config: wire.makeConfig(r.asMetadata, { record: client, ...(secret ? { clientSecret: secret } : {}) }), resource: r.resource };
        d.pending.push({ id: opId, op: 'refresh', serverId: id, startedAt: now, pid: process.pid });
        return 'go';
      });
      if (step === 'go') break;
      if (step !== 'wait') {
        if (step === 'not-needed') {
          const r = (await this.d.vault.read()).servers[id];
          if (r?.state.status === 'needs-reauth') throw this.reauthError(r);
        }
        return step;
      }
      await this.waitForOtherRefresh(id);
    }
    const { refreshToken, config, resource } = plan!;
    // Phase 2, without the lock: the token endpoint (bounded by the wire's own timeout).
    let result: wire.TokenResult | undefined;
    let failure: wire.OAuthWireError | undefined;
    try {
      result = await wire.refresh(config, refreshToken, resource);
    } catch (err) {
      failure = wire.wireError(err, 'refreshing the token');
    }
    // Phase 3, under the lock: compare-and-swap, then clear the intent.
    await this.d.vault.update((d) => {
      d.pending = d.pending.filter((p) => p.id !== opId);
      const r = d.servers[id];
      const sec = d.secrets.tokens[id];
      // Re-linked, revoked or unlinked meanwhile: what is stored now wins.
      if (!r || sec?.refreshToken !== refreshToken) {
        this.d.logger.log('warn', `the grant of ${id} changed while refreshing; the answer was not used`);
        return;
      }
      const now = this.d.clock.now();
      if (result) {
        // Keep the old refresh token when the AS does not rotate it.
        d.secrets.tokens[id] = { accessToken: result.accessToken, refreshToken: result.refreshToken ?? refreshToken, ...(result.idToken ? { idToken: result.idToken } : {}) };
        const g = grantFrom(result, r.grant?.scope ?? r.requestedScopes, now, (r.grant?.refreshCount ?? 0) + 1);
        g.hasRefreshToken = true;
        g.lastRefreshAt = now;
        g.lastRefreshCause = cause;
        g.obtainedAt = r.grant?.obtainedAt ?? now;
        r.grant = g;
        r.state = { status: 'ok' };
        r.updatedAt = now;
        r.activity = appendActivity(r.activity, { at: now, kind: 'refreshed', ...(cause === 'rejected' ? { detail: 'the server rejected the previous token' } : {}) });
        return;
      }
      const e = failure!;
      if (e.kind === 'dead-grant') {
        r.state = { status: 'needs-reauth', reason: e.oauthError === 'invalid_grant' ? 'expired' : 'rejected', detail: e.message };
      } else {
        r.state = { ...r.state, lastError: { at: now, message: e.message } };
      }
      r.activity = appendActivity(r.activity, { at: now, kind: 'refresh-failed', detail: e.message });
    }).catch((err: unknown) => {
      if (result && err instanceof VaultWriteError) {
        throw new UserError(
          'vault',
          `The authorization server issued new tokens for "${id}", but they could not be saved: ${err.message}`,
          'The previous grant is still in the vault. If the next refresh is refused (the server may have rotated the refresh token), re-authorize this server.',
          { cause: err },
        );
      }
      throw err;
    });
    if (failure) {
      if (failure.kind === 'dead-grant') {
        const d = await this.d.vault.read();
        if (d.servers[id]) throw this.reauthError(d.servers[id]);
      }
      throw failure;
    }
    return 'refreshed';
  }

  /** Waits (bounded) until another process's recorded refresh of this grant has finished. */
  private async waitForOtherRefresh(id: string): Promise<void> {
    const deadline = Date.now() + OTHER_REFRESH_WAIT_MS;
    while (Date.now() < deadline) {
      const d = await this.d.vault.read();
      if (!d.pending.some((p) => p.op === 'refresh' && p.serverId === id && p.pid !== process.pid && !isPidDead(p.pid))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Marks a server as needing re-authorization (e.g. the resource server rejected a fresh token). */
  async markNeedsReauth(id: string, reason: NeedsReauthReason, detail: string): Promise<void> {
    await this.d.vault.update((d) => {
      const r = d.servers[id];
      if (!r) return;
      if (r.state.status !== 'needs-reauth') r.activity = appendActivity(r.activity, { at: this.d.clock.now(), kind: 'rejected', detail });
      r.state = { status: 'needs-reauth', reason, detail };
      r.updatedAt = this.d.clock.now();
    });
  }

  reauthError(r: ServerRecord): UserError {
    const why = r.state.reason === 'revoked' ? 'was revoked' : r.state.reason === 'more-scope' ? 'needs more permissions' : r.state.reason === 'rejected' ? 'is no longer accepted by the server' : 'has expired';
    return new UserError('needs-reauth', `Sign-in for '${r.name}' ${why}: re-authorize it in MCP Token Manager (tray → Re-authorize) or run \`mcp-tokens link ${r.url}\`.`, r.state.detail);
  }

  // ---------------------------------------------------------------- revoke / unlink

  /**
   * Signs out: asks the AS to revoke (RFC 7009), then deletes the tokens here whatever it
   * answered. A refusal or an AS that cannot be reached is reported (`note`, `asAnswer`), not
   * fatal: the tokens then stay valid there until they expire.
   */
  async revoke(id: string): Promise<RevokeOutcome> {
    const data = await this.d.vault.read();
    const rec = this.find(data, id);
    const sec = data.secrets.tokens[rec.id];
    const revoked: RevokeOutcome['revokedAtAs'] = [];
    let note: string | undefined;
    let asAnswer: string | undefined;
    const until = rec.grant?.expiresAt ? ` (the access token until ${new Date(rec.grant.expiresAt).toISOString()})` : '';
    if (sec) {
      const client = data.clients[rec.clientKey];
      if (rec.asMetadata.revocation_endpoint && client) {
        const secret = data.secrets.clients[client.key]?.clientSecret;
        const config = wire.makeConfig(rec.asMetadata, { record: client, ...(secret ? { clientSecret: secret } : {}) });
        // Refresh token first: revoking it usually kills the whole grant (RFC 7009 §2.1).
        const todo: Array<[string, 'refresh_token' | 'access_token']> = sec.refreshToken ? [[sec.refreshToken, 'refresh_token'], [sec.accessToken, 'access_token']] : [[sec.accessToken, 'access_token']];
        for (const [token, hint] of todo) {
          try {
            await wire.revoke(config, token, hint);
            revoked.push(hint);
          } catch (err) {
            asAnswer ??= wire.revocationAnswer(err);
            // An AS that cannot be reached is not asked a second time.
            if (err instanceof wire.OAuthWireError && err.kind === 'transient') break;
          }
        }
        if (revoked.length) this.say(`Revoked the ${revoked.map((r) => r.replace('_', ' ')).join(' and ')} at ${rec.issuer}.`);
        if (asAnswer !== undefined) {
          note = `The authorization server ${rec.issuer} did not confirm the revocation: ${asAnswer}. The tokens were deleted here, but the grant may stay valid there${until}. Revoke the app in the provider's account settings to end it.`;
          this.say(note);
        }
      } else {
        const why = client ? 'has no revocation endpoint' : 'cannot be asked (the client registration is missing)';
        note = `The authorization server ${rec.issuer} ${why}: the tokens were deleted here, but the grant stays valid there${until}. Revoke the app in the provider's account settings to end it.`;
        this.say(note);
      }
    } else {
      note = 'No tokens were stored for this server; nothing to revoke.';
      this.say(note);
    }
    const now = this.d.clock.now();
    const view = await this.d.vault.update((d) => {
      const r = d.servers[rec.id];
      if (!r) throw new UserError('not-found', `No linked server "${rec.id}".`);
      delete d.secrets.tokens[rec.id];
      r.state = { status: 'needs-reauth', reason: 'revoked', detail: 'Revoked by you.' };
      if (r.grant) r.grant = { ...r.grant, hasRefreshToken: false };
      r.updatedAt = now;
      const detail = asAnswer !== undefined ? 'deleted here; the authorization server did not confirm' : note && sec ? 'no revocation endpoint' : undefined;
      r.activity = appendActivity(r.activity, { at: now, kind: 'revoked', ...(detail ? { detail } : {}) });
      return this.view(d, r);
    });
    return { view, revokedAtAs: revoked, ...(note ? { note } : {}), ...(asAnswer !== undefined ? { asAnswer } : {}) };
  }

  /** Revokes (see `revoke`: never fails on the AS's account), then forgets the server. */
  async unlink(id: string): Promise<{ id: string; revokedAtAs: RevokeOutcome['revokedAtAs']; note?: string; asAnswer?: string }> {
    const data = await this.d.vault.read();
    const rec = this.find(data, id);
    const out: Omit<RevokeOutcome, 'view'> = data.secrets.tokens[rec.id] ? await this.revoke(rec.id) : { revokedAtAs: [] };
    await this.d.vault.update((d) => {
      const r = d.servers[rec.id];
      if (!r) return;
      delete d.servers[rec.id];
      delete d.secrets.tokens[rec.id];
      if (d.secrets.headers) delete d.secrets.headers[rec.id];
      // Forget the registration when no other linked server uses it.
      if (!Object.values(d.servers).some((s) => s.clientKey === r.clientKey)) {
        delete d.clients[r.clientKey];
        delete d.secrets.clients[r.clientKey];
      }
    });
    this.say(`Unlinked "${rec.id}".`);
    return { id: rec.id, revokedAtAs: out.revokedAtAs, ...(out.note ? { note: out.note } : {}), ...(out.asAnswer !== undefined ? { asAnswer: out.asAnswer } : {}) };
  }
}

// ------------------------------------------------------------------ helpers

export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UserError('usage', `"${raw.slice(0, 200)}" is not a URL.`, 'Give the full server URL, e.g. https://mcp.example.com/mcp');
  }
  u.hash = '';
  return u.href;
}

/** The server's own name from its resource metadata (RFC 9728 resource_name), when it gives one. */
function resourceName(disc: DiscoveryResult): string | undefined {
  const n = disc.resourceMetadata?.resource_name;
  return typeof n === 'string' && n.trim() ? n.trim().slice(0, 100) : undefined;
}

function chooseFlow(disc: DiscoveryResult, wanted?: FlowKind): FlowKind {
  const as = disc.asMetadata;
  const hasCode = Boolean(as.authorization_endpoint);
  const hasDevice = Boolean(as.device_authorization_endpoint);
  if (wanted === 'device') {
    if (!hasDevice) throw new UserError('authorization', `The authorization server ${disc.issuer} does not offer the device flow.`, 'Use --flow browser.');
    return 'device';
  }
  if (wanted === 'browser') {
    if (!hasCode) throw new UserError('authorization', `The authorization server ${disc.issuer} offers no browser sign-in (no authorization endpoint).`, hasDevice ? 'Use --flow device.' : undefined);
    return 'browser';
  }
  if (hasCode) return 'browser';
  if (hasDevice) return 'device';
  throw new UserError('authorization', `The authorization server ${disc.issuer} offers neither browser sign-in nor the device flow.`);
}

function findDynamicClient(data: VaultData, issuer: string, flow: FlowKind): ClientRecord | undefined {
  const grant = flow === 'browser' ? 'authorization_code' : 'urn:ietf:params:oauth:grant-type:device_code';
  return Object.values(data.clients)
    .filter((c) => c.issuer === issuer && c.method === 'dynamic' && c.grantTypes.includes(grant))
    .sort((a, b) => b.registeredAt - a.registeredAt)[0];
}

/** Drops a client registration no linked server (other than `except`) uses any more. */
function forgetUnusedClient(d: VaultData, key: string, except?: string): void {
  if (Object.values(d.servers).some((s) => s.clientKey === key && s.id !== except)) return;
  delete d.clients[key];
  delete d.secrets.clients[key];
}

function pinnedPort(uris: string[]): number | undefined {
  for (const u of uris) {
    try {
      const p = new URL(u).port;
      if (p) return Number(p);
    } catch {
      // ignore unparsable stored URIs
    }
  }
  return undefined;
}

function redirectMatches(uris: string[], l: LoopbackListener): boolean {
  return uris.includes(l.redirectUri);
}

function grantFrom(t: wire.TokenResult, requested: string[], now: number, refreshCount: number) {
  return {
    scope: t.scope !== undefined ? t.scope.split(/\s+/).filter(Boolean) : requested,
    tokenType: t.tokenType,
    ...(t.expiresIn !== undefined ? { expiresAt: now + t.expiresIn * 1000 } : {}),
    hasRefreshToken: Boolean(t.refreshToken),
    obtainedAt: now,
    refreshCount,
  } as NonNullable<ServerRecord['grant']>;
}

function secretTokens(t: wire.TokenResult) {
  return { accessToken: t.accessToken, ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}), ...(t.idToken ? { idToken: t.idToken } : {}) };
}

function appendActivity(list: ActivityEntry[], e: ActivityEntry): ActivityEntry[] {
  return [...list, e].filter((x) => e.at - x.at <= ACTIVITY_KEEP_MS).slice(-MAX_ACTIVITY);
}
