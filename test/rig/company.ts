// The company network of issue 25, as small real servers on 127.0.0.1:
// - an IdP: OpenID sign-in (authorization code + PKCE, approved by whoever follows the link),
//   ID tokens renewed with rotating refresh tokens, and RFC 8693 token exchange issuing ID-JAGs
//   (typ oauth-id-jag+jwt) for the authorization servers it trusts; its session can be ended;
// - an authorization server taking RFC 7523 assertions (ID-JAGs from the IdP, workload tokens
//   from a platform key: signature, aud, exp, jti replay) and client credentials (secret basic
//   or post, or private_key_jwt), issuing short-lived JWT access tokens;
// - an MCP server (the SDK's, through RigMcp) accepting those tokens for its resource.
// Every token request is recorded, so tests count what reached each server.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, generateKeyPair, importSPKI, jwtVerify, type JWTPayload, SignJWT } from 'jose';
import { RigMcp } from './mcp-server.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

export interface CompanyTokenRequest {
  at: number;
  grantType: string;
  clientId?: string;
  /** The OAuth error answered, if any. */
  error?: string;
}

interface Site {
  server: Server;
  origin: string;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Site> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: err.message });
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const c of req as AsyncIterable<Buffer>) {
    body += c.toString('utf8');
    if (body.length > 256 * 1024) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

const now = () => Math.floor(Date.now() / 1000);
const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');

export interface CompanyOptions {
  /** Lifetime of the AS's access tokens (s). */
  accessTokenTtl?: number;
  /** Lifetime of the IdP's ID tokens (s). */
  idTokenTtl?: number;
  /** The IdP's client for this app (public: PKCE). */
  idpClientId?: string;
  /** Clients at the AS: a secret, or a public key for private_key_jwt. */
  asClients?: Record<string, { secret?: string; publicKeyPem?: string; grants: string[] }>;
}

export interface Company {
  idp: {
    issuer: string;
    clientId: string;
    tokenRequests: CompanyTokenRequest[];
    /** Ends every sign-in at the IdP: refresh tokens are refused from now on (invalid_grant). */
    endSession(): void;
    /** Resources the company does not let this person use: the token exchange is refused for them. */
    deniedResources: Set<string>;
    /** An ID token for `sub`, as the IdP would issue it (for --id-token-file). */
    idToken(sub: string, ttlS?: number): Promise<string>;
  };
  as: {
    issuer: string;
    tokenRequests: CompanyTokenRequest[];
    issuedAccessTokens: string[];
  };
  /** The workload platform: signs workload identity tokens the AS trusts. */
  workload: { issuer: string; token(o?: { aud?: string; ttlS?: number; sub?: string }): Promise<string> };
  mcpUrl: string;
  /** A second server of the same company (same AS, same IdP). */
  mcpUrl2: string;
  mcp: RigMcp;
  close(): Promise<void>;
}

export async function startCompany(o: CompanyOptions = {}): Promise<Company> {
  const idpKey: Key = await generateKeyPair('ES256');
  const asKey: Key = await generateKeyPair('ES256');
  const workloadKey: Key = await generateKeyPair('ES256');
  const accessTtl = o.accessTokenTtl ?? 3600;
  const idTokenTtl = o.idTokenTtl ?? 3600;
  const idpClientId = o.idpClientId ?? 'mcp-tokens-desktop';
  const asClients = o.asClients ?? {};
  const workloadIssuer = 'https://workload.platform.example';

  // ------------------------------------------------------------------ the IdP
  const idpRequests: CompanyTokenRequest[] = [];
  const codes = new Map<string, { sub: string; challenge: string; redirectUri: string; nonce?: string }>();
  const refreshTokens = new Map<string, string>(); // refresh token -> sub
  let sessionEnded = false;
  const deniedResources = new Set<string>();
  let idpIssuer = '';
  let asIssuer = '';
  let resource = '';
  let resource2 = '';
  const idToken = (sub: string, ttl = idTokenTtl, nonce?: string) =>
    new SignJWT({ email: `${sub}@company.example`, name: sub.toUpperCase(), ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(idpIssuer)
      .setSubject(sub)
      .setAudience(idpClientId)
      .setIssuedAt()
      .setExpirationTime(now() + ttl)
      .sign(idpKey.privateKey);

  const idpSite = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', idpIssuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer: idpIssuer,
        authorization_endpoint: `${idpIssuer}/authorize`,
        token_endpoint: `${idpIssuer}/token`,
        jwks_uri: `${idpIssuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        grant_types_supported: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['openid', 'email', 'profile', 'offline_access'],
        token_endpoint_auth_methods_supported: ['none'],
      });
      return;
    }
    if (url.pathname === '/authorize' && req.method === 'GET') {
      // The person is signed in at the company already: approve at once.
      const q = url.searchParams;
      const redirect = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== idpClientId || !/^http:\/\/127\.0\.0\.1:\d+\//.test(redirect) || q.get('code_challenge_method') !== 'S256') {
        json(res, 400, { error: 'invalid_request' });
        return;
      }
      const code = randomUUID();
      codes.set(code, { sub: 'alice', challenge: q.get('code_challenge') ?? '', redirectUri: redirect, ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}) });
      sessionEnded = false;
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      back.searchParams.set('iss', idpIssuer);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname !== '/token' || req.method !== 'POST') {
      json(res, 404, { error: 'not_found' });
      return;
    }
    const b = await form(req);
    const grantType = b.get('grant_type') ?? '';
    const rec: CompanyTokenRequest = { at: Date.now(), grantType, ...(b.get('client_id') ? { clientId: b.get('client_id')! } : {}) };
    idpRequests.push(rec);
    const fail = (error: string, description: string, status = 400) => {
      rec.error = error;
      json(res, status, { error, error_description: description });
    };
    if (b.get('client_id') !== idpClientId) return fail('invalid_client', 'unknown client', 401);
    if (grantType === 'authorization_code') {
      const c = codes.get(b.get('code') ?? '');
      codes.delete(b.get('code') ?? '');
      if (!c || c.redirectUri !== b.get('redirect_uri') || s256(b.get('code_verifier') ?? '') !== c.challenge) return fail('invalid_grant', 'bad code');
      const rt = randomUUID();
      refreshTokens.set(rt, c.sub);
      json(res, 200, { access_token: randomUUID(), token_type: 'Bearer', expires_in: 300, id_token: await idToken(c.sub, idTokenTtl, c.nonce), refresh_token: rt });
      return;
    }
    if (grantType === 'refresh_token') {
      const sub = refreshTokens.get(b.get('refresh_token') ?? '');
      if (!sub || sessionEnded) return fail('invalid_grant', 'The session has ended; sign in again.');
      refreshTokens.delete(b.get('refresh_token')!);
      const rt = randomUUID();
      refreshTokens.set(rt, sub);
      json(res, 200, { access_token: randomUUID(), token_type: 'Bearer', expires_in: 300, id_token: await idToken(sub), refresh_token: rt });
      return;
    }
    if (grantType === TOKEN_EXCHANGE) {
      if (b.get('requested_token_type') !== ID_JAG || b.get('subject_token_type') !== ID_TOKEN) return fail('invalid_request', 'ID token to ID-JAG only');
      if (b.get('audience') !== asIssuer) return fail('invalid_target', `no trust with ${b.get('audience')}`);
      let sub: string;
      try {
        const { payload } = await jwtVerify(b.get('subject_token') ?? '', idpKey.publicKey, { issuer: idpIssuer, audience: idpClientId });
        sub = String(payload.sub);
      } catch (e) {
        return fail('invalid_grant', `ID token not accepted: ${(e as Error).message}`);
      }
      if (sessionEnded) return fail('invalid_grant', 'The session has ended.');
      if (deniedResources.has(b.get('resource') ?? '')) return fail('invalid_grant', 'User is not assigned to this application.');
      const jag = await new SignJWT({ client_id: 'company-desktop', resource: b.get('resource') ?? undefined, ...(b.get('scope') ? { scope: b.get('scope')! } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' })
        .setIssuer(idpIssuer)
        .setSubject(sub)
        .setAudience(asIssuer)
        .setIssuedAt()
        .setExpirationTime(now() + 300)
        .setJti(randomUUID())
        .sign(idpKey.privateKey);
      json(res, 200, { access_token: jag, issued_token_type: ID_JAG, token_type: 'N_A', expires_in: 300 });
      return;
    }
    fail('unsupported_grant_type', grantType);
  });
  idpIssuer = idpSite.origin;

  // ------------------------------------------------------------------ the authorization server
  const asRequests: CompanyTokenRequest[] = [];
  const issued: string[] = [];
  const seenJti = new Set<string>();
  const replayed = (p: JWTPayload) => {
    if (typeof p.jti !== 'string') return true;
    if (seenJti.has(p.jti)) return true;
    seenJti.add(p.jti);
    return false;
  };

  /** The authenticated client id, or an error answer. */
  async function authenticate(req: IncomingMessage, b: URLSearchParams): Promise<{ clientId?: string; error?: string }> {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((x) => decodeURIComponent(x.replace(/\+/g, ' ')));
      const c = asClients[id ?? ''];
      return c?.secret !== undefined && c.secret === secret ? { clientId: id! } : { error: 'invalid_client' };
    }
    if (b.get('client_assertion_type') === CLIENT_ASSERTION) {
      const id = b.get('client_id') ?? '';
      const c = asClients[id];
      if (!c?.publicKeyPem) return { error: 'invalid_client' };
      try {
        const { payload } = await jwtVerify(b.get('client_assertion') ?? '', await importSPKI(c.publicKeyPem, 'ES256'), { audience: asIssuer, issuer: id, subject: id, maxTokenAge: 300 });
        if (replayed(payload)) return { error: 'invalid_client' };
        return { clientId: id };
      } catch {
        return { error: 'invalid_client' };
      }
    }
    if (b.get('client_secret') !== null) {
      const id = b.get('client_id') ?? '';
      return asClients[id]?.secret === b.get('client_secret') ? { clientId: id } : { error: 'invalid_client' };
    }
    return b.get('client_id') ? { clientId: b.get('client_id')! } : {};
  }

  async function accessToken(sub: string, clientId: string, scope: string, aud: string): Promise<string> {
    const t = await new SignJWT({ client_id: clientId, scope })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(asIssuer)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(now() + accessTtl)
      .setJti(randomUUID())
      .sign(asKey.privateKey);
    issued.push(t);
    return t;
  }

  const asSite = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', asIssuer);
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      json(res, 200, {
        issuer: asIssuer,
        token_endpoint: `${asIssuer}/token`,
        grant_types_supported: [JWT_BEARER, 'client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256'],
        scopes_supported: ['mcp:tools'],
        response_types_supported: [],
      });
      return;
    }
    if (url.pathname !== '/token' || req.method !== 'POST') {
      json(res, 404, { error: 'not_found' });
      return;
    }
    const b = await form(req);
    const grantType = b.get('grant_type') ?? '';
    const rec: CompanyTokenRequest = { at: Date.now(), grantType };
    asRequests.push(rec);
    const fail = (error: string, description: string, status = 400) => {
      rec.error = error;
      json(res, status, { error, error_description: description });
    };
    const target = b.get('resource') ?? '';
    if (target !== resource && target !== resource2) return fail('invalid_target', 'unknown resource');
    const who = await authenticate(req, b);
    if (who.error) return fail(who.error, 'client authentication failed', 401);
    if (who.clientId) rec.clientId = who.clientId;
    const scope = b.get('scope') ?? 'mcp:tools';
    if (grantType === 'client_credentials') {
      const c = who.clientId ? asClients[who.clientId] : undefined;
      if (!c || !(c.secret !== undefined || c.publicKeyPem) || !c.grants.includes('client_credentials')) return fail('unauthorized_client', 'this client may not use client credentials');
      json(res, 200, { access_token: await accessToken(who.clientId!, who.clientId!, scope, target), token_type: 'Bearer', expires_in: accessTtl, scope });
      return;
    }
    if (grantType === JWT_BEARER) {
      const assertion = b.get('assertion') ?? '';
      let typ: string | undefined;
      try {
        typ = decodeProtectedHeader(assertion).typ;
      } catch {
        return fail('invalid_grant', 'the assertion is not a JWT');
      }
      try {
        if (typ === 'oauth-id-jag+jwt') {
          const { payload } = await jwtVerify(assertion, idpKey.publicKey, { issuer: idpIssuer, audience: asIssuer, typ: 'oauth-id-jag+jwt' });
          if (replayed(payload)) return fail('invalid_grant', 'the ID-JAG was already used (jti)');
          if (payload.client_id !== who.clientId) return fail('invalid_grant', 'the ID-JAG was issued to another client');
          if (payload.resource !== target) return fail('invalid_grant', 'the ID-JAG is for another resource');
          json(res, 200, { access_token: await accessToken(String(payload.sub), who.clientId!, scope, target), token_type: 'Bearer', expires_in: accessTtl, scope });
          return;
        }
        const { payload } = await jwtVerify(assertion, workloadKey.publicKey, { issuer: workloadIssuer, audience: asIssuer });
        if (replayed(payload)) return fail('invalid_grant', 'the workload assertion was already used (jti)');
        json(res, 200, { access_token: await accessToken(String(payload.sub), who.clientId ?? 'workload', scope, target), token_type: 'Bearer', expires_in: accessTtl, scope });
        return;
      } catch (e) {
        return fail('invalid_grant', `assertion refused: ${(e as Error).message}`);
      }
    }
    fail('unsupported_grant_type', grantType);
  });
  asIssuer = asSite.origin;

  // ------------------------------------------------------------------ two MCP servers of the company
  let mcpOrigin = '';
  const mcpFor = (path: string, aud: () => string) =>
    new RigMcp({
      transport: 'streamable',
      paths: { mcp: path, sse: `${path}-sse`, messages: `${path}-messages` },
      validate: async (t) => {
        try {
          const { payload } = await jwtVerify(t, asKey.publicKey, { issuer: asIssuer, audience: aud() });
          return { sub: String(payload.sub), clientId: String(payload.client_id), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), aud: payload.aud, ...(payload.exp ? { exp: payload.exp } : {}) };
        } catch {
          return undefined;
        }
      },
      challenge: (error) => `Bearer resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource${path}"${error ? `, error="${error}"` : ''}`,
    });
  const mcp = mcpFor('/mcp', () => resource);
  const mcp2 = mcpFor('/mcp2', () => resource2);
  const mcpSite = await listen(async (req, res) => {
    if (await mcp.handle(req, res)) return;
    if (await mcp2.handle(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource/mcp2') {
      const two = path.endsWith('2');
      json(res, 200, { resource: two ? resource2 : resource, authorization_servers: [asIssuer], scopes_supported: ['mcp:tools'], resource_name: two ? 'Company wiki' : 'Company tracker' });
      return;
    }
    json(res, 404, { error: 'not_found' });
  });
  mcpOrigin = mcpSite.origin;
  resource = `${mcpOrigin}/mcp`;
  resource2 = `${mcpOrigin}/mcp2`;

  return {
    idp: {
      issuer: idpIssuer,
      clientId: idpClientId,
      tokenRequests: idpRequests,
      endSession: () => {
        sessionEnded = true;
      },
      deniedResources,
      idToken: (sub, ttl) => idToken(sub, ttl),
    },
    as: { issuer: asIssuer, tokenRequests: asRequests, issuedAccessTokens: issued },
    workload: {
      issuer: workloadIssuer,
      token: (w = {}) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
          .setIssuer(workloadIssuer)
          .setSubject(w.sub ?? 'system:serviceaccount:ci:runner')
          .setAudience(w.aud ?? asIssuer)
          .setIssuedAt()
          .setExpirationTime(now() + (w.ttlS ?? 600))
          .setJti(randomUUID())
          .sign(workloadKey.privateKey),
    },
    mcpUrl: resource,
    mcpUrl2: resource2,
    mcp,
    async close() {
      await mcp.close();
      await mcp2.close();
      await Promise.all(
        [idpSite, asSite, mcpSite].map(
          (s) =>
            new Promise<void>((r) => {
              s.server.closeAllConnections();
              s.server.close(() => r());
            }),
        ),
      );
    },
  };
}
