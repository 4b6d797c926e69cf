// Linking a server: discovery, the consent card's preview, and the link itself (registration,
// sign-in, then the grant sealed into the vault).
import { type DiscoveryResult, discover, supportsPkceS256 } from '../oauth/discovery.js';
import { dpopHandle } from '../oauth/dpop.js';
import * as wire from '../oauth/oauth.js';
import { noRefreshTokenNote } from '../oauth/offline-access.js';
import { checkHeaders } from '../platform/custom-headers.js';
import { UserError } from '../platform/errors.js';
import { safeHttpUrl } from '../platform/urls.js';
import type { FlowKind, LinkPreview, ServerRecord } from '../types.js';
import { type ManagerContext, linkProgress } from './context.js';
import { planDpop, storeDpop } from './dpop.js';
import { grantsOffered, refuseWithoutCodeGrant } from './grants-view.js';
import { appendActivity, forgetUnusedClient, grantFrom, normalizeUrl, secretTokens, storeHeaders } from './records.js';
import { bindListener, clientRefused, ensureClient, findDynamicClient } from './registration.js';
import { type LinkOptions, browserFlow, deviceFlow } from './sign-in.js';
import { suggestId, uniqueId } from './status.js';
import { type ServerView, serverView } from './views.js';

/** Registrable-domain approximation: the last two labels (IP literals and localhost compared whole). */
function siteOf(host: string): string {
  if (/^[\d.]+$/.test(host) || host.includes(':') || !host.includes('.')) return host;
  return host.split('.').slice(-2).join('.');
}

/** The server's own name from its resource metadata (RFC 9728 resource_name), when it gives one. */
function resourceName(disc: DiscoveryResult): string | undefined {
  const n = disc.resourceMetadata?.resource_name;
  return typeof n === 'string' && n.trim() ? n.trim().slice(0, 100) : undefined;
}

/** Which record a link writes: an account of the URL signed in again, or a new one. */
export type LinkTarget = { kind: 'existing'; id: string } | { kind: 'new' };

export function linkTarget(servers: Array<Pick<ServerRecord, 'id' | 'url'>>, url: string, opts: Pick<LinkOptions, 'id' | 'account'>): LinkTarget {
  if (opts.id !== undefined) {
    const rec = servers.find((s) => s.id === opts.id);
    if (!rec) throw new UserError('not-found', `No linked server "${opts.id}".`);
    if (rec.url !== url) throw new UserError('usage', `"${opts.id}" is linked to ${rec.url}, not ${url}.`);
    return { kind: 'existing', id: rec.id };
  }
  if (opts.account === 'new') return { kind: 'new' };
  const first = servers.find((s) => s.url === url);
  return first ? { kind: 'existing', id: first.id } : { kind: 'new' };
}

/**
 * `link <url> --name N` on a URL already linked: the account named N signs in again (by name or
 * id); a name no account of the URL has adds another account. Without a name, or for a URL not
 * linked yet, nothing special.
 */
export function cliLinkChoice(servers: Array<Pick<ServerRecord, 'id' | 'url' | 'name'>>, url: string, name: string | undefined): Pick<LinkOptions, 'id' | 'account'> {
  const same = servers.filter((s) => s.url === url);
  if (!name || !same.length) return {};
  const named = same.find((s) => s.name === name || s.id === name);
  return named ? { id: named.id } : { account: 'new' };
}

/**
 * The authorization request asks the person to choose the account when another account of the
 * same server exists (so the browser's session does not quietly sign in the same one again),
 * and only where the AS says it takes `prompt=select_account`: an unknown prompt is an error at some ASes.
 */
export function accountPrompt(as: { prompt_values_supported?: unknown }, otherAccounts: number): 'select_account' | undefined {
  if (otherAccounts < 1) return undefined;
  const v = as.prompt_values_supported;
  return Array.isArray(v) && v.includes('select_account') ? 'select_account' : undefined;
}

/** A name for another account of a server when the person gave none: "GitHub (2)", "GitHub (3)"… */
export function anotherAccountName(base: string, taken: string[]): string {
  for (let i = 2; i < 1000; i++) {
    const n = `${base} (${i})`;
    if (!taken.includes(n)) return n;
  }
  return `${base} (another account)`;
}

function chooseFlow(disc: DiscoveryResult, wanted?: FlowKind): FlowKind {
  const as = disc.asMetadata;
  const hasCode = Boolean(as.authorization_endpoint);
  const hasDevice = Boolean(as.device_authorization_endpoint);
  if (wanted === 'device') {
    if (!hasDevice) throw new UserError('authorization', `The authorization server ${disc.issuer} does not offer the device flow.`, 'Use --flow browser.');
    return 'device';
  }
  if (wanted === 'browser') {
    if (!hasCode) throw new UserError('authorization', `The authorization server ${disc.issuer} offers no browser sign-in (no authorization endpoint).`, hasDevice ? 'Use --flow device.' : undefined);
    return 'browser';
  }
  if (hasCode) return 'browser';
  if (hasDevice) return 'device';
  throw new UserError('authorization', `The authorization server ${disc.issuer} offers neither browser sign-in nor the device flow.`);
}

/** Discovery only: what linking `rawUrl` would do, for the consent card. No side effects. */
export async function preview(ctx: ManagerContext, rawUrl: string, opts: Pick<LinkOptions, 'clientId' | 'clientMetadataUrl' | 'scopes' | 'progress'> = {}): Promise<LinkPreview> {
  const url = normalizeUrl(rawUrl);
  const run = async (): Promise<LinkPreview> => {
    const disc = await discover(url, {
      progress: (l) => ctx.say(l),
      ...(ctx.d.fetchFn ? { fetchFn: ctx.d.fetchFn } : {}),
      ...(opts.scopes ? { scopes: opts.scopes } : {}),
    });
    const as = disc.asMetadata;
    const flows: FlowKind[] = [];
    if (as.authorization_endpoint && supportsPkceS256(as)) flows.push('browser');
    if (as.device_authorization_endpoint) flows.push('device');
    const grants = grantsOffered(as);
    // An AS for grants no person approves is still worth a preview: the app offers company sign-in there.
    if (!flows.length && !grants.jwtBearer && !grants.clientCredentials) chooseFlow(disc);
    const data = await ctx.d.vault.read();
    let registration: LinkPreview['registration'];
    if (opts.clientId) registration = 'pre-registered';
    else if (opts.clientMetadataUrl && as.client_id_metadata_document_supported === true) registration = 'metadata-document';
    else if (findDynamicClient(data, disc.issuer, flows[0]!)) registration = 'reuse';
    else registration = as.registration_endpoint ? 'dynamic' : 'impossible';
    const serverHost = new URL(url).hostname;
    const issuerUrl = new URL(disc.issuer);
    const existing = Object.values(data.servers).find((s) => s.url === url);
    const name = disc.resourceMetadata?.resource_name;
    return {
      url,
      resource: disc.resource,
      ...(typeof name === 'string' ? { resourceName: name.slice(0, 200) } : {}),
      transport: disc.transport === 'sse' ? 'sse' : 'streamable-http',
      issuer: disc.issuer,
      issuerHost: issuerUrl.host,
      issuerOtherSite: siteOf(issuerUrl.hostname) !== siteOf(serverHost),
      insecureHttp: issuerUrl.protocol === 'http:' || new URL(url).protocol === 'http:',
      scopes: disc.scopes,
      registration,
      flows,
      defaultFlow: flows[0] ?? 'browser',
      ...(grants.jwtBearer || grants.clientCredentials ? { grants } : {}),
      ...(existing ? { alreadyLinkedAs: existing.id } : {}),
    };
  };
  return opts.progress ? linkProgress.run(opts.progress, run) : run();
}

export async function link(ctx: ManagerContext, rawUrl: string, opts: LinkOptions = {}): Promise<ServerView & { note?: string }> {
  if (opts.progress) {
    const { progress, ...rest } = opts;
    return linkProgress.run(progress, () => link(ctx, rawUrl, rest));
  }
  const url = normalizeUrl(rawUrl);
  const headers = opts.headers ? checkHeaders(opts.headers) : undefined;
  const disc = await discover(url, {
    progress: (l) => ctx.say(l),
    ...(ctx.d.fetchFn ? { fetchFn: ctx.d.fetchFn } : {}),
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
  });
  // Before any browser opens: an AS that issues no codes to people is linked with --grant/--idp.
  refuseWithoutCodeGrant(disc.asMetadata, opts.flow);
  const flow = chooseFlow(disc, opts.flow);
  if (flow === 'browser' && !supportsPkceS256(disc.asMetadata)) {
    throw new UserError(
      'no-pkce',
      `The authorization server ${disc.issuer} does not advertise PKCE with S256 (code_challenge_methods_supported). Refusing to sign in without it.`,
      'Ask the server operator to enable PKCE S256.',
    );
  }
  if (flow === 'browser') safeHttpUrl(disc.asMetadata.authorization_endpoint, 'authorization endpoint');

  const before = await ctx.d.vault.read();
  const target = linkTarget(Object.values(before.servers), url, opts);
  const existing = target.kind === 'existing' ? before.servers[target.id] : undefined;
  const accounts = Object.values(before.servers).filter((s) => s.url === url);
  const prompt = accountPrompt(disc.asMetadata as { prompt_values_supported?: unknown }, accounts.filter((s) => s.id !== existing?.id).length);
  if (prompt) opts = { ...opts, prompt };
  // Another account of a linked server is named after the first unless the person named it.
  const newName = !existing && accounts.length && !opts.name ? anotherAccountName(accounts[0]!.name, accounts.map((s) => s.name)) : undefined;
  // A new grant gets a new key (RFC 9449): made here, sealed with the tokens, used only by the broker.
  const dpop = planDpop(disc, opts.dpop, existing);
  if (dpop.key || opts.dpop) ctx.say(dpop.key ? `The grant will be DPoP-bound (${dpop.why}); key thumbprint ${dpop.key.jkt}.` : `The grant will not be DPoP-bound: ${dpop.why}.`);
  const listener = flow === 'browser' ? await bindListener(ctx, before, disc, opts) : undefined;
  try {
    let creds = await ensureClient(ctx, before, disc, flow, opts, listener);
    const signIn = async (c: wire.ClientCredentials) => {
      const config = wire.makeConfig(disc.asMetadata, c);
      const handle = dpop.key ? await dpopHandle(config, dpop.key.privateJwk) : undefined;
      return flow === 'browser' ? browserFlow(ctx, config, disc, listener!, opts, handle) : deviceFlow(ctx, config, disc, opts, handle);
    };
    let tokens: wire.TokenResult;
    try {
      tokens = await signIn(creds);
    } catch (err) {
      // Once only: a second refusal is reported as it is.
      const other = await clientRefused(ctx, err, creds, disc, listener);
      if (!other) throw err;
      creds = other;
      tokens = await signIn(creds);
    }
    // RFC 9449 §5: token_type says whether the AS bound the token; an unbound one is sent as Bearer.
    if (dpop.key && tokens.tokenType.toLowerCase() !== 'dpop') ctx.say(`The authorization server answered the DPoP proof with a ${tokens.tokenType} token, not a DPoP-bound one; it will be sent as a bearer token.`);
    const now = ctx.d.clock.now();
    const view = await ctx.d.vault.update((d) => {
      const id = existing && d.servers[existing.id] ? existing.id : uniqueId(suggestId(url, opts.name ?? newName), (x) => Boolean(d.servers[x]));
      const prev = d.servers[id];
      d.clients[creds.record.key] = creds.record;
      if (prev && prev.clientKey !== creds.record.key) forgetUnusedClient(d, prev.clientKey, id);
      if (creds.clientSecret !== undefined) d.secrets.clients[creds.record.key] = { ...d.secrets.clients[creds.record.key], clientSecret: creds.clientSecret };
      const rec: ServerRecord = {
        id,
        name: opts.name ?? prev?.name ?? newName ?? resourceName(disc) ?? id,
        url,
        resource: disc.resource,
        ...(disc.resourceMetadataUrl ? { resourceMetadataUrl: disc.resourceMetadataUrl } : {}),
        issuer: disc.issuer,
        asMetadata: disc.asMetadata,
        clientKey: creds.record.key,
        requestedScopes: disc.scopes,
        flow,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
        state: { status: 'ok' },
        grant: grantFrom(tokens, disc.scopes, now, 0),
        activity: appendActivity(prev?.activity ?? [], { at: now, kind: prev ? 'reauthorized' : 'linked', detail: `via ${flow === 'browser' ? 'browser' : 'device code'}` }),
      };
      if (prev?.headers) rec.headers = prev.headers;
      d.servers[id] = rec;
      d.secrets.tokens[id] = secretTokens(tokens);
      storeDpop(d, rec, dpop);
      if (headers) storeHeaders(d, rec, headers);
      return serverView(ctx, d, rec);
    });
    ctx.say(`Linked "${view.id}" (${view.url}); granted scopes: ${view.scopes.join(' ') || '(none)'}.`);
    // Said now, not at the first expiry: a grant that cannot renew itself.
    const note = noRefreshTokenNote(disc.scopes, tokens);
    if (note) ctx.say(note);
    return note ? { ...view, note } : view;
  } finally {
    await listener?.close();
  }
}
