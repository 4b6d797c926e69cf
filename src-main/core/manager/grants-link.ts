// Linking a server with a grant no person approves at the server: client credentials, a
// workload's assertion file, or company sign-in through an IdP profile. No browser opens; the
// first token is obtained before anything is stored, so a refused grant leaves nothing behind.
import { resolve } from 'node:path';
import { discover } from '../oauth/discovery.js';
import * as grants from '../oauth/grants.js';
import { checkHeaders, type HeaderSpec } from '../platform/custom-headers.js';
import { UserError } from '../platform/errors.js';
import type { ClientRecord, GrantKind, ServerRecord } from '../types.js';
import { type ManagerContext, linkProgress } from './context.js';
import { type MachinePlan, obtain, readAssertion } from './grants-obtain.js';
import { grantLabel, refuseUnofferedGrant } from './grants-view.js';
import { appendActivity, forgetUnusedClient, grantFrom, normalizeUrl, storeHeaders } from './records.js';
import { suggestId, uniqueId } from './status.js';
import { type ServerView, serverView } from './views.js';

export interface GrantLinkOptions {
  grant: Exclude<GrantKind, 'authorization_code'>;
  name?: string;
  clientId?: string;
  clientSecret?: string;
  /** PEM content of the client's private key (private_key_jwt). */
  privateKeyPem?: string;
  /** jwt_bearer: the path of the workload's assertion file. */
  assertionFile?: string;
  /** idp: the profile's name. */
  idp?: string;
  scopes?: string[];
  headers?: HeaderSpec[];
  progress?: (line: string) => void;
}

const WHAT: Record<GrantLinkOptions['grant'], [string, string]> = {
  client_credentials: [grants.GRANT_CLIENT_CREDENTIALS, 'the client credentials grant'],
  jwt_bearer: [grants.GRANT_JWT_BEARER, 'the JWT bearer grant (workload identity)'],
  idp: [grants.GRANT_JWT_BEARER, 'the JWT bearer grant (company sign-in)'],
};

export async function linkWithGrant(ctx: ManagerContext, rawUrl: string, opts: GrantLinkOptions): Promise<ServerView> {
  if (opts.progress) {
    const { progress, ...rest } = opts;
    return linkProgress.run(progress, () => linkWithGrant(ctx, rawUrl, rest));
  }
  const url = normalizeUrl(rawUrl);
  const headers = opts.headers ? checkHeaders(opts.headers) : undefined;
  if (opts.grant === 'client_credentials' && !opts.clientId) throw new UserError('usage', 'The client credentials grant needs --client-id.');
  if (opts.grant === 'client_credentials' && opts.clientSecret === undefined && opts.privateKeyPem === undefined) {
    throw new UserError('usage', 'The client credentials grant needs --client-secret-file or --client-key-file.');
  }
  if (opts.grant === 'idp' && !opts.clientId) throw new UserError('usage', 'Company sign-in needs --client-id: the client id this app has at the server\'s authorization server.');
  const assertionFile = opts.assertionFile !== undefined ? resolve(opts.assertionFile) : undefined;
  if (opts.grant === 'jwt_bearer') {
    if (!assertionFile) throw new UserError('usage', 'Workload identity needs --assertion-file.');
    await readAssertion(assertionFile); // a clear error now rather than at the AS
  }
  if (opts.grant === 'idp') {
    const d = await ctx.d.vault.read();
    if (!opts.idp || !d.idps?.[opts.idp]) {
      const known = Object.keys(d.idps ?? {});
      throw new UserError('not-found', `No company identity provider "${opts.idp ?? ''}".`, known.length ? `Known: ${known.join(', ')}.` : 'Add one first: mcp-tokens idp add <name> --issuer URL --client-id ID.');
    }
  }

  const disc = await discover(url, {
    progress: (l) => ctx.say(l),
    ...(ctx.d.fetchFn ? { fetchFn: ctx.d.fetchFn } : {}),
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
  });
  const as = disc.asMetadata;
  if (!as.token_endpoint) throw new UserError('discovery', `The authorization server ${disc.issuer} names no token endpoint.`);
  const [grantType, what] = WHAT[opts.grant];
  refuseUnofferedGrant(as, grantType, what);
  const auth = grants.chooseMachineAuth(as, {
    ...(opts.clientId ? { clientId: opts.clientId } : {}),
    ...(opts.clientSecret !== undefined ? { secret: opts.clientSecret } : {}),
    ...(opts.privateKeyPem !== undefined ? { privateKeyPem: opts.privateKeyPem } : {}),
  });
  const plan: MachinePlan = {
    kind: opts.grant,
    as,
    auth,
    resource: disc.resource,
    scopes: disc.scopes,
    ...(assertionFile ? { assertionFile } : {}),
    ...(opts.idp ? { idp: opts.idp } : {}),
  };
  ctx.say(opts.grant === 'idp' ? `Asking ${opts.idp} for a grant for ${disc.issuer}…` : `Asking ${disc.issuer} for a token (${what})…`);
  const tokens = await obtain(ctx, plan);

  const now = ctx.d.clock.now();
  const clientId = auth.method === 'anonymous' ? '' : auth.clientId;
  const record: ClientRecord = {
    // One record per grant kind: the same client id may sign in a person at this AS with other credentials.
    key: `${disc.issuer}#${clientId}#${opts.grant}`,
    issuer: disc.issuer,
    clientId,
    method: 'pre-registered',
    tokenEndpointAuthMethod: auth.method === 'anonymous' ? 'none' : auth.method,
    redirectUris: [],
    grantTypes: [grantType],
    registeredAt: now,
    hasSecret: auth.method === 'client_secret_basic' || auth.method === 'client_secret_post' || auth.method === 'private_key_jwt',
  };
  const view = await ctx.d.vault.update((d) => {
    const existing = Object.values(d.servers).find((s) => s.url === url);
    const id = existing ? existing.id : uniqueId(suggestId(url, opts.name), (x) => Boolean(d.servers[x]));
    const prev = d.servers[id];
    d.clients[record.key] = record;
    if (prev && prev.clientKey !== record.key) forgetUnusedClient(d, prev.clientKey, id);
    if (auth.method === 'private_key_jwt') d.secrets.clients[record.key] = { privateKeyPem: auth.privateKeyPem };
    else if (auth.method === 'client_secret_basic' || auth.method === 'client_secret_post') d.secrets.clients[record.key] = { clientSecret: auth.secret };
    else delete d.secrets.clients[record.key];
    const name = disc.resourceMetadata?.resource_name;
    const rec: ServerRecord = {
      id,
      name: opts.name ?? prev?.name ?? (typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : id),
      url,
      resource: disc.resource,
      ...(disc.resourceMetadataUrl ? { resourceMetadataUrl: disc.resourceMetadataUrl } : {}),
      issuer: disc.issuer,
      asMetadata: as,
      clientKey: record.key,
      requestedScopes: disc.scopes,
      flow: 'browser',
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
      state: { status: 'ok' },
      grant: grantFrom(tokens, disc.scopes, now, 0),
      activity: [],
      grantKind: opts.grant,
      ...(assertionFile ? { assertionFile } : {}),
      ...(opts.idp ? { idp: opts.idp } : {}),
    };
    rec.activity = appendActivity(prev?.activity ?? [], { at: now, kind: prev ? 'reauthorized' : 'linked', detail: `via ${grantLabel(opts.grant, opts.idp).toLowerCase()}` });
    if (prev?.headers) rec.headers = prev.headers;
    d.servers[id] = rec;
    // Nothing to renew with but the grant itself: a refresh token, if the AS sent one, is not kept.
    d.secrets.tokens[id] = { accessToken: tokens.accessToken };
    rec.grant!.hasRefreshToken = false;
    if (headers) storeHeaders(d, rec, headers);
    return serverView(ctx, d, rec);
  });
  ctx.say(`Linked "${view.id}" (${view.url}) with ${grantLabel(opts.grant, opts.idp).toLowerCase()}; granted scopes: ${view.scopes.join(' ') || '(none)'}.`);
  return view;
}
