// The rig's authorization server: oidc-provider with DCR, PKCE S256, device flow, resource
// indicators, revocation and (optionally) refresh-token rotation, plus login and consent pages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import Provider, { type Configuration, errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { TokenFacts } from './mcp-server.js';

export interface TokenRequestRecord {
  at: number;
  grantType: string;
  status: number;
  resource?: string;
  error?: string;
  /** When the request arrived (`at` is when the provider had answered it). */
  receivedAt?: number;
  /** The client had gone (timed out, killed) by the time the provider answered: a rotated token it never saw. */
  clientGone?: boolean;
  /** The refresh token presented (refresh_token grants only; test records, never printed). */
  refreshToken?: string;
}

export interface RigAsOptions {
  issuer: string;
  /** Path prefix the provider is mounted at ('' for the origin root). */
  mount: string;
  resource: string;
  tokenFormat: 'jwt' | 'opaque';
  rotateRefreshTokens: boolean;
  /** Default true. */
  issueRefreshTokens?: boolean;
  /**
   * OpenID Connect Core §11 as oidc-provider applies it by default: a refresh token only for a
   * grant that kept `offline_access`, which survives only an authorization request with
   * prompt=consent (Keycloak, Okta and Auth0 behave alike). Default: refresh tokens regardless.
   */
  oidcOfflineRule?: boolean;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** Hostnames a redirect_uri may use (the hostname-based allowlist some providers have). */
  redirectHostAllowlist?: string[];
  /** Rewrites `iss` in authorization responses (mix-up fault). */
  issParam?: string;
  /** Client authentication methods the AS accepts (and advertises); oidc-provider's defaults otherwise. */
  clientAuthMethods?: string[];
  /** Token and revocation requests without `client_id` in the form body are refused, as the MCP Python SDK does. */
  requireBodyClientId?: boolean;
  /** Token requests authenticated with this method are refused with invalid_client (an AS that advertises more than it takes). */
  refuseTokenAuth?: 'client_secret_post' | 'client_secret_basic' | 'any';
  /** DPoP proofs at the token endpoint must carry the AS's nonce (RFC 9449 §8). */
  dpopNonce?: boolean;
  /** How the rig reaches its own issuer URL (a company name only a proxy resolves); fetch by default. */
  selfFetch?: typeof fetch;
}

/**
 * oidc-provider's login and consent, plus `prompt=select_account` (as Google, Microsoft and
 * GitHub honour it): the person is asked which account to use even with a session.
 */
function policyWithAccountChoice() {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  return policy;
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}input{font-size:1rem;padding:.3rem}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export class RigAs {
  readonly tokenRequests: TokenRequestRecord[] = [];
  readonly issuedAccessTokens: string[] = [];
  readonly issuedRefreshTokens: string[] = [];
  /** Every refresh token presented at the token endpoint, in order: a repeat is a reuse. */
  readonly presentedRefreshTokens: string[] = [];
  readonly revocations: Array<{ token: string; hint?: string; at: number }> = [];
  readonly registrations: Array<{ clientId: string; body: Record<string, unknown> }> = [];
  readonly authorizationRequests: Array<Record<string, string>> = [];
  /** client_id of each token or revocation form body (with requireBodyClientId). */
  readonly bodyClientIds: string[] = [];
  revocationRefusals = 0;
  /** While set, every revocation request is refused with this status and body. */
  refuseRevocationWith: { status: number; body: Record<string, string> } | undefined;
  tokenAuthRefusals = 0;
  readonly provider: Provider;
  readonly app: express.Express;
  private readonly jwks: JSONWebKeySet;

  static async create(o: RigAsOptions): Promise<RigAs> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'rig-1', alg: 'RS256', use: 'sig' };
    const pub = { ...(await exportJWK(publicKey)), kid: 'rig-1', alg: 'RS256', use: 'sig' };
    return new RigAs(o, priv, { keys: [pub] });
  }

  private constructor(
    readonly o: RigAsOptions,
    privateJwk: object,
    publicJwks: JSONWebKeySet,
  ) {
    this.jwks = publicJwks;
    const config: Configuration = {
      clients: [],
      jwks: { keys: [privateJwk as never] },
      cookies: { keys: ['rig-cookie-signing-key-not-secret'] },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@example.test` }) }),
      claims: { openid: ['sub'], email: ['email'] },
      scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:admin'],
      interactions: { policy: policyWithAccountChoice(), url: (_ctx, interaction) => `${o.mount}/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        revocation: { enabled: true },
        introspection: { enabled: true },
        // oidc-provider's default, spelled out: DPoP-bound tokens for clients that send proofs.
        dPoP: { enabled: true, ...(o.dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}) },
        deviceFlow: {
          enabled: true,
          charset: 'digits',
          mask: '****-****',
          userCodeInputSource: async (ctx, form) => {
            ctx.body = page('Enter the code', `<p>Enter the code shown by the app.</p>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
          },
          userCodeConfirmSource: async (ctx, form, client, _info, userCode) => {
            ctx.body = page('Confirm the device', `<p><strong>${esc(client.clientName ?? client.clientId)}</strong> shows the code <code>${esc(userCode)}</code>.</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`);
          },
          successSource: async (ctx) => {
            ctx.body = page('Done', '<p>You may close this window and return to the app.</p>');
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx, _client, oneOf) => oneOf ?? o.resource,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx, indicator) => {
            if (indicator !== o.resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
            return {
              scope: 'mcp:tools mcp:admin',
              audience: o.resource,
              accessTokenTTL: o.accessTokenTtl,
              accessTokenFormat: o.tokenFormat,
              ...(o.tokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
            };
          },
        },
      },
      ...(o.clientAuthMethods ? { clientAuthMethods: o.clientAuthMethods as Configuration['clientAuthMethods'] } : {}),
      pkce: { required: () => true },
      rotateRefreshToken: o.rotateRefreshTokens,
      // Field servers hand out refresh tokens without offline_access; so does the rig.
      issueRefreshToken: async (_ctx, client, source) => o.issueRefreshTokens !== false && client.grantTypeAllowed('refresh_token') && (!o.oidcOfflineRule || source.scopes.has('offline_access')),
      ttl: { AccessToken: o.accessTokenTtl, RefreshToken: o.refreshTokenTtl, AuthorizationCode: 60, DeviceCode: 300, Grant: 3600, Interaction: 600, Session: 3600, IdToken: 600 },
      renderError: async (ctx, out) => {
        ctx.type = 'html';
        ctx.body = page('Sign-in error', `<p id="error">${esc(out.error)}: ${esc(out.error_description)}</p>`);
      },
    };
    this.provider = new Provider(o.issuer, config);
    if (process.env.RIG_DEBUG) this.provider.on('grant.error', (_ctx, err) => console.error('rig grant.error', err));
    this.provider.use((ctx, next) => this.observe(ctx as KoaContextWithOIDC, next));
    this.app = this.buildApp();
  }

  private async observe(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const path = ctx.path;
    if (this.o.redirectHostAllowlist && /\/auth$/.test(path)) {
      const ru = typeof ctx.query.redirect_uri === 'string' ? ctx.query.redirect_uri : undefined;
      let host: string;
      try {
        host = ru ? new URL(ru).hostname : '';
      } catch {
        host = '';
      }
      if (ru && !this.o.redirectHostAllowlist.includes(host)) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page('Sign-in error', `<p id="error">redirect_uri host is not allowed</p>`);
        return;
      }
    }
    if (this.refuseRevocationWith && /\/token\/revocation$/.test(path)) {
      this.revocationRefusals++;
      ctx.status = this.refuseRevocationWith.status;
      ctx.type = 'json';
      ctx.body = this.refuseRevocationWith.body;
      return;
    }
    if (this.o.refuseTokenAuth && /\/token$/.test(path) && ctx.method === 'POST') {
      const basic = /^basic /i.test(ctx.get('authorization'));
      // The form is not parsed yet: the header alone tells basic from post here.
      if (this.o.refuseTokenAuth === 'any' || (this.o.refuseTokenAuth === 'client_secret_basic') === basic) {
        this.tokenAuthRefusals++;
        ctx.status = 401;
        ctx.type = 'json';
        ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
        return;
      }
    }
    const receivedAt = Date.now();
    await next();
    const route = ctx.oidc?.route;
    if (this.o.requireBodyClientId && (route === 'token' || route === 'revocation')) {
      const form = (ctx.oidc?.body ?? {}) as Record<string, unknown>;
      this.bodyClientIds.push(typeof form.client_id === 'string' ? form.client_id : '');
      // Checked after the provider answered (its parser owns the body); the client sees the refusal all the same.
      if (typeof form.client_id !== 'string' || !form.client_id) {
        ctx.status = 401;
        ctx.type = 'json';
        ctx.body = { error: 'invalid_client', error_description: 'Missing client_id' };
        return;
      }
    }
    const body = (ctx.body && typeof ctx.body === 'object' ? ctx.body : {}) as Record<string, unknown>;
    const params = (ctx.oidc?.params ?? {}) as Record<string, unknown>;
    if (route === 'token') {
      if (params.grant_type === 'refresh_token' && typeof params.refresh_token === 'string') this.presentedRefreshTokens.push(params.refresh_token);
      const resource = params.resource;
      this.tokenRequests.push({
        at: Date.now(),
        receivedAt,
        ...(ctx.req.socket.destroyed || ctx.res.destroyed ? { clientGone: true } : {}),
        ...(params.grant_type === 'refresh_token' && typeof params.refresh_token === 'string' ? { refreshToken: params.refresh_token } : {}),
        grantType: String(params.grant_type ?? ''),
        status: ctx.status,
        ...(typeof resource === 'string' ? { resource } : Array.isArray(resource) ? { resource: resource.join(' ') } : {}),
        ...(typeof body.error === 'string' ? { error: body.error } : {}),
      });
      if (ctx.status === 200) {
        if (typeof body.access_token === 'string') this.issuedAccessTokens.push(body.access_token);
        if (typeof body.refresh_token === 'string') this.issuedRefreshTokens.push(body.refresh_token);
      }
    } else if (route === 'device_authorization' && ctx.status === 200) {
      // A tiny polling interval keeps device-flow tests fast (RFC 8628 defaults to 5 s).
      body.interval = 1;
    } else if (route === 'revocation') {
      if (typeof params.token === 'string') this.revocations.push({ token: params.token, ...(typeof params.token_type_hint === 'string' ? { hint: params.token_type_hint } : {}), at: Date.now() });
    } else if (route === 'registration' && ctx.status === 201) {
      this.registrations.push({ clientId: String(body.client_id), body: (ctx.oidc?.body ?? {}) as Record<string, unknown> });
    } else if (route === 'authorization') {
      const rec: Record<string, string> = {};
      for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string') rec[k] = v;
      this.authorizationRequests.push(rec);
    }
    if (this.o.issParam && (ctx.status === 302 || ctx.status === 303)) {
      const loc = ctx.response.get('location');
      if (loc && /[?&]code=/.test(loc)) {
        const u = new URL(loc);
        u.searchParams.set('iss', this.o.issParam);
        ctx.redirect(u.href);
      }
    }
  }

  private buildApp(): express.Express {
    const app = express();
    const provider = this.provider;
    const form = express.urlencoded({ extended: false });
    // Login and consent: plain forms, so a scripted person (or a human in the demo) can answer.
    app.get('/interaction/:uid', async (req, res, next) => {
      try {
        const d = await provider.interactionDetails(req, res);
        const client = await provider.Client.find(String(d.params.client_id));
        const who = esc(client?.clientName ?? d.params.client_id);
        if (d.prompt.name === 'login' || d.prompt.name === 'select_account') {
          // The account the app hinted (login_hint) is filled in, as real sign-in pages do.
          const hint = typeof d.params.login_hint === 'string' && d.params.login_hint ? d.params.login_hint : 'alice';
          res.type('html').send(
            page(
              d.prompt.name === 'login' ? 'Sign in' : 'Choose an account',
              `<form method="post" action="${esc(`${this.o.mount}/interaction/${d.uid}/login`)}"><label>User <input name="login" value="${esc(hint)}" autocomplete="username"></label> <label>Password <input name="password" type="password" value="demo"></label><p><button type="submit">Sign in</button></p></form>`,
            ),
          );
          return;
        }
        const scopes = String(d.params.scope ?? '').split(' ').filter(Boolean);
        res.type('html').send(
          page(
            'Allow access?',
            `<p><strong>${who}</strong> asks for access to <code>${esc(d.params.resource ?? 'this server')}</code> with scopes: ${scopes.map((s) => `<code>${esc(s)}</code>`).join(' ') || '(none)'}.</p>
<form method="post" action="${esc(`${this.o.mount}/interaction/${d.uid}/confirm`)}"><button type="submit" autofocus>Allow</button></form>
<form method="post" action="${esc(`${this.o.mount}/interaction/${d.uid}/abort`)}"><button type="submit">Deny</button></form>`,
          ),
        );
      } catch (err) {
        next(err);
      }
    });
    app.post('/interaction/:uid/login', form, async (req, res, next) => {
      try {
        const login = String((req.body as Record<string, unknown>).login ?? '').trim() || 'alice';
        // Choosing an account is signing in as it: both prompts are answered.
        await provider.interactionFinished(req, res, { login: { accountId: login }, select_account: {} }, { mergeWithLastSubmission: false });
      } catch (err) {
        next(err);
      }
    });
    app.post('/interaction/:uid/confirm', form, async (req, res, next) => {
      try {
        const d = await provider.interactionDetails(req, res);
        const accountId = d.session?.accountId;
        if (!accountId) throw new Error('no session');
        const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId, clientId: String(d.params.client_id) });
        if (!grant) throw new Error('grant vanished');
        const details = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
        if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
        if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      } catch (err) {
        next(err);
      }
    });
    app.post('/interaction/:uid/abort', form, async (req, res, next) => {
      try {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person denied the request' }, { mergeWithLastSubmission: false });
      } catch (err) {
        next(err);
      }
    });
    app.use(provider.callback());
    return app;
  }

  /** The provider's own discovery document (as the rig's profiles then reshape it). */
  async metadata(): Promise<Record<string, unknown>> {
    const res = await (this.o.selfFetch ?? fetch)(`${this.o.issuer}/.well-known/openid-configuration`, { headers: { 'x-rig-internal': '1' } });
    const doc = (await res.json()) as Record<string, unknown>;
    // oidc-provider does not publish the prompts it takes; the rig does (OpenID Connect Discovery 1.0 §3 field).
    doc.prompt_values_supported = ['none', 'login', 'consent', 'select_account'];
    // RFC 9207 and the spec's tiny polling interval are advertised by the rig.
    return doc;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.app(req as express.Request, res as express.Response);
  }

  /** Validates an access token the way the resource server would. */
  async validate(token: string): Promise<TokenFacts | undefined> {
    if (this.o.tokenFormat === 'jwt') {
      try {
        const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks), { issuer: this.o.issuer, audience: this.o.resource });
        return {
          sub: String(payload.sub),
          clientId: String(payload.client_id),
          scopes: String(payload.scope ?? '').split(' ').filter(Boolean),
          aud: payload.aud,
          ...(payload.exp ? { exp: payload.exp } : {}),
          ...(typeof (payload.cnf as { jkt?: unknown } | undefined)?.jkt === 'string' ? { jkt: (payload.cnf as { jkt: string }).jkt } : {}),
        };
      } catch {
        return undefined;
      }
    }
    const at = await this.provider.AccessToken.find(token);
    if (!at || at.isExpired) return undefined;
    const aud = at.aud as string | string[] | undefined;
    const auds = Array.isArray(aud) ? aud : aud ? [aud] : [];
    if (!auds.includes(this.o.resource)) return undefined;
    if (at.grantId && !(await this.provider.Grant.find(at.grantId))) return undefined;
    const jkt = (at as unknown as { jkt?: unknown }).jkt;
    return { sub: String(at.accountId), clientId: String(at.clientId), scopes: String(at.scope ?? '').split(' ').filter(Boolean), aud, ...(at.exp ? { exp: at.exp } : {}), ...(typeof jkt === 'string' ? { jkt } : {}) };
  }

  async isRefreshTokenActive(rt: string): Promise<boolean> {
    const t = await this.provider.RefreshToken.find(rt);
    if (!t || t.isExpired || (t as unknown as { consumed?: unknown }).consumed) return false;
    return Boolean(t.grantId && (await this.provider.Grant.find(t.grantId)));
  }

  async isAccessTokenActive(at: string): Promise<boolean> {
    return (await this.validate(at)) !== undefined;
  }

  /** Kills the whole grant a token belongs to, as a user revoking access at the provider would. */
  async revokeGrantOf(token: string): Promise<void> {
    const t = (await this.provider.RefreshToken.find(token)) ?? (this.o.tokenFormat === 'opaque' ? await this.provider.AccessToken.find(token) : undefined);
    const grantId = t?.grantId;
    if (!grantId) throw new Error('rig: token not found');
    await this.provider.RefreshToken.revokeByGrantId(grantId);
    await this.provider.AccessToken.revokeByGrantId(grantId);
    const g = await this.provider.Grant.find(grantId);
    await g?.destroy();
  }
}
