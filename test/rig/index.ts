// The real world the tests run against: an oidc-provider authorization server and SDK-built
// MCP servers on 127.0.0.1, arranged in the styles found in the field (see DESIGN.md "The rig").
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { RigAs } from './as.js';
import { selfFetchFor } from './corp-tls.js';
import { DpopRs } from './dpop.js';
import { RigMcp } from './mcp-server.js';

export type ProfileName = 'own-as' | 'separate-as' | 'device-only' | 'legacy-sse' | 'api-path-rotating';
export const PROFILES: ProfileName[] = ['own-as', 'separate-as', 'device-only', 'legacy-sse', 'api-path-rotating'];

export interface RigFaults {
  /** Resource metadata names another resource. */
  prmResource?: string;
  /** AS metadata names another issuer than the one it was fetched for. */
  asIssuer?: string;
  /** AS metadata without code_challenge_methods_supported. */
  noPkceMethods?: boolean;
  /** AS metadata with this authorization endpoint. */
  authorizationEndpoint?: string;
  /** Authorization responses carry this `iss`. */
  issParam?: string;
  /** Token requests authenticated this way are refused with invalid_client although advertised. */
  refuseTokenAuth?: 'client_secret_post' | 'client_secret_basic' | 'any';
}

/**
 * How the AS authenticates clients, in the styles met in the field: only client_secret_post;
 * only client_secret_basic (credentials in the header suffice); client_secret_basic with
 * `client_id` required in the body too (as the MCP Python SDK requires whatever the method);
 * both secret methods and no public clients.
 * Default: oidc-provider's own (public clients allowed).
 */
export type ClientAuthStyle = 'post-only' | 'basic-only' | 'body-client-id' | 'post-and-basic';

/** Switches for the token endpoint, flipped while a test runs. */
export interface TokenEndpointFault {
  /** Answer only after this long (the request is then served as usual). */
  delayMs?: number;
  /** Answer 500 without serving the request. */
  status500?: boolean;
  /** Answer a bare 503 (a load balancer in front of an AS that is down) without serving the request. */
  status503?: boolean;
  /** Never serve the request; the connection is closed after this long. */
  hangMs?: number;
}

export interface RigOptions {
  accessTokenTtl?: number;
  /** The AS issues no refresh tokens (as the MCP SDKs' example servers do). */
  noRefreshTokens?: boolean;
  /** Refresh tokens only for grants that kept offline_access (OIDC Core §11: asked with prompt=consent). */
  oidcOfflineRule?: boolean;
  refreshTokenTtl?: number;
  faults?: RigFaults;
  /** Port for the MCP server (the demo uses a fixed one); 0 = ephemeral. */
  port?: number;
  clientAuth?: ClientAuthStyle;
  /**
   * DPoP (RFC 9449): the MCP server checks proofs, takes only DPoP-bound tokens and says so (its
   * challenge and resource metadata); nonces required by the AS and/or the MCP server on request.
   */
  dpop?: { asNonce?: boolean; rsNonce?: boolean };
  /**
   * A company network: HTTPS with this key and certificate, under names only a test proxy
   * resolves (test/rig/corp-proxy.ts); the servers still listen on 127.0.0.1.
   */
  tls?: { key: string; cert: string; ca: string; mcpHost: string; asHost: string };
}


export interface Rig {
  profile: ProfileName;
  mcpUrl: string;
  as: {
    issuer: string;
    tokenRequests: RigAs['tokenRequests'];
    issuedAccessTokens: string[];
    issuedRefreshTokens: string[];
    revocations: RigAs['revocations'];
    registrations: RigAs['registrations'];
    authorizationRequests: RigAs['authorizationRequests'];
    isRefreshTokenActive(rt: string): Promise<boolean>;
    isAccessTokenActive(at: string): Promise<boolean>;
    revokeGrantOf(token: string): Promise<void>;
    setDown(down: boolean): Promise<void>;
    /** While set, revocation requests are refused with this answer; undefined to accept again. */
    refuseRevocation(answer: { status: number; body: Record<string, string> } | undefined): void;
    bodyClientIds: string[];
    revocationRefusals(): number;
    tokenAuthRefusals(): number;
    /** Faults of the token endpoint from now on (undefined: none). */
    setTokenFault(f: TokenEndpointFault | undefined): void;
    /** Every refresh token presented at the token endpoint, in order (reuse shows as a repeat). */
    presentedRefreshTokens: string[];
    /** Token requests received and not yet answered (e.g. held by a delay fault). */
    tokenRequestsInFlight(): number;
  };
  mcp: {
    requests: RigMcp['requests'];
    /** The DPoP checker (with opts.dpop). */
    dpop?: DpopRs;
    restart(): Promise<void>;
    redirectTo(url: string | undefined): void;
    rejectNextTokens(n: number): void;
    /** The resource server stops accepting every access token issued so far (the AS still does). */
    dropLiveTokens(): void;
  };
  close(): Promise<void>;
}

interface Layout {
  sameOrigin: boolean;
  asMount: string;
  mcpPath: string;
  transport: 'streamable' | 'sse';
  prm: 'path' | 'root' | 'none';
  challenge: 'metadata' | 'plain' | 'legacy';
  rfc8414: boolean;
  oidc: boolean;
  tokenFormat: 'jwt' | 'opaque';
  rotate: boolean;
  deviceOnly: boolean;
  redirectHostAllowlist?: string[];
}

const LAYOUTS: Record<ProfileName, Layout> = {
  // An MCP server that is its own AS, with DCR and a consent page.
  'own-as': { sameOrigin: true, asMount: '', mcpPath: '/mcp', transport: 'streamable', prm: 'path', challenge: 'metadata', rfc8414: true, oidc: true, tokenFormat: 'opaque', rotate: false, deviceOnly: false },
  // A resource server pointing at a separate AS that issues audience-bound JWTs; only the root
  // metadata URI and only OpenID discovery, and a challenge without resource_metadata.
  'separate-as': { sameOrigin: false, asMount: '', mcpPath: '/mcp', transport: 'streamable', prm: 'root', challenge: 'plain', rfc8414: false, oidc: true, tokenFormat: 'jwt', rotate: false, deviceOnly: false },
  // An AS that only does the device flow.
  'device-only': { sameOrigin: false, asMount: '', mcpPath: '/mcp', transport: 'streamable', prm: 'path', challenge: 'metadata', rfc8414: true, oidc: false, tokenFormat: 'opaque', rotate: false, deviceOnly: true },
  // Legacy HTTP+SSE: no resource metadata; the challenge carries resource and authorization_uri.
  'legacy-sse': { sameOrigin: true, asMount: '', mcpPath: '/sse', transport: 'sse', prm: 'none', challenge: 'legacy', rfc8414: true, oidc: false, tokenFormat: 'opaque', rotate: false, deviceOnly: false },
  // An AS under /api/oauth that rotates refresh tokens and allowlists redirect hostnames.
  'api-path-rotating': {
    sameOrigin: true,
    asMount: '/api/oauth',
    mcpPath: '/v1/mcp',
    transport: 'streamable',
    prm: 'path',
    challenge: 'metadata',
    rfc8414: true,
    oidc: true,
    tokenFormat: 'opaque',
    rotate: true,
    deviceOnly: false,
    redirectHostAllowlist: ['127.0.0.1', 'localhost'],
  },
};

const CLIENT_AUTH: Record<ClientAuthStyle, { clientAuthMethods: string[]; requireBodyClientId?: boolean }> = {
  'post-only': { clientAuthMethods: ['client_secret_post'] },
  'basic-only': { clientAuthMethods: ['client_secret_basic'] },
  'body-client-id': { clientAuthMethods: ['client_secret_basic'], requireBodyClientId: true },
  'post-and-basic': { clientAuthMethods: ['client_secret_post', 'client_secret_basic'] },
};

async function listen(port = 0, tls?: { key: string; cert: string; host: string }): Promise<{ server: Server; origin: string; setHandler: (h: (req: IncomingMessage, res: ServerResponse) => void) => void }> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => handler(req, res)) : createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: p } = server.address() as AddressInfo;
  return { server, origin: tls ? `https://${tls.host}:${p}` : `http://127.0.0.1:${p}`, setHandler: (h) => (handler = h) };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

export async function startRig(profile: ProfileName, opts: RigOptions = {}): Promise<Rig> {
  const L = LAYOUTS[profile];
  const faults = opts.faults ?? {};
  // Bind first: the issuer and the resource include the port.
  const t = opts.tls;
  const mcpSite = await listen(opts.port ?? 0, t ? { key: t.key, cert: t.cert, host: t.mcpHost } : undefined);
  const asSite = L.sameOrigin ? mcpSite : await listen(0, t ? { key: t.key, cert: t.cert, host: t.asHost } : undefined);
  const issuer = `${asSite.origin}${L.asMount}`;
  const mcpUrl = `${mcpSite.origin}${L.mcpPath}`;
  const resource = mcpUrl;
  const as = await RigAs.create({
    issuer,
    mount: L.asMount,
    resource,
    tokenFormat: L.tokenFormat,
    rotateRefreshTokens: L.rotate,
    issueRefreshTokens: !opts.noRefreshTokens,
    ...(opts.oidcOfflineRule ? { oidcOfflineRule: true } : {}),
    accessTokenTtl: opts.accessTokenTtl ?? 3600,
    refreshTokenTtl: opts.refreshTokenTtl ?? 86_400,
    ...(L.redirectHostAllowlist ? { redirectHostAllowlist: L.redirectHostAllowlist } : {}),
    ...(faults.issParam ? { issParam: faults.issParam } : {}),
    ...(faults.refuseTokenAuth ? { refuseTokenAuth: faults.refuseTokenAuth } : {}),
    ...(opts.clientAuth ? CLIENT_AUTH[opts.clientAuth] : {}),
    ...(opts.dpop?.asNonce ? { dpopNonce: true } : {}),
    ...(t ? { selfFetch: await selfFetchFor(t.ca) } : {}),
  });
  const dpop = opts.dpop ? new DpopRs({ requireNonce: opts.dpop.rsNonce ?? false }) : undefined;
  const mcpPathNoSlash = L.mcpPath;
  const prmUrl = L.prm === 'path' ? `${mcpSite.origin}/.well-known/oauth-protected-resource${mcpPathNoSlash}` : `${mcpSite.origin}/.well-known/oauth-protected-resource`;
  const mcp = new RigMcp({
    transport: L.transport,
    paths: { mcp: L.mcpPath, sse: L.mcpPath, messages: '/messages' },
    validate: (t) => as.validate(t),
    ...(dpop ? { dpop } : {}),
    challenge: (error) => {
      const err = error ? `, error="${error}"` : '';
      // RFC 9449 §7.1: a server that takes only DPoP-bound tokens challenges with the DPoP scheme.
      const scheme = dpop ? 'DPoP algs="ES256",' : 'Bearer';
      if (L.challenge === 'metadata') return `${scheme} resource_metadata="${prmUrl}", scope="mcp:tools"${err}`;
      if (L.challenge === 'legacy') return `${scheme} realm="rig", resource="${resource}", authorization_uri="${asSite.origin}/.well-known/oauth-authorization-server", scope="mcp:tools"${err}`;
      return `${scheme} realm="rig"${err}`;
    },
  });

  const prmDoc = () => ({
    resource: faults.prmResource ?? resource,
    authorization_servers: [issuer],
    scopes_supported: ['mcp:tools'],
    bearer_methods_supported: ['header'],
    resource_name: `Rig MCP server (${profile})`,
    ...(dpop ? { dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256'] } : {}),
  });

  async function asDoc(): Promise<Record<string, unknown>> {
    const doc = await as.metadata();
    if (L.deviceOnly) {
      delete doc.authorization_endpoint;
      doc.grant_types_supported = ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'];
      doc.response_types_supported = [];
    }
    if (faults.asIssuer) doc.issuer = faults.asIssuer;
    if (faults.noPkceMethods) delete doc.code_challenge_methods_supported;
    if (faults.authorizationEndpoint) doc.authorization_endpoint = faults.authorizationEndpoint;
    return doc;
  }

  const m = L.asMount;
  const rfc8414Paths = new Set([`/.well-known/oauth-authorization-server${m}`]);
  const oidcPaths = new Set([`/.well-known/openid-configuration${m}`, `${m}/.well-known/openid-configuration`]);
  const outer = express();
  if (m) outer.use(m, as.app);
  else outer.use(as.app);

  let down = false;
  let tokenFault: TokenEndpointFault | undefined;
  let inFlight = 0;
  const asHandler = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (down) {
      req.socket.destroy();
      return;
    }
    if (path.slice(m.length) === '/token' && req.method === 'POST') {
      const f = tokenFault;
      inFlight++;
      res.once('close', () => inFlight--);
      if (f?.hangMs !== undefined) {
        setTimeout(() => req.socket.destroy(), f.hangMs).unref();
        return;
      }
      if (f?.status500) {
        json(res, 500, { error: 'server_error', error_description: 'rig: token endpoint fault' });
        return;
      }
      if (f?.status503) {
        res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' }).end('<h1>503 Service Unavailable</h1>');
        return;
      }
      if (f?.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    }
    if (rfc8414Paths.has(path)) {
      if (L.rfc8414) json(res, 200, await asDoc());
      else json(res, 404, { error: 'not_found' });
      return;
    }
    if (oidcPaths.has(path) && req.headers['x-rig-internal'] !== '1') {
      if (L.oidc) json(res, 200, await asDoc());
      else json(res, 404, { error: 'not_found' });
      return;
    }
    if (L.deviceOnly && path.slice(m.length) === '/auth') {
      json(res, 404, { error: 'not_found' });
      return;
    }
    outer(req as express.Request, res as express.Response);
  };

  const wrap = (fn: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>) => (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://rig').pathname;
    fn(req, res, path).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: err.message });
      else res.destroy();
    });
  };

  mcpSite.setHandler(
    wrap(async (req, res, path) => {
      if (await mcp.handle(req, res)) return;
      if (path.startsWith('/.well-known/oauth-protected-resource')) {
        if (L.prm !== 'none' && path === new URL(prmUrl).pathname) json(res, 200, prmDoc());
        else json(res, 404, { error: 'not_found' });
        return;
      }
      if (L.sameOrigin) return asHandler(req, res, path);
      json(res, 404, { error: 'not_found' });
    }),
  );
  if (!L.sameOrigin) asSite.setHandler(wrap(asHandler));

  const servers = L.sameOrigin ? [mcpSite.server] : [mcpSite.server, asSite.server];
  return {
    profile,
    mcpUrl,
    as: {
      issuer,
      tokenRequests: as.tokenRequests,
      issuedAccessTokens: as.issuedAccessTokens,
      issuedRefreshTokens: as.issuedRefreshTokens,
      revocations: as.revocations,
      registrations: as.registrations,
      authorizationRequests: as.authorizationRequests,
      isRefreshTokenActive: (rt) => as.isRefreshTokenActive(rt),
      isAccessTokenActive: (at) => as.isAccessTokenActive(at),
      revokeGrantOf: (t) => as.revokeGrantOf(t),
      setDown: async (d) => {
        down = d;
      },
      refuseRevocation: (answer) => {
        as.refuseRevocationWith = answer;
      },
      bodyClientIds: as.bodyClientIds,
      revocationRefusals: () => as.revocationRefusals,
      tokenAuthRefusals: () => as.tokenAuthRefusals,
      setTokenFault: (f) => {
        tokenFault = f;
      },
      presentedRefreshTokens: as.presentedRefreshTokens,
      tokenRequestsInFlight: () => inFlight,
    },
    mcp: {
      requests: mcp.requests,
      ...(dpop ? { dpop } : {}),
      restart: () => mcp.restart(),
      redirectTo: (u) => {
        mcp.redirectTo = u;
      },
      rejectNextTokens: (n) => {
        mcp.rejectNext = n;
      },
      dropLiveTokens: () => {
        for (const t of as.issuedAccessTokens) mcp.dropped.add(t);
      },
    },
    async close() {
      await mcp.close();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
