// The broker: the one owner of tokens. It serializes work per server (single flight),
// backs off when the AS is unavailable, and never loops on a dead grant.
import { UserError } from '../platform/errors.js';
import type { Manager, ServerView } from '../manager/manager.js';
import { normalizeUrl } from '../manager/manager.js';
import { OAuthWireError } from '../oauth/oauth.js';
import type { Clock, Logger } from '../platform/services.js';
import type { DpopSigner } from '../oauth/dpop.js';
import type { BrokerEvent, SignProofParams, TokenGrant } from './protocol.js';

export interface BrokerDeps {
  manager: Manager;
  clock: Clock;
  logger: Logger;
  /** A cheap fingerprint of the vault file, to notice other processes' writes. */
  vaultStamp: () => Promise<string>;
  /** The "refresh ahead" setting, in seconds (the app's settings; headless: none). */
  refreshAheadS?: () => Promise<number>;
  /** First and maximum delay after a transient AS failure. */
  backoff?: { firstMs: number; maxMs: number };
  /**
   * How long a bridge's token request waits for a slow token endpoint before it gets an error
   * (the refresh itself carries on, and the next request gets its result). Default 8 s, so a
   * call fails within the 10 s an MCP client waits, never hangs.
   */
  tokenWaitMs?: number;
  /**
   * Asks the person before a bridge links an unknown server (the app's consent card). Without
   * it (headless daemon) the browser opens directly, as `mcp-tokens link` would.
   */
  confirmLink?: (url: string, requestedBy: string) => Promise<{ approve: boolean; flow?: 'browser' | 'device'; name?: string }>;
  /** A bridge learnt its client's name after asking to link `url` (a late initialize): the consent card takes it. */
  onClientNamed?: (url: string, client: string) => void;
}

interface Backoff {
  until: number;
  delayMs: number;
  message: string;
  name: string;
}

/**
 * A transient failure of the AS (network, timeout, 5xx, 429) in the words a client shows: the
 * grant is kept and the broker retries, so nothing here says "re-authorize".
 */
function unreachable(name: string, inMs: number, detail: string): UserError {
  return new UserError('network', `The authorization server of '${name}' is unreachable; retrying in ${Math.max(1, Math.ceil(inMs / 1000))} s (the sign-in is kept). ${detail}`, 'Nothing was lost; calls resume when the authorization server answers.');
}

const POLL_MS = 300;
const DEFAULT_TOKEN_WAIT_MS = 8_000;
/** At most one automatic sign-in per server in this window after an AS migration. */
const AUTO_RELINK_WINDOW_MS = 5 * 60_000;
/** Step-up sign-ins the person is asked for, per server per hour; then a clear error instead. */
export const STEP_UP_PROMPTS_PER_HOUR = 3;
const HOUR_MS = 60 * 60_000;

export class Broker {
  private readonly d: BrokerDeps;
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly links = new Map<string, Promise<ServerView>>();
  private readonly autoRelinks = new Map<string, number>();
  private readonly stepUpPrompts = new Map<string, number[]>();
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly lastStatus = new Map<string, string>();
  private readonly usesNoted = new Map<string, number>();
  private watchTimer: NodeJS.Timeout | undefined;
  /** Signers of DPoP-bound grants, by the name a bridge uses, valid while the vault is unchanged. */
  private readonly signers = new Map<string, { stamp: string; name: string; bound?: { signer: DpopSigner; origin: string } }>();
  /** The latest DPoP-Nonce each MCP server origin gave (RFC 9449 §9); the AS's live in the token handles. */
  private readonly rsNonces = new Map<string, string>();
  private lastStamp = '';

  constructor(deps: BrokerDeps) {
    this.d = deps;
  }

  /** Runs fn after every earlier op on the same server: one refresh at a time per grant. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.chains.set(key, next);
    void next.catch(() => {}).finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async idOf(server: string): Promise<ServerView> {
    const v = await this.d.manager.lookup(server);
    if (!v) throw new UserError('not-found', `No linked server "${server}".`, 'Link it with `mcp-tokens link <url>`, or start the bridge with its URL.');
    return v;
  }

  private checkBackoff(id: string) {
    const b = this.backoffs.get(id);
    const now = this.d.clock.now();
    if (b && now < b.until) throw unreachable(b.name, b.until - now, b.message);
  }

  private async guarded(v: ServerView, op: () => Promise<TokenGrant>): Promise<TokenGrant> {
    const id = v.id;
    try {
      const r = await op();
      this.backoffs.delete(id);
      return r;
    } catch (err) {
      if (err instanceof OAuthWireError && err.kind === 'transient') {
        const prev = this.backoffs.get(id);
        const bo = this.d.backoff ?? { firstMs: 1000, maxMs: 30_000 };
        const delayMs = prev ? Math.min(prev.delayMs * 2, bo.maxMs) : bo.firstMs;
        this.backoffs.set(id, { until: this.d.clock.now() + delayMs, delayMs, message: err.message, name: v.name });
        this.d.logger.log('warn', `refresh of ${id} failed transiently; backing off ${delayMs} ms`);
        throw unreachable(v.name, delayMs, err.message);
      }
      throw err;
    } finally {
      void this.emitIfChanged(id);
    }
  }

  async getToken(server: string, minValiditySeconds: number, client?: string): Promise<TokenGrant> {
    const v = await this.idOf(server);
    if (client) void this.noteUse(v.id, client);
    const work = this.serial(v.id, async () => {
      if (this.backoffs.has(v.id)) {
        // While backing off, a still-valid token is fine; only a refresh must wait.
        try {
          this.checkBackoff(v.id);
        } catch (err) {
          const still = await this.d.manager.peekToken(v.id).catch(() => undefined);
          if (still) return still;
          throw err;
        }
      }
      const ahead = (await this.d.refreshAheadS?.().catch(() => 0)) ?? 0;
      return this.guarded(v, () => this.d.manager.getToken(v.id, minValiditySeconds, ahead));
    });
    return this.bounded(v, work);
  }

  /** Waits for `work` at most tokenWaitMs; then a still-valid current token, else a clear error. */
  private async bounded(v: ServerView, work: Promise<TokenGrant>): Promise<TokenGrant> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.d.tokenWaitMs ?? DEFAULT_TOKEN_WAIT_MS)));
    try {
      const first = await Promise.race([work, late]);
      if (first !== 'late') return first;
    } finally {
      clearTimeout(timer);
    }
    void work.catch(() => {});
    // Only a look at the vault: a refresh started here would run beside the slow one.
    const still = await this.d.manager.peekToken(v.id).catch(() => undefined);
    if (still) return still;
    throw new UserError('network', `The authorization server of '${v.name}' is slow to answer the token refresh; retrying (the sign-in is kept).`, 'Nothing was lost; the refresh carries on, and calls resume when it answers.');
  }

  async reportRejected(server: string, token: string, dpopRefused?: boolean): Promise<TokenGrant> {
    const v = await this.idOf(server);
    try {
      return await this.reportRejectedOnce(v, token);
    } catch (err) {
      if (!dpopRefused || !(err instanceof UserError && err.code === 'needs-reauth')) throw err;
      // Only when the server's refusals ended the grant; an expired or revoked one says so itself.
      if ((await this.d.manager.lookup(v.id))?.reason !== 'rejected') throw err;
      // The grant failed because the server does not take DPoP-bound tokens: say so where the
      // person looks (status, the app), with the way out.
      const why = `'${v.name}' does not accept DPoP-bound tokens (it refused the token and challenges only with Bearer).`;
      const todo = `Link it again with DPoP off: mcp-tokens link ${v.url} --dpop off`;
      await this.d.manager.markNeedsReauth(v.id, 'rejected', `${why} ${todo}.`).catch(() => {});
      void this.emitIfChanged(v.id);
      throw new UserError('needs-reauth', why, todo);
    }
  }

  private async reportRejectedOnce(v: ServerView, token: string): Promise<TokenGrant> {
    try {
      const work = this.serial(v.id, async () => {
        this.checkBackoff(v.id);
        return this.guarded(v, () => this.d.manager.reportRejected(v.id, token));
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.d.tokenWaitMs ?? DEFAULT_TOKEN_WAIT_MS)));
      const first = await Promise.race([work, late]).finally(() => clearTimeout(timer));
      if (first === 'late') {
        void work.catch(() => {});
        throw new UserError('network', `The authorization server of '${v.name}' is slow to answer the token refresh; retrying (the sign-in is kept).`, 'Nothing was lost; the refresh carries on, and calls resume when it answers.');
      }
      return first;
    } catch (err) {
      if (!(err instanceof UserError && err.code === 'needs-reauth') || !(await this.asMoved(v))) throw err;
      // The server now names another authorization server: the old grant can never work
      // again, so sign in there (a new registration, keyed by the new issuer) once.
      this.d.logger.log('info', `${v.id}: the authorization server changed from ${v.issuer}; signing in again`);
      this.autoRelinks.set(v.id, this.d.clock.now());
      let flow: 'browser' | 'device' | undefined;
      if (this.d.confirmLink) {
        // In the app the person sees the new AS on a consent card first.
        const answer = await this.d.confirmLink(v.url, `'${v.name}' moved to a new authorization server`);
        if (!answer.approve) throw err;
        flow = answer.flow;
      }
      await this.linkOnce(v.url, { name: v.name, ...(flow ? { flow } : {}) });
      return this.getToken(v.id, 0);
    }
  }

  /** "Last used by": recorded at most once a minute per server and client (a vault write each). */
  private async noteUse(id: string, client: string): Promise<void> {
    const key = `${id}\n${client}`;
    const now = this.d.clock.now();
    const last = this.usesNoted.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.usesNoted.set(key, now);
    try {
      await this.d.manager.recordUse(id, client);
      void this.emitIfChanged(id);
    } catch (err) {
      this.d.logger.log('warn', `could not record that ${client} used ${id}: ${String(err)}`);
    }
  }

  /** Whether the server's resource metadata now names another AS (bounded: once per window). */
  private async asMoved(v: ServerView): Promise<boolean> {
    const last = this.autoRelinks.get(v.id);
    if (last !== undefined && this.d.clock.now() - last < AUTO_RELINK_WINDOW_MS) return false;
    try {
      const p = await this.d.manager.preview(v.url);
      return p.issuer !== v.issuer;
    } catch {
      return false;
    }
  }

  /** Resolves with a token once the person has re-authorized (in the app or with `link`), bounded. */
  async waitForReauth(server: string, timeoutMs: number): Promise<TokenGrant> {
    const deadline = this.d.clock.now() + timeoutMs;
    const v = await this.idOf(server);
    for (let i = 0; i < 10_000; i++) {
      const cur = await this.d.manager.lookup(v.id);
      if (cur && cur.status !== 'needs-reauth') {
        try {
          return await this.getToken(v.id, 0);
        } catch {
          // not yet usable; keep waiting
        }
      }
      if (this.d.clock.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - this.d.clock.now()))));
    }
    throw new UserError('timeout', `'${v.name}' was not re-authorized within ${Math.round(timeoutMs / 1000)} s.`, `Run \`mcp-tokens link ${v.url}\`.`);
  }

  /** Step-up (403 insufficient_scope): re-authorize with the union of granted and required scopes. */
  async stepUp(server: string, scopes: string[]): Promise<TokenGrant> {
    const v = await this.idOf(server);
    const union = [...new Set([...v.scopes, ...scopes])];
    // Joining a sign-in already on screen costs nothing; a new prompt spends the hour's budget,
    // so a server that asks for a new scope on every call cannot keep opening the browser.
    if (!this.links.has(normalizeUrl(v.url))) {
      const now = this.d.clock.now();
      const recent = (this.stepUpPrompts.get(v.id) ?? []).filter((t) => now - t < HOUR_MS);
      if (recent.length >= STEP_UP_PROMPTS_PER_HOUR) {
        this.d.logger.log('warn', `step-up for ${v.id} refused: ${recent.length} prompts within the hour`);
        throw new UserError(
          'denied',
          `'${v.name}' asked for more permissions ${recent.length} times within an hour; not asking again for now (it wanted: ${scopes.join(' ')}).`,
          `If you want to grant them, run \`mcp-tokens link ${v.url} --scope "${union.join(' ')}"\`; the current grant keeps working.`,
        );
      }
      recent.push(now);
      this.stepUpPrompts.set(v.id, recent);
    }
    this.d.logger.log('info', `step-up for ${v.id}: requesting ${union.join(' ')}`);
    // The grant stays valid for the scopes it has while the person decides, and a "no" leaves
    // it as it was: only this call fails. (Marking it needs-reauth first killed it for every client.)
    await this.linkOnce(v.url, { name: v.name, scopes: union });
    return this.getToken(v.id, 0);
  }

  /** Links a URL (bridge by URL); concurrent requests for one URL share one flow. */
  async link(url: string, name?: string, requestedBy = 'An MCP client'): Promise<ServerView> {
    const existing = await this.d.manager.lookup(url);
    if (existing && existing.status !== 'needs-reauth') return existing;
    let flow: 'browser' | 'device' | undefined;
    if (this.d.confirmLink) {
      const answer = await this.d.confirmLink(normalizeUrl(url), requestedBy);
      if (!answer.approve) throw new UserError('denied', `Linking ${url} was declined in MCP Token Manager.`, 'Approve it in the app, or run `mcp-tokens link <url>`.');
      flow = answer.flow;
      name ??= answer.name;
    }
    return this.linkOnce(url, { ...(name ? { name } : {}), ...(flow ? { flow } : {}) });
  }

  /** The client's name arrived after its bridge asked to link `url`: passed on to whoever asks the person. */
  nameClient(url: string, client: string): void {
    let key: string;
    try {
      key = normalizeUrl(url);
    } catch {
      return;
    }
    this.d.onClientNamed?.(key, client);
  }

  /** Refresh now, in line with the bridges' own requests for this server. */
  async refreshNow(server: string): Promise<ServerView & { note?: string }> {
    const v = await this.idOf(server);
    const out = await this.serial(v.id, () => this.d.manager.refresh(v.id));
    this.backoffs.delete(v.id);
    void this.emitIfChanged(v.id);
    return out;
  }

  private linkOnce(url: string, opts: { name?: string; scopes?: string[]; flow?: 'browser' | 'device' }): Promise<ServerView> {
    const key = normalizeUrl(url);
    let p = this.links.get(key);
    if (!p) {
      p = this.d.manager.link(key, opts).finally(() => this.links.delete(key));
      this.links.set(key, p);
      void p.then((v) => this.emitIfChanged(v.id)).catch(() => {});
    }
    return p;
  }

  /**
   * A DPoP proof for one request of a bridge (RFC 9449 §4.2): only for the grant's own server
   * origin, never with the key leaving this process. One stat of the vault and one signature
   * when nothing changed; the key is imported again only after the vault was written.
   */
  async signProof(p: SignProofParams): Promise<{ proof: string }> {
    const stamp = await this.d.vaultStamp();
    let e = this.signers.get(p.server);
    if (!e || e.stamp !== stamp) {
      e = { stamp, ...(await this.d.manager.dpopSigner(p.server)) };
      if (this.signers.size >= 100) this.signers.clear();
      this.signers.set(p.server, e);
    }
    if (!e.bound) throw new UserError('denied', `The grant of '${e.name}' is not DPoP-bound: there is no proof to sign.`, 'Send its token as a bearer token.');
    const target = new URL(p.htu);
    if (target.origin !== e.bound.origin) {
      this.d.logger.log('warn', `refused a DPoP proof for ${target.origin}: the grant of ${e.name} is for ${e.bound.origin}`);
      throw new UserError('denied', `Refused to sign a DPoP proof for ${target.origin}: the grant of '${e.name}' is only for ${e.bound.origin}.`);
    }
    if (p.nonce) {
      if (this.rsNonces.size >= 1000 && !this.rsNonces.has(target.origin)) this.rsNonces.clear();
      this.rsNonces.set(target.origin, p.nonce);
    }
    const nonce = this.rsNonces.get(target.origin);
    return { proof: e.bound.signer.proof({ htm: p.htm, htu: p.htu, ath: p.ath, ...(nonce ? { nonce } : {}) }) };
  }

  async resolve(server: string): Promise<ServerView | null> {
    return (await this.d.manager.lookup(server)) ?? null;
  }

  async headers(server: string): Promise<Array<{ name: string; value: string }>> {
    return this.d.manager.headersFor(server);
  }

  async status(): Promise<ServerView[]> {
    return this.d.manager.list();
  }

  // ------------------------------------------------------------ events

  subscribe(fn: (e: BrokerEvent) => void): () => void {
    this.listeners.add(fn);
    this.ensureWatch();
    return () => {
      this.listeners.delete(fn);
      if (!this.listeners.size && this.watchTimer) {
        clearInterval(this.watchTimer);
        this.watchTimer = undefined;
      }
    };
  }

  private ensureWatch() {
    if (this.watchTimer) return;
    // Other processes (the CLI) write the vault too; a stat per tick notices it.
    this.watchTimer = setInterval(() => {
      void this.d.vaultStamp().then(async (s) => {
        if (s === this.lastStamp) return;
        this.lastStamp = s;
        for (const v of await this.d.manager.list()) this.emitView(v);
      }).catch(() => {});
    }, 1000);
    this.watchTimer.unref();
  }

  private async emitIfChanged(id: string) {
    if (!this.listeners.size) return;
    const v = await this.d.manager.lookup(id).catch(() => undefined);
    if (v) this.emitView(v);
  }

  private emitView(v: ServerView) {
    const key = `${v.status}|${v.reason ?? ''}|${v.expiresAt ?? ''}|${v.lastRefreshAt ?? ''}|${v.lastUsed?.client ?? ''}|${v.lastUsed?.at ?? ''}`;
    if (this.lastStatus.get(v.id) === key) return;
    this.lastStatus.set(v.id, key);
    for (const l of this.listeners) l({ event: 'status', server: v });
  }

  close() {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.listeners.clear();
  }

  /** Whether a refresh or a link is in flight. */
  get busy(): boolean {
    return this.chains.size > 0 || this.links.size > 0;
  }

  /** Waits (bounded) for the work in flight, so a refresh the AS answered is saved before exit. */
  async drain(timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.chains.values(), ...this.links.values()]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
