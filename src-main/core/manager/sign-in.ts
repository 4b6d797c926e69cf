// The two ways a person approves a link: the browser (authorization code + PKCE through a
// loopback redirect) and the device flow. Both end with tokens from the AS.
import type { DiscoveryResult } from '../oauth/discovery.js';
import type { DpopChoice } from '../oauth/dpop-policy.js';
import { type LoopbackListener, DEFAULT_APPROVAL_TIMEOUT_MS, startLoopback } from '../oauth/loopback.js';
import * as wire from '../oauth/oauth.js';
import type { HeaderSpec } from '../platform/custom-headers.js';
import { displayUrl } from '../platform/urls.js';
import type { FlowKind } from '../types.js';
import type { ManagerContext } from './context.js';

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
  /** DPoP binding (RFC 9449): automatic by default; `off` for a server that refuses bound tokens. */
  dpop?: DpopChoice;
  /** Sign in again to this linked server (one account of several on a URL); default the URL's first. */
  id?: string;
  /** 'new': another account on a URL already linked: a grant with its own id, the same client registration. */
  account?: 'new';
  /** The account to sign in with (login_hint), when the person named one. */
  loginHint?: string;
  /** Set by link: the authorization request's prompt (select_account when the URL has several accounts). */
  prompt?: string;
}

/** openid-client's DPoP handle for the token requests of a bound grant. */
export type DpopHandle = NonNullable<wire.DpopOption['DPoP']>;

export interface DeviceCodeView {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresAt: number;
}

type WireConfig = ReturnType<typeof wire.makeConfig>;

export async function browserFlow(ctx: ManagerContext, config: WireConfig, disc: DiscoveryResult, listener: LoopbackListener, opts: LinkOptions, dpop?: DpopHandle): Promise<wire.TokenResult> {
  const req = await wire.buildAuthorizationRequest(config, {
    redirectUri: listener.redirectUri,
    scopes: disc.scopes,
    resource: disc.resource,
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
    ...(opts.loginHint ? { loginHint: opts.loginHint } : {}),
  });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const waiting = listener.wait(req.state, { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  waiting.catch(() => {}); // may reject (reused link) while the opener runs; awaited below
  if (opts.open === false) {
    ctx.say(`Open this URL in a browser to approve:\n  ${req.url.href}`);
  } else {
    // The browser gets a one-shot link on the listener, never the authorization URL itself:
    // a process's arguments are readable by every local user (/proc/*/cmdline).
    const start = listener.startUrl(req.url.href);
    ctx.say(`Opening your browser at ${displayUrl(req.url)}… (if nothing opens, visit:\n  ${start} )`);
    await ctx.d.opener.open(start).catch((err: Error) => ctx.say(`Could not open a browser (${err.message}); open the URL above yourself.`));
  }
  ctx.say(`Waiting for you to approve in the browser… (Ctrl-C to cancel, times out in ${Math.round(timeoutMs / 60_000) || 1} min)`);
  const cb = await waiting;
  try {
    wire.checkIss(cb.url, disc.asMetadata);
    const tokens = await wire.exchangeCode(config, cb.url, req, disc.resource, dpop);
    cb.finish(true);
    return tokens;
  } catch (err) {
    cb.finish(false);
    throw err;
  }
}

export async function deviceFlow(ctx: ManagerContext, config: WireConfig, disc: DiscoveryResult, opts: LinkOptions, dpop?: DpopHandle): Promise<wire.TokenResult> {
  const r = await wire.startDeviceAuthorization(config, { scopes: disc.scopes, resource: disc.resource });
  const target = r.verification_uri_complete ?? r.verification_uri;
  ctx.say(`To approve, visit ${r.verification_uri} and enter the code ${r.user_code}`);
  if (r.verification_uri_complete) ctx.say(`  (or open ${r.verification_uri_complete})`);
  opts.onDeviceCode?.({
    userCode: r.user_code,
    verificationUri: r.verification_uri,
    ...(r.verification_uri_complete ? { verificationUriComplete: r.verification_uri_complete } : {}),
    expiresAt: ctx.d.clock.now() + (r.expires_in ?? 300) * 1000,
  });
  const timeoutMs = Math.min(opts.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS, (r.expires_in ?? 300) * 1000);
  // The code-carrying URL goes to the browser through a one-shot loopback link, as in the browser flow.
  const relay = opts.open !== false ? await startLoopback().catch(() => undefined) : undefined;
  try {
    if (opts.open !== false) await ctx.d.opener.open(relay ? relay.startUrl(target) : r.verification_uri).catch(() => {});
    ctx.say(`Waiting for the approval… (Ctrl-C to cancel, times out in ${Math.max(1, Math.round(timeoutMs / 60_000))} min)`);
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    return await wire.pollDevice(config, r, disc.resource, signal, dpop);
  } finally {
    await relay?.close();
  }
}
