// The fetch the remote transports use: adds the bearer token for the server's own origin only,
// refreshes once on 401 and asks the person for more scope on 403 insufficient_scope.
// The SDK's authProvider is not used: only the broker may refresh or run flows.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { authParams, challengeSchemes, dpopParams } from '../core/oauth/challenge.js';
import { headerRecord } from './http-fetch.js';
import { BridgeAuthError, type TokenSource } from './token-source.js';

export type BridgeLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type BridgeLog = (level: BridgeLogLevel, msg: string) => void;

/** Seconds a token must stay valid when handed to a request. */
const MIN_VALIDITY_SECONDS = 60;

export function reauthMessage(displayName: string, serverUrl: string): string {
  return `Sign-in for '${displayName}' has expired or was revoked: re-authorize it in MCP Token Manager (tray → Re-authorize) or run \`mcp-tokens link ${serverUrl}\`.`;
}

export function linkMessage(displayName: string, serverUrl: string): string {
  return `'${displayName}' now asks for authorization: link it in MCP Token Manager or run \`mcp-tokens link ${serverUrl}\`.`;
}

export function dpopRefusedMessage(displayName: string, serverUrl: string): string {
  return `'${displayName}' does not accept DPoP-bound tokens (it refused the token and challenges only with Bearer), although its authorization server issues them: link it again with \`mcp-tokens link ${serverUrl} --dpop off\`.`;
}

export function scopeMessage(displayName: string, serverUrl: string, scopes: string[]): string {
  return `'${displayName}' needs permission that was not granted (scope: ${scopes.join(' ')}): re-authorize it in MCP Token Manager (tray → Re-authorize) or run \`mcp-tokens link ${serverUrl}\`.`;
}

/**
 * Step-ups for one bridge's lifetime: at most `max` per distinct scope set, and one at a time per
 * set, so concurrent 403s share a single approval in the browser.
 */
export class StepUpBudget {
  private readonly used = new Map<string, number>();
  private readonly running = new Map<string, Promise<string>>();
  constructor(readonly max = 2) {}

  /** True while the person is being asked; request timers wait for them. */
  get active(): boolean {
    return this.running.size > 0;
  }

  /** Runs `ask` (or joins the running one); undefined when the budget for these scopes is spent. */
  run(scopes: string[], ask: () => Promise<string>): Promise<string> | undefined {
    const key = [...new Set(scopes)].sort().join(' ');
    const current = this.running.get(key);
    if (current) return current;
    const n = this.used.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.used.set(key, n + 1);
    const p = ask().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }
}

export interface AuthorizingFetchOptions {
  serverUrl: string;
  displayName: string;
  tokens: TokenSource;
  fetchImpl?: typeof fetch;
  log?: BridgeLog;
  /** Sees every token handed out, so the caller can redact it. */
  onToken?: (token: string) => void;
  /** Sees every auth failure this fetch throws (the SSE stream's fetch loses the error object). */
  onAuthError?: (err: BridgeAuthError) => void;
  /** Shared by every transport of one bridge. */
  stepUps?: StepUpBudget;
}

/** A request is retried after at most this many 401s (each reported to the broker). */
const MAX_REJECTION_REPORTS = 2;

export function authorizingFetch(o: AuthorizingFetchOptions): FetchLike {
  const origin = new URL(o.serverUrl).origin;
  const doFetch = o.fetchImpl ?? fetch;
  const log = o.log ?? (() => {});
  const stepUps = o.stepUps ?? new StepUpBudget();
  const fail = (err: BridgeAuthError): BridgeAuthError => {
    o.onAuthError?.(err);
    return err;
  };
  const obtain = async (p: Promise<string>): Promise<string> => {
    let token: string;
    try {
      token = await p;
    } catch (err) {
      if (err instanceof BridgeAuthError) throw fail(err);
      log('warn', `token source failed: ${err instanceof Error ? err.message : String(err)}`);
      throw fail(new BridgeAuthError(reauthMessage(o.displayName, o.serverUrl)));
    }
    o.onToken?.(token);
    return token;
  };

  // The latest DPoP-Nonce this server sent (RFC 9449 §9), passed on to the broker with the next proof.
  let rsNonce: string | undefined;
  const proofFor = async (htm: string, htu: string, token: string): Promise<string> => {
    try {
      return await o.tokens.proof!({ htm, htu, token, ...(rsNonce ? { nonce: rsNonce } : {}) });
    } catch (err) {
      if (err instanceof BridgeAuthError) throw fail(err);
      throw fail(new BridgeAuthError(`Could not get a DPoP proof for '${o.displayName}': ${err instanceof Error ? err.message : String(err)}`));
    }
  };

  return async (url, init) => {
    const target = new URL(url instanceof URL ? url.href : url);
    if (target.origin !== origin) {
      // Never hand the token to another origin, whoever asked for the request.
      const headers = headerRecord(init?.headers);
      delete headers.authorization;
      return doFetch(url, { ...init, headers });
    }
    const base: RequestInit = { ...init, body: await bufferBody(init?.body) };
    // Redirects are followed by the SDK within the origin; a fetch must not carry the token elsewhere.
    if (base.redirect !== 'manual' && base.redirect !== 'error') base.redirect = 'manual';
    const htm = (init?.method ?? 'GET').toUpperCase();
    const send = async (token: string) => {
      // A plain record, not Headers: that global alone would load undici on the legacy path.
      const headers = headerRecord(init?.headers);
      // The server's own headers (API keys, tenant): same origin only, like the token.
      for (const h of o.tokens.headers ?? []) headers[h.name.toLowerCase()] = h.value;
      delete headers.dpop;
      // The empty token (NO_AUTH): a server that wants none gets no Authorization header.
      if (!token) delete headers.authorization;
      else if (o.tokens.isDpop?.(token) && o.tokens.proof) {
        // RFC 9449 §7.1: a fresh proof for this method and URL, signed by the broker, every time.
        headers.authorization = `DPoP ${token}`;
        headers.dpop = await proofFor(htm, target.href, token);
      } else headers.authorization = `Bearer ${token}`;
      const res = await doFetch(url, { ...base, headers });
      const nonce = res.headers.get('dpop-nonce');
      if (nonce) rsNonce = nonce;
      return res;
    };
    const attempt = async (token: string) => {
      try {
        return await send(token);
      } catch (err) {
        // A kept-alive connection the server closed just as it was reused (likely after a wait
        // for the broker): the request never got an answer; send it once more on a new one
        // (with a new proof: a proof is never sent twice).
        if (!staleConnection(err)) throw err;
        log('info', `${origin} closed a kept-alive connection; sending again`);
        return send(token);
      }
    };

    let token = await obtain(o.tokens.getToken(MIN_VALIDITY_SECONDS));
    let reports = 0;
    const tried = new Set<string>();
    let steppedUp = false;
    let nonceRetried = false;
    let dpopRefused = false;
    for (;;) {
      const res = await attempt(token);
      if (res.status === 401 && token && o.tokens.isDpop?.(token)) {
        const header = res.headers.get('www-authenticate');
        if (dpopParams(header)?.error === 'use_dpop_nonce') {
          await discard(res);
          // Once per request: a server that wants yet another nonce is not asked in a loop.
          if (nonceRetried || !res.headers.get('dpop-nonce')) {
            log('warn', `${origin} asked for a new DPoP nonce again`);
            throw fail(new BridgeAuthError(`'${o.displayName}' keeps asking for a new DPoP nonce; the request was not sent again.`));
          }
          nonceRetried = true;
          log('debug', `${origin} asked for a DPoP nonce; sending again with it`);
          continue;
        }
        dpopRefused = !challengeSchemes(header).includes('dpop');
      }
      if (res.status === 401 && !token) {
        await discard(res);
        log('warn', `${origin} now asks for authorization (401)`);
        throw fail(new BridgeAuthError(linkMessage(o.displayName, o.serverUrl)));
      }
      if (res.status === 401) {
        await discard(res);
        tried.add(token);
        if (reports >= MAX_REJECTION_REPORTS) {
          log('warn', `${origin} rejected the refreshed access token too (401)`);
          // Tell the broker, which marks the grant when the token it refreshed after a 401 is
          // refused too; no further retry here.
          const told = await o.tokens.reportRejected(token, dpopRefused ? { dpopRefused } : undefined).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (dpopRefused) throw fail(new BridgeAuthError(dpopRefusedMessage(o.displayName, o.serverUrl)));
          throw fail(told instanceof BridgeAuthError ? told : new BridgeAuthError(reauthMessage(o.displayName, o.serverUrl)));
        }
        reports++;
        log('info', `${origin} rejected the access token (401); asking the broker for a fresh one`);
        // The broker refreshes once per rejected current token; for an older token it hands out the current one.
        token = await obtain(
          o.tokens.reportRejected(token, dpopRefused ? { dpopRefused } : undefined).catch((err: unknown) => {
            throw dpopRefused ? new BridgeAuthError(dpopRefusedMessage(o.displayName, o.serverUrl)) : err;
          }),
        );
        if (tried.has(token)) throw fail(new BridgeAuthError(dpopRefused ? dpopRefusedMessage(o.displayName, o.serverUrl) : reauthMessage(o.displayName, o.serverUrl)));
        continue;
      }
      if (res.status === 403) {
        const challenge = authParams(res.headers.get('www-authenticate'));
        const scopes = (challenge.scope ?? '').split(/\s+/).filter(Boolean);
        if (challenge.error === 'insufficient_scope' && scopes.length > 0 && token) {
          await discard(res);
          const asking = steppedUp ? undefined : stepUps.run(scopes, () => o.tokens.stepUp(scopes));
          if (!asking) {
            log('warn', `${origin} still needs scope "${scopes.join(' ')}"; not asking again`);
            throw fail(new BridgeAuthError(scopeMessage(o.displayName, o.serverUrl, scopes)));
          }
          steppedUp = true;
          log('info', `${origin} needs scope "${scopes.join(' ')}"; asking the person to approve it`);
          token = await obtain(asking);
          continue;
        }
      }
      return res;
    }
  };
}

function staleConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

/** A stream body can be read once; keep the bytes so a retry can send them again. */
async function bufferBody(body: RequestInit['body']): Promise<RequestInit['body']> {
  if (body === undefined || body === null || typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}
