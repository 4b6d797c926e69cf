// The one typed contract between the UI and main: every request the renderer may make, its
// arguments (validated at the boundary with these schemas) and its result, plus the events
// main pushes. The Electron preload, the IPC handlers, `mcp-tokens ui` and the renderer store
// are all derived from this file. Nothing in it ever carries a token or a secret.
import { z } from 'zod';
// The contract maps domain types; these few pass through unchanged (type-only: erased at build).
import type { ActivityEntry, FlowKind, LinkPreview } from '../src-main/core/types.js';
export type { ActivityEntry, FlowKind, LinkPreview };

const serverId = z.string().min(1).max(200);
const httpUrl = z
  .string()
  .min(1)
  .max(2048)
  .refine((s) => /^https?:\/\//i.test(s.trim()), { message: 'must be an http(s) URL' });
const scopes = z.array(z.string().min(1).max(200).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'not a valid scope token')).max(50);
// The MCP clients whose config files the app writes (core/clients/descriptors.ts has each one's file and format).
export const CLIENT_KINDS = [
  'claude',
  'cursor',
  'vscode',
  'claude-code',
  'gemini-cli',
  'codex',
  'copilot-cli',
  'opencode',
  'qwen-code',
  'cline',
  'continue',
  'kilo',
  'windsurf',
  'zed',
  'goose',
  'lm-studio',
  'roo-code',
  'vscode-insiders',
] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export const linkRequestSchema = z
  .object({
    url: httpUrl,
    name: z.string().trim().min(1).max(100).optional(),
    flow: z.enum(['browser', 'device']).optional(),
    clientId: z.string().min(1).max(500).optional(),
    clientMetadataUrl: httpUrl.optional(),
    scopes: scopes.optional(),
  })
  .strict();
export type LinkRequest = z.infer<typeof linkRequestSchema>;

export const settingsSchema = z
  .object({
    launchAtLogin: z.boolean(),
    startInTray: z.boolean(),
    refreshAheadMinutes: z.number().int().min(1).max(60),
    notifyOnReauth: z.boolean(),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
export const DEFAULT_SETTINGS: Settings = { launchAtLogin: false, startInTray: true, refreshAheadMinutes: 5, notifyOnReauth: true };

export const migrateOptionsSchema = z
  .object({ importTokens: z.boolean(), deletePlaintext: z.boolean() })
  .strict()
  // Deleting mcp-remote's files without importing them would sign the person out.
  .refine((o) => o.importTokens || !o.deletePlaintext, { message: 'deletePlaintext needs importTokens' });
export type MigrateOptions = z.infer<typeof migrateOptionsSchema>;

/**
 * One row of a server's headers as the person left it. A stored value never comes back to the
 * UI, so a row whose value was not touched says `keep` (the stored value of header `from`,
 * default the same name, is kept) instead of sending a value; a typed value replaces it.
 * The bounds here only stop absurd input; the rules are checked (in UI words) by the handler.
 */
export const headerEditSchema = z.union([
  z.object({ name: z.string().max(1000), value: z.string().max(65_536) }).strict(),
  z.object({ name: z.string().max(1000), keep: z.literal(true), from: z.string().min(1).max(1000).optional() }).strict(),
]);
export type HeaderEdit = z.infer<typeof headerEditSchema>;

const idpName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'letters, digits, ".", "_" or "-" (up to 40)');
// A client secret goes from the window to main (to be sealed), never back.
const clientSecret = z.string().min(1).max(4096);
export const idpAddSchema = z
  .object({ name: idpName, issuer: httpUrl, clientId: z.string().trim().min(1).max(500), clientSecret: clientSecret.optional(), tokenEndpoint: httpUrl.optional() })
  .strict();
export type IdpAddRequest = z.infer<typeof idpAddSchema>;
export const linkWithIdpSchema = z
  .object({ url: httpUrl, idp: idpName, clientId: z.string().trim().min(1).max(500), clientSecret: clientSecret.optional(), name: z.string().trim().min(1).max(100).optional() })
  .strict();
export type LinkWithIdpRequest = z.infer<typeof linkWithIdpSchema>;

/** Argument schemas, one tuple per channel. */
export const requestSchemas = {
  'app/info': z.tuple([]),
  'servers/list': z.tuple([]),
  'servers/get': z.tuple([serverId]),
  'servers/preview': z.tuple([linkRequestSchema.pick({ url: true, clientId: true, clientMetadataUrl: true, scopes: true })]),
  'servers/link': z.tuple([linkRequestSchema]),
  'servers/cancelLink': z.tuple([z.string().uuid()]),
  'servers/refresh': z.tuple([serverId]),
  'servers/reauthorize': z.tuple([serverId, z.object({ flow: z.enum(['browser', 'device']).optional() }).strict()]),
  /** Another account on the same server: a new grant (its own id and tokens), the same client registration. */
  'servers/addAccount': z.tuple([
    serverId,
    z
      .object({
        name: z.string().trim().min(1).max(100).optional(),
        /** The account to sign in with (sent as login_hint): an email or user name. */
        loginHint: z.string().trim().min(1).max(200).refine((s) => ![...s].some((c) => c < ' ' || c === '\u007f'), { message: 'not printable' }).optional(),
        flow: z.enum(['browser', 'device']).optional(),
      })
      .strict(),
  ]),
  'servers/revoke': z.tuple([serverId]),
  'servers/unlink': z.tuple([serverId, z.object({ removeFromClients: z.boolean().optional() }).strict().optional()]),
  'servers/clientConfig': z.tuple([serverId, z.enum(CLIENT_KINDS)]),
  /** Replaces the server's headers with this list (an empty list removes them all). */
  'servers/setHeaders': z.tuple([serverId, z.array(headerEditSchema).max(100)]),
  'clients/add': z.tuple([serverId, z.enum(CLIENT_KINDS)]),
  'clients/remove': z.tuple([serverId, z.enum(CLIENT_KINDS)]),
  'clients/list': z.tuple([]),
  'activity/list': z.tuple([]),
  'app/flows': z.tuple([]),
  'clients/migrationPlan': z.tuple([]),
  'clients/migrate': z.tuple([migrateOptionsSchema]),
  'consent/answer': z.tuple([z.string().uuid(), z.object({ approve: z.boolean(), flow: z.enum(['browser', 'device']).optional(), name: z.string().trim().min(1).max(100).optional() }).strict()]),
  'settings/get': z.tuple([]),
  'settings/set': z.tuple([settingsSchema.partial().strict()]),
  'shell/openExternal': z.tuple([httpUrl]),
  'network/status': z.tuple([]),
  /** Tries a linked server's URL through the network as configured. */
  'network/test': z.tuple([serverId]),
  // Company sign-in (issue 25): identity provider profiles, and linking a server through one.
  'idp/list': z.tuple([]),
  'idp/add': z.tuple([idpAddSchema]),
  'idp/signIn': z.tuple([idpName]),
  'idp/signOut': z.tuple([idpName]),
  'idp/remove': z.tuple([idpName]),
  'servers/linkWithIdp': z.tuple([linkWithIdpSchema]),
} as const;

export type Channel = keyof typeof requestSchemas;
export type ArgsOf<C extends Channel> = z.infer<(typeof requestSchemas)[C]>;

/** A per-server header as the UI sees it: never a stored literal value. */
export interface HeaderSummary {
  name: string;
  /** The value with every literal part shown as •••; `${VAR}` references as written (not secrets). */
  value: string;
  /** Some of the value is hidden (a literal part); false when it is only `${VAR}` references. */
  hidden: boolean;
}

/** A server as the UI sees it: metadata only. */
export interface ServerSummary {
  id: string;
  name: string;
  url: string;
  resource: string;
  issuer: string;
  status: 'ok' | 'expiring' | 'needs-reauth';
  reason?: 'revoked' | 'expired' | 'rejected' | 'more-scope' | 'never-linked';
  detail?: string;
  scopes: string[];
  expiresAt?: string;
  hasRefreshToken: boolean;
  lastRefreshAt?: string;
  registration: { method: string; clientId?: string };
  flow: FlowKind;
  lastError?: string;
  activity: ActivityEntry[];
  /** MCP clients whose config runs a bridge for this server. */
  usedBy: string[];
  /** Headers the bridge sends to this server on every request, values masked. */
  headers: HeaderSummary[];
  /** The MCP client that last asked for a token for this server (its own name from `initialize`), and when. */
  lastUsed?: { client: string; at: number };
  /** DPoP (RFC 9449): tokens bound to a key the app holds (its public thumbprint), or turned off. */
  dpop?: { bound: boolean; thumbprint?: string; off?: true };
  /** How the server is signed in: a person, company sign-in through an IdP, machine credentials, workload identity. */
  grant?: { kind: 'authorization_code' | 'client_credentials' | 'jwt_bearer' | 'idp'; label: string; idp?: string };
}

/** A company identity provider as the UI sees it: who is signed in, never a token. */
export interface IdpSummary {
  name: string;
  issuer: string;
  clientId: string;
  status: 'signed-in' | 'needs-sign-in';
  detail?: string;
  signedIn?: { subject: string; email?: string; displayName?: string; at: number; idTokenExpiresAt?: number; hasRefreshToken: boolean };
  /** Ids of the servers that use this sign-in. */
  servers: string[];
}

/** One entry of the Activity screen: a server's activity entry with the server named. */
export interface ActivityItem extends ActivityEntry {
  serverId: string;
  serverName: string;
}

/** One MCP client on this machine, as the Clients page shows it. */
export interface ClientOverview {
  kind: ClientKind;
  label: string;
  /** The user-scope config file the app writes. */
  file: string;
  /** Its config file (or the folder it lives in) exists: the client looks installed. */
  found: boolean;
  /** Why the file could not be read (then nothing is written to it). */
  error?: string;
  /** Entries that run the bridge: the entry's key and the server id or URL it bridges. */
  bridged: Array<{ name: string; target: string; serverId?: string }>;
  /** Entries that still run mcp-remote. */
  mcpRemote: number;
}

/** The bridge entry removed from an MCP client's config file. */
export interface ClientRemoveResult {
  client: ClientKind;
  file: string;
  /** The entry keys removed (none when the server was not there). */
  removed: string[];
  backup?: string;
}


export interface AppInfo {
  version: string;
  host: 'electron' | 'browser';
  secrets: { kind: string; description: string; weak: boolean };
  dataDir: string;
  /** The demo MCP server (`npm run demo` in the source) answers on this machine now: offer to try it. */
  demo?: { url: string };
}

/** The bridge entry written into an MCP client's config file. */
export interface ClientAddResult {
  client: ClientKind;
  /** The file written (symlinks resolved). */
  file: string;
  /** The entry's key in the file. */
  name: string;
  action: 'added' | 'updated' | 'unchanged';
  /** The file did not exist before. */
  created: boolean;
  /** A copy of the previous file, written before the change. */
  backup?: string;
  /** An unrelated entry already had the wanted name; it was left alone. */
  nameTakenBy?: string;
  /** What to do next, when it is not "restart the client". */
  note?: string;
}

/** What `migrate` says about one flag of an mcp-remote entry (see core/clients/mcp-remote.ts). */
export interface MigrationNoteSummary {
  flag: string;
  kind: 'automatic' | 'dropped' | 'action' | 'blocking';
  text: string;
}

/** One mcp-remote entry found in a client config: no header values, no URL query values, no tokens. */
export interface MigrationEntrySummary {
  client: string;
  kind: ClientKind;
  scope: 'user' | 'project';
  file: string;
  name: string;
  /** The server URL, query values hidden. */
  url?: string;
  action: 'replace' | 'keep';
  /** The command line now and after the change, header values hidden. */
  before: string;
  after?: string;
  notes: MigrationNoteSummary[];
  /** A `mcp-tokens link …` command that carries registration settings over, to run before first use. */
  linkCommand?: string;
  /** mcp-remote has a stored sign-in for this server that can be imported. */
  hasGrant: boolean;
  grantHasRefreshToken?: boolean;
  grantExpiresAt?: string;
}

export interface MigrationPlanSummary {
  entries: MigrationEntrySummary[];
  /** Config files that could not be read (e.g. not valid JSON); left alone. */
  unreadable: Array<{ file: string; client: string; error: string; mentionsMcpRemote: boolean }>;
  /** mcp-remote grants no entry accounts for (left alone). */
  unmatchedGrants: number;
  /** mcp-remote's token directory. */
  authDir: string;
}

export interface MigrationResultSummary {
  files: Array<{ file: string; client: string; backup?: string; replaced: string[]; skipped: Array<{ name: string; reason: string }>; error?: string }>;
  imports: Array<{ server: string; ok: boolean; id?: string; error?: string; deletedFiles: number }>;
}

export interface ApiResults {
  'app/info': AppInfo;
  'servers/list': ServerSummary[];
  'servers/get': ServerSummary;
  'servers/preview': LinkPreview;
  /** note: said at once when the grant cannot renew itself (offline access asked, no refresh token). */
  'servers/link': { flowId: string; server: ServerSummary; note?: string };
  'servers/cancelLink': { cancelled: boolean };
  'servers/refresh': ServerSummary;
  'servers/reauthorize': ServerSummary;
  'servers/addAccount': { flowId: string; server: ServerSummary };
  'servers/revoke': { server: ServerSummary; revokedAtAs: string[]; note?: string };
  'servers/unlink': { id: string; revokedAtAs: string[]; note?: string; clients?: ClientRemoveResult[] };
  'servers/clientConfig': { client: ClientKind; snippet: string; file?: string };
  'servers/setHeaders': ServerSummary;
  'clients/add': ClientAddResult;
  'clients/remove': ClientRemoveResult;
  'clients/list': ClientOverview[];
  'activity/list': ActivityItem[];
  'app/flows': { running: Array<{ flowId: string; url: string }> };
  'clients/migrationPlan': MigrationPlanSummary;
  'clients/migrate': MigrationResultSummary;
  'consent/answer': { ok: true };
  'settings/get': Settings;
  'settings/set': Settings;
  'shell/openExternal': { opened: boolean };
  'network/status': NetworkStatus;
  'network/test': NetworkTestResult;
  'idp/list': IdpSummary[];
  'idp/add': IdpSummary;
  'idp/signIn': IdpSummary;
  'idp/signOut': IdpSummary;
  'idp/remove': { name: string; servers: string[] };
  'servers/linkWithIdp': { flowId: string; server: ServerSummary };
}

/** Where this process's proxy and certificates come from (Settings' Network card). */
export interface NetworkStatus {
  mode: 'system' | 'environment' | 'direct';
  /** In words, credentials never included. */
  summary: string;
  certificates: string;
}

export interface NetworkTestResult {
  ok: boolean;
  /** host:port tried. */
  server: string;
  /** What happened, in words. */
  message: string;
}

/** Events main pushes to the UI. */
export interface ApiEvents {
  'servers/changed': ServerSummary[];
  /** A step of a link in progress (flowId from the request that started it). */
  'link/progress': { flowId: string; kind?: 'preview' | 'link'; url: string; line: string };
  'link/deviceCode': { flowId: string; userCode: string; verificationUri: string; verificationUriComplete?: string; expiresAt: number };
  /** Every progress stream ends with this, discovery (`kind: 'preview'`) included; `cancelled` when the person stopped it. */
  'link/done': { flowId: string; ok: boolean; kind?: 'preview' | 'link'; cancelled?: boolean; serverId?: string; error?: { code?: string; message: string; hint?: string; detail?: string } };
  /** A bridge asks to link an unknown server: show the consent card. */
  'consent/request': { requestId: string; requestedBy: string; preview: LinkPreview };
  /** The client asking got its name after the request went up (a late initialize): the card names it. */
  'consent/update': { requestId: string; requestedBy: string };
}
export type EventName = keyof ApiEvents;

/** The object the preload exposes (and the HTTP client implements): one method per channel. */
export type Api = {
  [C in Channel]: (...args: ArgsOf<C>) => Promise<ApiResults[C]>;
} & {
  on<E extends EventName>(event: E, fn: (payload: ApiEvents[E]) => void): () => void;
};

export const CHANNELS = Object.keys(requestSchemas) as Channel[];
export const EVENTS: EventName[] = ['servers/changed', 'link/progress', 'link/deviceCode', 'link/done', 'consent/request', 'consent/update'];

/** Errors cross the boundary as plain data (never a stack, never a secret). */
export interface ApiError {
  code: string;
  message: string;
  hint?: string;
  /** The technical account (folded behind "Show details" in the UI). */
  detail?: string;
}

export class ApiArgumentError extends Error {
  constructor(
    readonly channel: string,
    readonly issues: string,
  ) {
    super(`Invalid arguments for ${channel}: ${issues}`);
    this.name = 'ApiArgumentError';
  }
}

/** Validates a request's arguments against the contract; throws ApiArgumentError with a plain description. */
export function checkCallArgs<C extends Channel>(channel: C, args: unknown): ArgsOf<C> {
  const schema = requestSchemas[channel];
  const r = schema.safeParse(args);
  if (!r.success) {
    throw new ApiArgumentError(channel, r.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; '));
  }
  return r.data as ArgsOf<C>;
}

export function isChannel(s: unknown): s is Channel {
  return typeof s === 'string' && Object.hasOwn(requestSchemas, s);
}

/** What a host (Electron IPC, `mcp-tokens ui`) serves: one handler per channel, already validated args. */
export type ApiHandlers = {
  [C in Channel]: (...args: ArgsOf<C>) => Promise<ApiResults[C]>;
};

/** The service behind every host: handlers plus the event stream. */
export interface ApiService {
  handlers: ApiHandlers;
  on<E extends EventName>(event: E, fn: (payload: ApiEvents[E]) => void): () => void;
  close(): Promise<void>;
}
