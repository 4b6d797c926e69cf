// Company identity providers (SEP-990): a profile per IdP, one OpenID sign-in sealed in the
// vault (ID token and refresh token), reused for every server that accepts it. When the IdP
// session ends, the profile says so once, and every server of that IdP waits on that one sign-in.
import * as client from 'openid-client';
import { discoverAuthorizationServer } from '../oauth/discovery.js';
import * as grants from '../oauth/grants.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS, startLoopback } from '../oauth/loopback.js';
import { OAuthWireError, wireError } from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import { defaultRedactor } from '../platform/redact.js';
import { displayUrl, safeHttpUrl } from '../platform/urls.js';
import type { AsMetadata, IdpRecord, VaultData } from '../types.js';
import { type ManagerContext, linkProgress } from './context.js';
import { idpSignInWords } from './grants-view.js';

/** An ID token with less than this left is renewed before it is exchanged. */
const ID_TOKEN_MIN_VALIDITY_MS = 60_000;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

export interface IdpView {
  name: string;
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  status: 'signed-in' | 'needs-sign-in';
  detail?: string;
  signedIn?: { subject: string; email?: string; displayName?: string; at: number; idTokenExpiresAt?: number; hasRefreshToken: boolean };
  /** Ids of the linked servers that use this sign-in. */
  servers: string[];
}

export interface IdpAddOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  tokenEndpoint?: string;
  /** An ID token to use instead of signing in (automation, tests). */
  idToken?: string;
  open?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Progress lines of this sign-in only (the app shows them where it started). */
  progress?: (line: string) => void;
}

export type IdpSignInOptions = Pick<IdpAddOptions, 'idToken' | 'open' | 'timeoutMs' | 'signal' | 'progress'>;

export function checkIdpName(name: string): string {
  if (!NAME_RE.test(name)) throw new UserError('usage', `"${name.slice(0, 60)}" is not a usable name for an identity provider.`, 'Use letters, digits, ".", "_" or "-" (up to 40), e.g. "acme".');
  return name;
}

function findIdp(d: VaultData, name: string): IdpRecord {
  const rec = d.idps?.[name];
  if (!rec) {
    const known = Object.keys(d.idps ?? {});
    throw new UserError('not-found', `No company identity provider "${name}".`, known.length ? `Known: ${known.join(', ')}.` : 'Add one with `mcp-tokens idp add <name> --issuer URL --client-id ID`.');
  }
  return rec;
}

/** The claims of an ID token, unverified: only for showing who is signed in and its expiry. */
export function idTokenClaims(idToken: string): Record<string, unknown> {
  const part = idToken.split('.')[1];
  if (!part) throw new UserError('usage', 'The ID token is not a JWT.', 'Give the ID token the identity provider issued (three base64url parts).');
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new UserError('usage', 'The ID token is not a JWT.', 'Give the ID token the identity provider issued (three base64url parts).');
}

function signedInFrom(idToken: string, hasRefreshToken: boolean, source: 'browser' | 'file', now: number): NonNullable<IdpRecord['signedIn']> {
  const c = idTokenClaims(idToken);
  const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 200) : undefined);
  const email = str(c.email);
  const displayName = str(c.name) ?? str(c.preferred_username);
  return {
    subject: str(c.sub) ?? '(unknown)',
    ...(email ? { email } : {}),
    ...(displayName ? { displayName } : {}),
    at: now,
    ...(typeof c.exp === 'number' ? { idTokenExpiresAt: c.exp * 1000 } : {}),
    hasRefreshToken,
    source,
  };
}

export function idpView(d: VaultData, rec: IdpRecord): IdpView {
  const s = rec.signedIn;
  return {
    name: rec.name,
    issuer: rec.issuer,
    clientId: rec.clientId,
    tokenEndpoint: String(rec.metadata.token_endpoint ?? ''),
    status: rec.state.status === 'ok' && s ? 'signed-in' : 'needs-sign-in',
    ...(rec.state.detail ? { detail: rec.state.detail } : {}),
    ...(s
      ? {
          signedIn: {
            subject: s.subject,
            ...(s.email ? { email: s.email } : {}),
            ...(s.displayName ? { displayName: s.displayName } : {}),
            at: s.at,
            ...(s.idTokenExpiresAt !== undefined ? { idTokenExpiresAt: s.idTokenExpiresAt } : {}),
            hasRefreshToken: s.hasRefreshToken,
          },
        }
      : {}),
    servers: Object.values(d.servers)
      .filter((r) => r.grantKind === 'idp' && r.idp === rec.name)
      .map((r) => r.id),
  };
}

export async function listIdps(ctx: ManagerContext): Promise<IdpView[]> {
  const d = await ctx.d.vault.read();
  return Object.values(d.idps ?? {})
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => idpView(d, r));
}

/** The openid-client Configuration for talking to an IdP's endpoints as its client. */
async function idpConfig(rec: IdpRecord, secret: string | undefined): Promise<client.Configuration> {
  const auth = grants.chooseMachineAuth(rec.metadata, { clientId: rec.clientId, ...(secret !== undefined ? { secret } : {}) });
  return grants.machineConfig(rec.metadata, auth);
}

async function idpMetadata(ctx: ManagerContext, issuer: string, tokenEndpoint: string | undefined): Promise<AsMetadata> {
  const iss = issuer.trim();
  safeHttpUrl(iss, 'identity provider issuer');
  if (tokenEndpoint) return { issuer: iss, token_endpoint: safeHttpUrl(tokenEndpoint, 'identity provider token endpoint').href };
  ctx.say(`Reading the OpenID configuration of ${displayUrl(iss)}…`);
  const found = await discoverAuthorizationServer(iss, ctx.d.fetchFn ? { fetchFn: ctx.d.fetchFn } : {});
  if (!found) throw new UserError('discovery', `No OpenID configuration found for the issuer ${iss}.`, 'Check the issuer URL, or give the token endpoint with --token-endpoint.');
  if (!found.metadata.token_endpoint) throw new UserError('discovery', `The OpenID configuration of ${iss} names no token endpoint.`, 'Give it with --token-endpoint.');
  return found.metadata;
}

/** `idp add`: a profile, then a sign-in (the browser, or the ID token given). */
export async function addIdp(ctx: ManagerContext, name: string, o: IdpAddOptions): Promise<IdpView> {
  if (o.progress) {
    const { progress, ...rest } = o;
    return linkProgress.run(progress, () => addIdp(ctx, name, rest));
  }
  checkIdpName(name);
  if (!o.clientId.trim()) throw new UserError('usage', 'The identity provider client id is empty.');
  const metadata = await idpMetadata(ctx, o.issuer, o.tokenEndpoint);
  const auth = grants.chooseMachineAuth(metadata, { clientId: o.clientId, ...(o.clientSecret !== undefined ? { secret: o.clientSecret } : {}) });
  const now = ctx.d.clock.now();
  if (o.idToken !== undefined) idTokenClaims(o.idToken);
  await ctx.d.vault.update((d) => {
    const prev = d.idps?.[name];
    d.idps ??= {};
    d.secrets.idps ??= {};
    d.idps[name] = {
      name,
      issuer: metadata.issuer,
      clientId: o.clientId,
      metadata,
      tokenEndpointAuthMethod: auth.method,
      hasSecret: o.clientSecret !== undefined,
      createdAt: prev?.createdAt ?? now,
      state: { status: 'needs-sign-in', detail: 'Not signed in yet.' },
    };
    d.secrets.idps[name] = o.clientSecret !== undefined ? { clientSecret: o.clientSecret } : {};
  });
  ctx.say(`Added the identity provider "${name}" (${metadata.issuer}).`);
  return signInIdp(ctx, name, o);
}

/** Seals a sign-in (ID token, refresh token) for a profile; every server of the IdP carries on. */
async function storeSignIn(ctx: ManagerContext, name: string, t: { idToken: string; refreshToken?: string }, source: 'browser' | 'file'): Promise<IdpView> {
  defaultRedactor.add(t.idToken);
  defaultRedactor.add(t.refreshToken);
  const now = ctx.d.clock.now();
  return ctx.d.vault.update((d) => {
    const rec = findIdp(d, name);
    d.secrets.idps ??= {};
    const sec = d.secrets.idps[name] ?? {};
    d.secrets.idps[name] = { ...(sec.clientSecret ? { clientSecret: sec.clientSecret } : {}), idToken: t.idToken, ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}) };
    rec.signedIn = signedInFrom(t.idToken, Boolean(t.refreshToken), source, now);
    rec.state = { status: 'ok' };
    return idpView(d, rec);
  });
}

/** `idp sign-in`: the person signs in at the IdP in the browser (or the ID token given is sealed). */
export async function signInIdp(ctx: ManagerContext, name: string, o: IdpSignInOptions = {}): Promise<IdpView> {
  if (o.progress) {
    const { progress, ...rest } = o;
    return linkProgress.run(progress, () => signInIdp(ctx, name, rest));
  }
  const d = await ctx.d.vault.read();
  const rec = findIdp(d, name);
  if (o.idToken !== undefined) {
    idTokenClaims(o.idToken);
    const v = await storeSignIn(ctx, name, { idToken: o.idToken }, 'file');
    ctx.say(`Signed in to ${name} as ${v.signedIn?.email ?? v.signedIn?.subject ?? 'someone'} (ID token from the file).`);
    return v;
  }
  const as = rec.metadata;
  if (!as.authorization_endpoint) {
    throw new UserError('authorization', `The identity provider ${rec.issuer} has no authorization endpoint to sign in at.`, 'Give an ID token with --id-token-file, or add the IdP without --token-endpoint so its OpenID configuration is read.');
  }
  safeHttpUrl(as.authorization_endpoint, 'identity provider authorization endpoint');
  const config = await idpConfig(rec, d.secrets.idps?.[name]?.clientSecret);
  const listener = await startLoopback();
  try {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const supported = Array.isArray(as.scopes_supported) ? (as.scopes_supported as unknown[]) : [];
    const scope = ['openid', ...['email', 'profile', 'offline_access'].filter((s) => supported.includes(s))].join(' ');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: listener.redirectUri,
      scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // Without offline_access, many IdPs return a refresh token only when asked to show consent.
      ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
    });
    safeHttpUrl(url.href, 'identity provider sign-in URL');
    const timeoutMs = o.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    const waiting = listener.wait(state, { timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
    waiting.catch(() => {});
    if (o.open === false) ctx.say(`Open this URL in a browser to sign in to ${name}:\n  ${url.href}`);
    else {
      const start = listener.startUrl(url.href);
      ctx.say(`Opening your browser to sign in to ${name} at ${displayUrl(url)}… (if nothing opens, visit:\n  ${start} )`);
      await ctx.d.opener.open(start).catch((err: Error) => ctx.say(`Could not open a browser (${err.message}); open the URL above yourself.`));
    }
    ctx.say(`Waiting for you to sign in to ${name}… (Ctrl-C to cancel)`);
    const cb = await waiting;
    let tokens: client.TokenEndpointResponse;
    try {
      const err = cb.url.searchParams.get('error');
      if (err) throw new UserError('authorization', err === 'access_denied' ? `You declined the sign-in to ${name}.` : `The identity provider ${name} answered: ${err.slice(0, 100)}.`);
      tokens = await client.authorizationCodeGrant(config, cb.url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      cb.finish(true);
    } catch (e) {
      cb.finish(false);
      if (e instanceof UserError) throw e;
      throw wireError(e, `signing in to ${name}`);
    }
    if (!tokens.id_token) throw new UserError('authorization', `The identity provider ${name} returned no ID token.`);
    const v = await storeSignIn(ctx, name, { idToken: tokens.id_token, ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}) }, 'browser');
    ctx.say(`Signed in to ${name} as ${v.signedIn?.email ?? v.signedIn?.subject ?? 'someone'}.`);
    return v;
  } finally {
    await listener.close();
  }
}

/** Sign out of an IdP here: the ID and refresh tokens are dropped; the profile stays. */
export async function signOutIdp(ctx: ManagerContext, name: string): Promise<IdpView> {
  return ctx.d.vault.update((d) => {
    const rec = findIdp(d, name);
    const sec = d.secrets.idps?.[name];
    if (d.secrets.idps) d.secrets.idps[name] = sec?.clientSecret ? { clientSecret: sec.clientSecret } : {};
    delete rec.signedIn;
    rec.state = { status: 'needs-sign-in', detail: 'Signed out.' };
    return idpView(d, rec);
  });
}

/** `idp remove`: the profile and its secrets; the servers that used it then say so. */
export async function removeIdp(ctx: ManagerContext, name: string): Promise<{ name: string; servers: string[] }> {
  return ctx.d.vault.update((d) => {
    const rec = findIdp(d, name);
    const servers = idpView(d, rec).servers;
    delete d.idps![name];
    delete d.secrets.idps?.[name];
    return { name, servers };
  });
}

async function markNeedsSignIn(ctx: ManagerContext, name: string, detail: string): Promise<void> {
  await ctx.d.vault.update((d) => {
    const rec = d.idps?.[name];
    if (!rec) return;
    rec.state = { status: 'needs-sign-in', detail };
  });
}

function needsSignIn(rec: IdpRecord, detail?: string): UserError {
  const w = idpSignInWords(rec);
  return new UserError('needs-reauth', `${w.message}${detail ? ` (${detail})` : ''}`, w.hint);
}

/**
 * Runs `use` with a valid ID token of the IdP and its Configuration: the sealed one, or one
 * renewed with the IdP's refresh token (one renewal per IdP at a time in this process). When
 * the IdP session has ended, the profile is marked once and a needs-reauth error names it.
 */
export async function idTokenFor<T>(ctx: ManagerContext, name: string, use: (idToken: string, config: client.Configuration) => Promise<T>): Promise<T> {
  const d = await ctx.d.vault.read();
  const rec = findIdp(d, name);
  if (rec.state.status === 'needs-sign-in') throw needsSignIn(rec, rec.state.detail);
  const sec = d.secrets.idps?.[name] ?? {};
  const config = await idpConfig(rec, sec.clientSecret);
  let idToken = sec.idToken;
  const exp = rec.signedIn?.idTokenExpiresAt;
  if (!idToken || (exp !== undefined && exp - ctx.d.clock.now() < ID_TOKEN_MIN_VALIDITY_MS)) idToken = await renewSignIn(ctx, rec, config, sec.refreshToken);
  return use(idToken, config);
}

async function renewSignIn(ctx: ManagerContext, rec: IdpRecord, config: client.Configuration, refreshToken: string | undefined): Promise<string> {
  const key = `idp:${rec.name}`;
  const running = ctx.refreshing.get(key) as Promise<string> | undefined;
  if (running) return running;
  const run = (async () => {
    if (!refreshToken) {
      const detail = 'the ID token expired and the identity provider gave no refresh token';
      await markNeedsSignIn(ctx, rec.name, detail);
      throw needsSignIn(rec, detail);
    }
    let t;
    try {
      t = await grants.renewIdToken(config, refreshToken);
    } catch (e) {
      if (e instanceof OAuthWireError && e.kind === 'dead-grant') {
        const detail = `${rec.name} refused to renew the sign-in: ${e.message}`;
        await markNeedsSignIn(ctx, rec.name, detail);
        throw needsSignIn(rec, detail);
      }
      throw e;
    }
    if (!t.idToken) throw new UserError('token', `${rec.name} renewed the sign-in but returned no ID token.`, `Sign in again: mcp-tokens idp sign-in ${rec.name}.`);
    // Compare-and-swap on the refresh token: a sign-in done meanwhile wins.
    const stored = await ctx.d.vault.update((d) => {
      const sec = d.secrets.idps?.[rec.name];
      const cur = d.idps?.[rec.name];
      if (!cur || !sec || sec.refreshToken !== refreshToken) return sec?.idToken;
      sec.idToken = t.idToken!;
      sec.refreshToken = t.refreshToken ?? refreshToken;
      cur.signedIn = signedInFrom(t.idToken!, true, cur.signedIn?.source ?? 'browser', ctx.d.clock.now());
      cur.state = { status: 'ok' };
      return t.idToken;
    });
    defaultRedactor.add(t.idToken);
    defaultRedactor.add(t.refreshToken);
    if (!stored) throw needsSignIn(rec);
    return stored;
  })();
  ctx.refreshing.set(key, run);
  try {
    return await run;
  } finally {
    if (ctx.refreshing.get(key) === run) ctx.refreshing.delete(key);
  }
}
