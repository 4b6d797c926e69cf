// This app's client registration at an AS, for a link: pre-registered, a client metadata
// document, a reused or a fresh dynamic registration, and a second try when the AS refuses it.
import type { DiscoveryResult } from '../oauth/discovery.js';
import { type LoopbackListener, startLoopback } from '../oauth/loopback.js';
import * as wire from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import { displayUrl, safeHttpUrl } from '../platform/urls.js';
import type { ClientRecord, FlowKind, VaultData } from '../types.js';
import type { ManagerContext } from './context.js';
import { forgetUnusedClient } from './records.js';
import type { LinkOptions } from './sign-in.js';

export function findDynamicClient(data: VaultData, issuer: string, flow: FlowKind): ClientRecord | undefined {
  const grant = flow === 'browser' ? 'authorization_code' : 'urn:ietf:params:oauth:grant-type:device_code';
  return Object.values(data.clients)
    .filter((c) => c.issuer === issuer && c.method === 'dynamic' && c.grantTypes.includes(grant))
    .sort((a, b) => b.registeredAt - a.registeredAt)[0];
}

function pinnedPort(uris: string[]): number | undefined {
  for (const u of uris) {
    try {
      const p = new URL(u).port;
      if (p) return Number(p);
    } catch {
      // ignore unparsable stored URIs
    }
  }
  return undefined;
}

function redirectMatches(uris: string[], l: LoopbackListener): boolean {
  return uris.includes(l.redirectUri);
}

/** Binds the redirect listener first, so a dynamic registration can name its exact port. */
export async function bindListener(ctx: ManagerContext, data: VaultData, disc: DiscoveryResult, opts: LinkOptions): Promise<LoopbackListener> {
  const reuse = opts.clientId ? undefined : findDynamicClient(data, disc.issuer, 'browser');
  const pinned = reuse ? pinnedPort(reuse.redirectUris) : undefined;
  if (pinned !== undefined) {
    try {
      return await startLoopback({ port: pinned });
    } catch {
      ctx.say(`Port ${pinned} of the earlier registration is busy; registering again with a new port.`);
    }
  }
  return startLoopback();
}

export async function ensureClient(ctx: ManagerContext, data: VaultData, disc: DiscoveryResult, flow: FlowKind, opts: LinkOptions, listener?: LoopbackListener): Promise<wire.ClientCredentials> {
  const as = disc.asMetadata;
  const now = ctx.d.clock.now();
  const grantTypes = flow === 'browser' ? ['authorization_code', 'refresh_token'] : ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'];
  const redirectUris = listener ? [listener.redirectUri] : [];
  if (opts.clientId) {
    const method = opts.clientSecret ? wire.pickSecretAuthMethod(as) : 'none';
    ctx.say(`Using the pre-registered client ${opts.clientId}.`);
    return {
      record: { key: `${disc.issuer}#${opts.clientId}`, issuer: disc.issuer, clientId: opts.clientId, method: 'pre-registered', tokenEndpointAuthMethod: method, redirectUris, grantTypes, registeredAt: now, hasSecret: Boolean(opts.clientSecret) },
      ...(opts.clientSecret ? { clientSecret: opts.clientSecret } : {}),
    };
  }
  if (opts.clientMetadataUrl) {
    if (as.client_id_metadata_document_supported === true) {
      const cimd = safeHttpUrl(opts.clientMetadataUrl, 'client metadata document URL');
      if (cimd.protocol !== 'https:' && !disc.issuer.startsWith('http:')) {
        throw new UserError('registration', 'A client metadata document URL must use https.', 'Host the document over https.');
      }
      ctx.say(`Using the client metadata document ${cimd.href} as client id.`);
      return { record: { key: `${disc.issuer}#${cimd.href}`, issuer: disc.issuer, clientId: cimd.href, method: 'metadata-document', tokenEndpointAuthMethod: 'none', redirectUris, grantTypes, registeredAt: now, hasSecret: false } };
    }
    ctx.say('The authorization server does not accept client metadata documents; falling back to dynamic registration.');
  }
  const reuse = findDynamicClient(data, disc.issuer, flow);
  if (reuse && (flow === 'device' || (listener && redirectMatches(reuse.redirectUris, listener)))) {
    ctx.say(`Reusing this app's registration at ${disc.issuer} (client ${reuse.clientId}).`);
    const secret = data.secrets.clients[reuse.key]?.clientSecret;
    return { record: reuse, ...(secret ? { clientSecret: secret } : {}) };
  }
  if (!as.registration_endpoint) {
    throw new UserError(
      'registration',
      `The authorization server ${disc.issuer} offers no dynamic registration${as.client_id_metadata_document_supported ? '' : ' and no client metadata documents'}, so this app cannot register itself.`,
      'Register an app with the provider and pass --client-id (and --client-secret-file for a confidential client).',
    );
  }
  return registerClient(ctx, disc, redirectUris, grantTypes);
}

/** Dynamic client registration, saved at once (a later failure must not cost a fresh registration). */
async function registerClient(ctx: ManagerContext, disc: DiscoveryResult, redirectUris: string[], grantTypes: string[], authMethod?: string): Promise<wire.ClientCredentials> {
  const as = disc.asMetadata;
  const now = ctx.d.clock.now();
  ctx.say(`Registering this app at ${displayUrl(String(as.registration_endpoint))} (dynamic client registration)…`);
  // No `scope` in the registration: some ASes then cap the client at those scopes, which
  // would make a later step-up (403 insufficient_scope) impossible without re-registering.
  const reg = await wire.registerDynamicClient(as, { redirectUris, grantTypes, ...(authMethod ? { authMethod } : {}) });
  const record: ClientRecord = {
    key: `${disc.issuer}#dcr:${reg.clientId}`,
    issuer: disc.issuer,
    clientId: reg.clientId,
    method: 'dynamic',
    tokenEndpointAuthMethod: reg.tokenEndpointAuthMethod,
    redirectUris: reg.redirectUris,
    grantTypes: reg.grantTypes,
    registeredAt: now,
    hasSecret: Boolean(reg.clientSecret),
  };
  await ctx.d.vault.update((d) => {
    d.clients[record.key] = record;
    if (reg.clientSecret || reg.registrationAccessToken) {
      d.secrets.clients[record.key] = {
        ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}),
        ...(reg.registrationAccessToken ? { registrationAccessToken: reg.registrationAccessToken } : {}),
      };
    }
  });
  return { record, ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}) };
}

/**
 * The AS refused this app's client credentials (invalid_client) while signing in: a dynamic
 * registration is replaced by one with another auth method, a pre-registered client with a
 * secret tries its other method. Undefined when there is nothing else to try.
 */
export async function clientRefused(ctx: ManagerContext, err: unknown, creds: wire.ClientCredentials, disc: DiscoveryResult, listener?: LoopbackListener): Promise<wire.ClientCredentials | undefined> {
  if (!(err instanceof wire.OAuthWireError) || err.oauthError !== 'invalid_client') return undefined;
  const rec = creds.record;
  const method = wire.alternateAuthMethod(disc.asMetadata, rec.tokenEndpointAuthMethod);
  if (!method) return undefined;
  if (rec.method === 'pre-registered') {
    if (!creds.clientSecret || method === 'none') return undefined;
    ctx.say(`${disc.issuer} refused the client credentials sent with ${rec.tokenEndpointAuthMethod} (${wire.describeOAuthError(err.cause)}); trying ${method} and asking for approval once more.`);
    return { ...creds, record: { ...rec, tokenEndpointAuthMethod: method } };
  }
  if (rec.method !== 'dynamic' || !disc.asMetadata.registration_endpoint) return undefined;
  ctx.say(`${disc.issuer} refused this app's registration (${wire.describeOAuthError(err.cause)}); registering again with ${method} and asking for approval once more.`);
  await ctx.d.vault.update((d) => forgetUnusedClient(d, rec.key));
  return registerClient(ctx, disc, listener ? [listener.redirectUri] : rec.redirectUris, rec.grantTypes, method);
}
