// Taking over a grant another tool obtained (mcp-remote's plaintext store).
import { discover } from '../oauth/discovery.js';
import { UserError } from '../platform/errors.js';
import { displayUrl } from '../platform/urls.js';
import type { ClientRecord, ServerRecord } from '../types.js';
import type { ManagerContext } from './context.js';
import { appendActivity, normalizeUrl } from './records.js';
import { suggestId, uniqueId } from './status.js';
import { type ServerView, serverView } from './views.js';

/** A grant as another tool stored it: its tokens and its client registration. */
export interface ImportedGrant {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  scope?: string;
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod?: string;
  redirectUris?: string[];
  grantTypes?: string[];
  issuer?: string;
  name?: string;
  source: string;
}

/**
 * Discovers the server as `link` does, checks the AS is the one the grant names, then seals
 * the tokens and the client registration into the vault. The grant must still refresh at that AS.
 */
export async function importGrant(ctx: ManagerContext, rawUrl: string, g: ImportedGrant): Promise<ServerView> {
  const url = normalizeUrl(rawUrl);
  if (!g.clientId) throw new UserError('registration', `The grant from ${g.source} for ${displayUrl(url)} has no client registration with it, so it could never be refreshed.`, `Link it afresh: mcp-tokens link ${url}`);
  const disc = await discover(url, { progress: (l) => ctx.say(l), ...(ctx.d.fetchFn ? { fetchFn: ctx.d.fetchFn } : {}) });
  if (g.issuer && g.issuer.replace(/\/$/, '') !== disc.issuer.replace(/\/$/, '')) {
    throw new UserError('issuer-mismatch', `The grant from ${g.source} was issued by ${g.issuer}, but ${displayUrl(url)} now uses ${disc.issuer}.`, `Link it afresh: mcp-tokens link ${url}`);
  }
  const now = ctx.d.clock.now();
  const key = `${disc.issuer}#imported:${g.clientId}`;
  const record: ClientRecord = {
    key,
    issuer: disc.issuer,
    clientId: g.clientId,
    method: 'dynamic',
    tokenEndpointAuthMethod: g.tokenEndpointAuthMethod ?? (g.clientSecret ? 'client_secret_basic' : 'none'),
    redirectUris: g.redirectUris ?? [],
    grantTypes: g.grantTypes ?? ['authorization_code', 'refresh_token'],
    registeredAt: now,
    hasSecret: Boolean(g.clientSecret),
  };
  const scopes = g.scope !== undefined ? g.scope.split(/\s+/).filter(Boolean) : disc.scopes;
  const view = await ctx.d.vault.update((d) => {
    const existing = Object.values(d.servers).find((s) => s.url === url);
    if (existing && d.secrets.tokens[existing.id]?.accessToken) {
      throw new UserError('usage', `${displayUrl(url)} is already linked as "${existing.id}"; nothing imported.`, 'Unlink it first if you want the imported grant instead.');
    }
    const id = existing?.id ?? uniqueId(suggestId(url, g.name), (x) => Boolean(d.servers[x]));
    d.clients[key] = record;
    if (g.clientSecret) d.secrets.clients[key] = { clientSecret: g.clientSecret };
    const rec: ServerRecord = {
      id,
      name: g.name ?? existing?.name ?? id,
      url,
      resource: disc.resource,
      ...(disc.resourceMetadataUrl ? { resourceMetadataUrl: disc.resourceMetadataUrl } : {}),
      issuer: disc.issuer,
      asMetadata: disc.asMetadata,
      clientKey: key,
      requestedScopes: scopes,
      flow: 'browser',
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      state: { status: 'ok' },
      grant: {
        scope: scopes,
        tokenType: 'Bearer',
        ...(g.expiresAt !== undefined ? { expiresAt: g.expiresAt } : {}),
        hasRefreshToken: Boolean(g.refreshToken),
        obtainedAt: now,
        refreshCount: 0,
      } as NonNullable<ServerRecord['grant']>,
      activity: appendActivity(existing?.activity ?? [], { at: now, kind: 'linked', detail: `imported from ${g.source}` }),
    };
    d.servers[id] = rec;
    d.secrets.tokens[id] = { accessToken: g.accessToken, ...(g.refreshToken ? { refreshToken: g.refreshToken } : {}) };
    return serverView(ctx, d, rec);
  });
  ctx.say(`Imported the grant for ${displayUrl(url)} from ${g.source} as "${view.id}".`);
  return view;
}
