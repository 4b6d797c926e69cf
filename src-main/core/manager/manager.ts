// The token manager: link, list, status, refresh, revoke, unlink, getToken. It is the only
// code that combines the vault with the AS; the broker and the CLI both drive it. This class
// is the façade: each job lives in its own file as plain functions over a ManagerContext.
import type { NeedsReauthReason, ServerRecord, LinkPreview } from '../types.js';
import type { HeaderSpec } from '../platform/custom-headers.js';
import type { UserError } from '../platform/errors.js';
import { type ManagerContext, type ManagerDeps, makeContext } from './context.js';
import { signerFor } from './dpop.js';
import { type ImportedGrant, importGrant } from './import.js';
import { type GrantLinkOptions, linkWithGrant } from './grants-link.js';
import * as idps from './idp.js';
import * as linking from './link.js';
import { type RevokeOutcome, revoke, unlink } from './revoke.js';
import type { LinkOptions } from './sign-in.js';
import * as tokens from './tokens.js';
import * as views from './views.js';
import type { ServerView } from './views.js';

export type { ManagerDeps, VaultStore } from './context.js';
export type { ImportedGrant } from './import.js';
export type { RevokeOutcome } from './revoke.js';
export type { DeviceCodeView, LinkOptions } from './sign-in.js';
export type { ServerView } from './views.js';
export type { GrantLinkOptions } from './grants-link.js';
export type { GrantView } from './grants-view.js';
export type { IdpAddOptions, IdpView } from './idp.js';
export type { LinkPreview };
export { ACTIVITY_KEEP_MS, normalizeUrl } from './records.js';

export class Manager {
  private readonly ctx: ManagerContext;
  constructor(deps: ManagerDeps) {
    this.ctx = makeContext(deps);
  }

  // ---------------------------------------------------------------- views (views.ts)

  list(): Promise<ServerView[]> {
    return views.list(this.ctx);
  }

  status(id: string): Promise<ServerView> {
    return views.status(this.ctx, id);
  }

  /** Finds a server by id or URL without throwing. */
  lookup(idOrUrl: string): Promise<ServerView | undefined> {
    return views.lookup(this.ctx, idOrUrl);
  }

  /** The headers as written, for the bridge (through the broker) to expand and send. */
  headersFor(idOrUrl: string): Promise<HeaderSpec[]> {
    return views.headersFor(this.ctx, idOrUrl);
  }

  /** Replaces a server's headers (an empty list removes them). */
  setHeaders(idOrUrl: string, headers: HeaderSpec[]): Promise<ServerView> {
    return views.setHeaders(this.ctx, idOrUrl, headers);
  }

  /** Records that an MCP client asked for a token (no secret: the client's name and the time). */
  recordUse(id: string, client: string): Promise<void> {
    return views.recordUse(this.ctx, id, client);
  }

  /** Every server's activity within the kept window, newest first. */
  activity(): ReturnType<typeof views.activity> {
    return views.activity(this.ctx);
  }

  // ---------------------------------------------------------------- link (link.ts, import.ts)

  /** Discovery only: what linking `rawUrl` would do, for the consent card. No side effects. */
  preview(rawUrl: string, opts: Pick<LinkOptions, 'clientId' | 'clientMetadataUrl' | 'scopes' | 'progress'> = {}): Promise<LinkPreview> {
    return linking.preview(this.ctx, rawUrl, opts);
  }

  link(rawUrl: string, opts: LinkOptions = {}): Promise<ServerView & { note?: string }> {
    return linking.link(this.ctx, rawUrl, opts);
  }

  /** Links with a grant no person approves at the server: client credentials, workload identity, company sign-in. */
  linkWithGrant(rawUrl: string, opts: GrantLinkOptions): Promise<ServerView> {
    return linkWithGrant(this.ctx, rawUrl, opts);
  }

  // ---------------------------------------------------------------- company identity providers (idp.ts)

  listIdps(): Promise<idps.IdpView[]> {
    return idps.listIdps(this.ctx);
  }

  addIdp(name: string, opts: idps.IdpAddOptions): Promise<idps.IdpView> {
    return idps.addIdp(this.ctx, name, opts);
  }

  signInIdp(name: string, opts: idps.IdpSignInOptions = {}): Promise<idps.IdpView> {
    return idps.signInIdp(this.ctx, name, opts);
  }

  signOutIdp(name: string): Promise<idps.IdpView> {
    return idps.signOutIdp(this.ctx, name);
  }

  removeIdp(name: string): Promise<{ name: string; servers: string[] }> {
    return idps.removeIdp(this.ctx, name);
  }

  /** Takes over a grant another tool obtained (mcp-remote's plaintext store). */
  importGrant(rawUrl: string, g: ImportedGrant): Promise<ServerView> {
    return importGrant(this.ctx, rawUrl, g);
  }

  // ---------------------------------------------------------------- tokens (tokens.ts)

  /** A token valid for at least `minValidityS`, refreshing if needed. */
  getToken(id: string, minValidityS = 60, refreshAheadS = 0): Promise<tokens.IssuedToken> {
    return tokens.getToken(this.ctx, id, minValidityS, refreshAheadS);
  }

  /** The stored token if still valid; never refreshes. */
  peekToken(id: string): Promise<tokens.IssuedToken | undefined> {
    return tokens.peekToken(this.ctx, id);
  }

  /** The resource server answered 401 to `token`: at most one refresh per incident. */
  reportRejected(id: string, token: string): Promise<tokens.IssuedToken> {
    return tokens.reportRejected(this.ctx, id, token);
  }

  /** Refresh now (`mcp-tokens refresh`). */
  refresh(id: string): Promise<ServerView & { note?: string }> {
    return tokens.refresh(this.ctx, id);
  }

  /** Marks a server as needing re-authorization (e.g. the resource server rejected a fresh token). */
  markNeedsReauth(id: string, reason: NeedsReauthReason, detail: string): Promise<void> {
    return tokens.markNeedsReauth(this.ctx, id, reason, detail);
  }

  reauthError(r: ServerRecord): UserError {
    return tokens.reauthError(r);
  }

  /** The DPoP signer of a bound grant, for the broker only (dpop.ts). */
  dpopSigner(idOrUrl: string): ReturnType<typeof signerFor> {
    return signerFor(this.ctx, idOrUrl);
  }

  // ---------------------------------------------------------------- revoke / unlink (revoke.ts)

  /** Signs out: revokes at the AS (RFC 7009), then deletes the tokens here whatever it answered. */
  revoke(id: string): Promise<RevokeOutcome> {
    return revoke(this.ctx, id);
  }

  /** Revokes (never fails on the AS's account), then forgets the server. */
  unlink(id: string): Promise<{ id: string; revokedAtAs: RevokeOutcome['revokedAtAs']; note?: string; asAnswer?: string }> {
    return unlink(this.ctx, id);
  }
}
