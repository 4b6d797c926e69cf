// How an mcp-remote grant becomes a vault grant: the one mapping, shared by `mcp-tokens migrate
// --import-tokens` and the app's migration, so both import exactly the same fields.
import type { Manager } from '../manager/manager.js';
import type { GrantToImport, ImportGrant } from './migrate.js';

/** The manager's import arguments for one mcp-remote grant (its token and client files). */
export function importArgsOf(g: GrantToImport): Parameters<Manager['importGrant']>[1] {
  const expiresAt = typeof g.tokens.expires_at === 'number' ? g.tokens.expires_at : undefined;
  return {
    accessToken: g.tokens.access_token,
    ...(g.tokens.refresh_token ? { refreshToken: g.tokens.refresh_token } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(typeof g.tokens.scope === 'string' ? { scope: g.tokens.scope } : {}),
    // An empty client id makes the manager refuse the grant with its own explanation.
    clientId: g.clientInfo?.client_id ?? '',
    ...(g.clientInfo?.client_secret ? { clientSecret: g.clientInfo.client_secret } : {}),
    ...(g.clientInfo?.token_endpoint_auth_method ? { tokenEndpointAuthMethod: g.clientInfo.token_endpoint_auth_method } : {}),
    ...(g.clientInfo?.redirect_uris ? { redirectUris: g.clientInfo.redirect_uris } : {}),
    ...(g.issuer ? { issuer: g.issuer } : {}),
    source: 'mcp-remote',
  };
}

/** An importer for applyMigration that re-seals each grant into the manager's vault. */
export function managerGrantImporter(manager: Pick<Manager, 'importGrant'>): ImportGrant {
  return async (g) => {
    const v = await manager.importGrant(g.serverUrl, importArgsOf(g));
    return { id: v.id };
  };
}
