// Records kept in the vault. Everything here is non-secret and may be shown to people;
// secrets live in VaultSecrets and only ever in encrypted form on disk.

export type RegistrationMethod = 'pre-registered' | 'metadata-document' | 'dynamic';
export type FlowKind = 'browser' | 'device';
export type NeedsReauthReason = 'revoked' | 'expired' | 'rejected' | 'more-scope' | 'never-linked';
/**
 * How a server's grant is obtained and renewed: a person's authorization code (refresh token),
 * client credentials (SEP-1046), a workload's JWT assertion file (SEP-1933), or company sign-in
 * through an IdP profile (SEP-990: ID token -> ID-JAG -> JWT bearer grant).
 */
export type GrantKind = 'authorization_code' | 'client_credentials' | 'jwt_bearer' | 'idp';

/** A client registration at one authorization server. Never reused with another issuer. */
export interface ClientRecord {
  /** Key in the vault: the issuer plus, for pre-registered clients, the client id. */
  key: string;
  issuer: string;
  clientId: string;
  method: RegistrationMethod;
  tokenEndpointAuthMethod: string;
  redirectUris: string[];
  grantTypes: string[];
  registeredAt: number;
  /** Whether a client secret is held in the secrets (never the secret itself). */
  hasSecret: boolean;
}

/** Cached authorization server metadata (RFC 8414 / OIDC), as validated at discovery. */
export type AsMetadata = Record<string, unknown> & {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  device_authorization_endpoint?: string;
  registration_endpoint?: string;
};

export interface GrantInfo {
  scope: string[];
  tokenType: string;
  /** Epoch ms; undefined when the AS gave no expires_in. */
  expiresAt?: number;
  hasRefreshToken: boolean;
  obtainedAt: number;
  lastRefreshAt?: number;
  /** Why the last refresh happened: a 401 for the token before it ('rejected'), expiry, or by hand. */
  lastRefreshCause?: 'expiry' | 'rejected' | 'manual';
  refreshCount: number;
}

export interface ServerState {
  status: 'ok' | 'needs-reauth';
  reason?: NeedsReauthReason;
  detail?: string;
  /** Last failure that did not change status (e.g. AS down during refresh). */
  lastError?: { at: number; message: string };
}

export interface ServerRecord {
  id: string;
  name: string;
  /** The MCP server URL as the person gave it (normalized). */
  url: string;
  /** The canonical resource identifier sent as `resource` (RFC 8707). */
  resource: string;
  resourceMetadataUrl?: string;
  issuer: string;
  asMetadata: AsMetadata;
  clientKey: string;
  /** Scopes asked for at link time. */
  requestedScopes: string[];
  flow: FlowKind;
  createdAt: number;
  updatedAt: number;
  state: ServerState;
  grant?: GrantInfo;
  activity: ActivityEntry[];
  /** Names of the per-server headers the bridge sends; their values are sealed (secrets.headers). */
  headers?: string[];
  /** The MCP client (its `initialize` name) that last asked the broker for a token, and when. */
  lastUsed?: { client: string; at: number };
  /** DPoP (RFC 9449): the grant's key thumbprint when bound (the key is in secrets.dpop), or turned off by the person. */
  dpop?: DpopState;
  /** Absent: authorization_code (every server linked before grant kinds existed). */
  grantKind?: GrantKind;
  /** jwt_bearer: the assertion file, re-read at every token request (the path, never the token). */
  assertionFile?: string;
  /** idp: the name of the IdP profile whose sign-in this server uses. */
  idp?: string;
}

/** A company identity provider (SEP-990): one OpenID sign-in reused for every server that accepts it. */
export interface IdpRecord {
  name: string;
  issuer: string;
  clientId: string;
  /** The IdP's metadata as discovered (or just issuer and token endpoint when given by hand). */
  metadata: AsMetadata;
  tokenEndpointAuthMethod: string;
  hasSecret: boolean;
  createdAt: number;
  /** Who is signed in (claims of the ID token, never the token), when there is a sign-in. */
  signedIn?: { subject: string; email?: string; displayName?: string; at: number; idTokenExpiresAt?: number; hasRefreshToken: boolean; source: 'browser' | 'file' };
  /** needs-sign-in: the IdP session ended (refresh refused, ID token expired): one prompt for every server of this IdP. */
  state: { status: 'ok' | 'needs-sign-in'; detail?: string };
}

export type DpopState = { mode: 'bound'; jkt: string; alg: 'ES256' } | { mode: 'off' };

export interface ActivityEntry {
  at: number;
  kind: 'linked' | 'refreshed' | 'refresh-failed' | 'revoked' | 'reauthorized' | 'recovered' | 'rejected' | 'used';
  detail?: string;
  /** The MCP client involved, when one was (its own name from `initialize`). */
  client?: string;
}

/** Secrets per server and per client; serialized to JSON and encrypted as one blob. */
export interface VaultSecrets {
  tokens: Record<string, { accessToken: string; refreshToken?: string; idToken?: string }>;
  clients: Record<string, { clientSecret?: string; registrationAccessToken?: string; privateKeyPem?: string }>;
  /** Per IdP profile: its client secret and the person's ID and refresh tokens there. */
  idps?: Record<string, { clientSecret?: string; idToken?: string; refreshToken?: string }>;
  /** Per-server headers as written (`${VAR}` unexpanded): values may be API keys. */
  headers?: Record<string, Array<{ name: string; value: string }>>;
  /** Per-server DPoP private keys (a P-256 JWK), made and used only by the broker. */
  dpop?: Record<string, { privateJwk: DpopPrivateJwk }>;
}

/** A private EC P-256 JWK (kty, crv, x, y, d): sealed in the vault, never sent anywhere. */
export interface DpopPrivateJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
}

/** An operation that talks to the AS and then must write; recorded before, cleared after. */
export interface PendingOp {
  id: string;
  op: 'refresh' | 'link' | 'revoke';
  serverId: string;
  startedAt: number;
  pid: number;
}

export interface VaultData {
  version: 1;
  servers: Record<string, ServerRecord>;
  clients: Record<string, ClientRecord>;
  secrets: VaultSecrets;
  /** Ops in flight; a leftover one at start means a process died mid-way (reported, then cleared). */
  pending: PendingOp[];
  /** Company identity providers by name (absent in vaults written before they existed). */
  idps?: Record<string, IdpRecord>;
}

/** What the consent card shows before a sign-in: found by discovery, nothing secret. */
export interface LinkPreview {
  url: string;
  resource: string;
  resourceName?: string;
  transport: 'streamable-http' | 'sse';
  issuer: string;
  issuerHost: string;
  issuerOtherSite: boolean;
  insecureHttp: boolean;
  scopes: string[];
  registration: 'pre-registered' | 'metadata-document' | 'dynamic' | 'reuse' | 'impossible';
  flows: FlowKind[];
  defaultFlow: FlowKind;
  alreadyLinkedAs?: string;
  /** Grants no person approves that the AS offers (issue 25): "Sign in with <company>" needs jwtBearer. */
  grants?: { jwtBearer: boolean; clientCredentials: boolean };
}
