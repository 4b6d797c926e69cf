// The contract's company sign-in handlers (issue 25): identity provider profiles, and linking a
// server through one. Only who is signed in and the status leave this module, never a token.
import type { IdpView, Manager, ServerView } from '../manager/manager.js';
import { UserError } from '../platform/errors.js';
import { redact } from '../platform/redact.js';
import type { ApiHandlers, IdpSummary, ServerSummary } from '../../../src-shared/contract.js';

export type IdpChannels = 'idp/list' | 'idp/add' | 'idp/signIn' | 'idp/signOut' | 'idp/remove' | 'servers/linkWithIdp';

export interface IdpApiDeps {
  manager: Manager;
  /** A link's progress stream (one `link/done` whatever happens), as servers/link runs it. */
  stream<T>(kind: 'link', url: string, run: (flowId: string, progress: (line: string) => void, signal: AbortSignal) => Promise<T>, serverOf?: (r: T) => string): Promise<{ flowId: string; result: T }>;
  summary(v: ServerView): Promise<ServerSummary>;
  /** Servers' statuses follow their IdP's: the window hears of it. */
  changed(): void;
}

export function idpSummary(v: IdpView): IdpSummary {
  return {
    name: v.name,
    issuer: v.issuer,
    clientId: v.clientId,
    status: v.status,
    ...(v.detail ? { detail: redact(v.detail) } : {}),
    ...(v.signedIn ? { signedIn: v.signedIn } : {}),
    servers: v.servers,
  };
}

export function idpHandlers(d: IdpApiDeps): Pick<ApiHandlers, IdpChannels> {
  const after = <T>(v: T): T => {
    d.changed();
    return v;
  };
  return {
    'idp/list': async () => (await d.manager.listIdps()).map(idpSummary),
    'idp/add': async (req) =>
      after(
        idpSummary(
          (
            await d.stream('link', req.issuer, (_id, progress, signal) =>
              d.manager.addIdp(req.name, {
                issuer: req.issuer,
                clientId: req.clientId,
                ...(req.clientSecret !== undefined ? { clientSecret: req.clientSecret } : {}),
                ...(req.tokenEndpoint ? { tokenEndpoint: req.tokenEndpoint } : {}),
                signal,
                progress,
              }),
            )
          ).result,
        ),
      ),
    'idp/signIn': async (name) => after(idpSummary((await d.stream('link', name, (_id, progress, signal) => d.manager.signInIdp(name, { signal, progress }))).result)),
    'idp/signOut': async (name) => after(idpSummary(await d.manager.signOutIdp(name))),
    'idp/remove': async (name) => after(await d.manager.removeIdp(name)),
    'servers/linkWithIdp': async (req) => {
      const { flowId, result } = await d.stream(
        'link',
        req.url,
        (_id, progress) =>
          d.manager.linkWithGrant(req.url, {
            grant: 'idp',
            idp: req.idp,
            clientId: req.clientId,
            ...(req.clientSecret !== undefined ? { clientSecret: req.clientSecret } : {}),
            ...(req.name ? { name: req.name } : {}),
            progress,
          }),
        (v) => v.id,
      );
      d.changed();
      return { flowId, server: await d.summary(result) };
    },
  };
}

/**
 * "Sign in again" on a server whose grant no person approves there: through the company IdP,
 * one sign-in at the IdP (every server of it comes back); machine grants are set up again with
 * their credentials, which the window does not hold.
 */
export async function reauthorizeGrant(d: IdpApiDeps, v: ServerView): Promise<ServerSummary> {
  if (v.grant.kind === 'idp' && v.grant.idp) {
    const idp = (await d.manager.listIdps()).find((i) => i.name === v.grant.idp);
    if (!idp) throw new UserError('not-found', `The company sign-in "${v.grant.idp}" this server used was removed.`, 'Add it again in Settings → Company sign-in, then add the server again.');
    if (idp.status !== 'signed-in') await d.stream('link', v.url, (_id, progress) => d.manager.signInIdp(idp.name, { progress }));
    else await d.manager.refresh(v.id).catch(() => undefined);
    d.changed();
    return d.summary(await d.manager.status(v.id));
  }
  throw new UserError(
    'needs-reauth',
    `'${v.name}' signs in with ${v.grant.label.toLowerCase()}, which only its owner can set up again.`,
    `Run: mcp-tokens link ${v.url} ${v.grant.kind === 'client_credentials' ? '--grant client-credentials --client-id ID --client-secret-file F' : '--assertion-file F --grant jwt-bearer'}`,
  );
}
