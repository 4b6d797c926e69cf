// One server: what was granted (never the tokens), what happened, and what can be done.
import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ServerSummary } from '../../src-shared/contract.js';
import type { FlowKind } from '../../src-shared/contract.js';
import { flowsFor } from '../store.js';
import {
  activityLabel,
  activityTone,
  clientLabel,
  clientsThatUsed,
  expiryText,
  flowLabel,
  formatAgo,
  formatTime,
  hostOf,
  registrationLabel,
  renewText,
  scrubTokens,
} from '../view/format.js';
import { NoticeView, Scopes, Spinner, StatusChipView, UrlText } from './bits.js';
import { type ConfirmKind, ServerConfirm } from './ServerConfirm.js';
import { ClientConfigPicker } from './ClientConfig.js';
import { HeadersCard } from './HeadersCard.js';
import { AddAccountDialog, OtherAccounts } from './AddAccount.js';
import { SecretsNote } from './SecretsNote.js';
import { DeviceCodeView, FoldedProgress } from './FlowView.js';
import { useApp, useNow } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';

function TokenFacts({ server }: { server: ServerSummary }) {
  const now = useNow(1000);
  const exp = server.expiresAt;
  const used = clientsThatUsed(server);
  return (
    <dl className="facts">
      <dt>Scopes granted</dt>
      <dd>
        <Scopes scopes={server.scopes} />
        {/* Many ASes leave offline_access out of the granted scope; the refresh token is what it asked for. */}
        {server.hasRefreshToken && !server.scopes.includes('offline_access') ? <span className="muted block">Stays signed in: a refresh token was granted.</span> : null}
      </dd>
      <dt>Audience</dt>
      <dd>
        <UrlText url={server.resource} />
      </dd>
      <dt>Access token</dt>
      <dd>
        {server.status === 'needs-reauth' && server.reason === 'revoked' ? (
          'none (signed out)'
        ) : (
          <>
            <span className="countdown">{expiryText(exp, now, { seconds: true })}</span>
            {exp ? <span className="muted block">{formatTime(exp)}</span> : null}
            <span className="muted block">{renewText(server)}</span>
          </>
        )}
      </dd>
      {server.dpop ? (
        <>
          <dt>Token binding</dt>
          <dd>
            {server.dpop.bound ? 'DPoP-bound: useless to anyone who copies it' : 'DPoP turned off (plain bearer token)'}
            {server.dpop.thumbprint ? <span className="muted block mono wrap">key {server.dpop.thumbprint}</span> : null}
          </dd>
        </>
      ) : null}
      <dt>Refresh token</dt>
      <dd>{server.hasRefreshToken ? 'present' : 'none'}</dd>
      <dt>Last refresh</dt>
      <dd>{server.lastRefreshAt ? `${formatAgo(server.lastRefreshAt, now)} (${formatTime(server.lastRefreshAt)})` : 'not yet'}</dd>
      <dt>Authorization server</dt>
      <dd>
        <strong>{hostOf(server.issuer)}</strong>
        <UrlText url={server.issuer} className="block" />
      </dd>
      <dt>Registration</dt>
      {/* The method only: a registered client id is long random text a person could take for a secret. */}
      <dd>{registrationLabel(server.registration.method).label}</dd>
      <dt>Sign-in</dt>
      <dd>{server.grant && server.grant.kind !== 'authorization_code' ? server.grant.label : flowLabel(server.flow)}</dd>
      <dt>Added to</dt>
      <dd>{server.usedBy.length ? server.usedBy.map(clientLabel).join(', ') : <span className="muted">no client’s config yet</span>}</dd>
      <dt>Used by</dt>
      <dd>
        {used.length ? (
          <ul className="plain">
            {used.map((u) => (
              <li key={u.client}>
                {u.client} <span className="muted">({formatAgo(u.at, now)})</span>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">no client has used it yet</span>
        )}
      </dd>
      {server.lastError ? (
        <>
          <dt>Last error</dt>
          <dd className="wrap">{scrubTokens(server.lastError)}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Activity({ server }: { server: ServerSummary }) {
  const now = useNow(30_000);
  const entries = [...server.activity].sort((a, b) => b.at - a.at);
  if (!entries.length) return <p className="muted">Nothing yet.</p>;
  return (
    <ol className="activity" tabIndex={0} aria-label="Activity of this server, newest first">
      {entries.map((e, i) => (
        <li key={`${e.at}-${i}`} className={`activity-${activityTone(e.kind)}`}>
          <time dateTime={new Date(e.at).toISOString()} title={formatTime(e.at)}>
            {formatAgo(e.at, now)}
          </time>
          <span className="activity-kind">{activityLabel(e.kind)}</span>
          {e.client ? <span className="activity-client">by {e.client}</span> : null}
          {e.detail ? <span className="activity-detail">{scrubTokens(e.detail)}</span> : null}
        </li>
      ))}
    </ol>
  );
}

function Actions({ server }: { server: ServerSummary }) {
  const op = useApp((s) => s.ops[server.id]);
  const refresh = useApp((s) => s.refresh);
  const reauthorize = useApp((s) => s.reauthorize);
  const clearNotice = useApp((s) => s.clearNotice);
  const signingIn = op?.busy === 'reauthorize' || op?.busy === 'account';
  const since = signingIn ? (op?.since ?? 0) : Number.POSITIVE_INFINITY;
  const [another, setAnother] = useState(false);
  const flows = useApp(useShallow((s) => flowsFor(s.flows, server.url, since)));
  const [flow, setFlow] = useState<FlowKind>(server.flow);
  const [confirm, setConfirm] = useState<ConfirmKind | undefined>();
  const flowId = useId();
  const busy = op?.busy;
  const code = flows.find((f) => f.deviceCode && f.state === 'running')?.deviceCode;

  return (
    <section aria-labelledby="actions-title" className="card">
      <h3 id="actions-title" className="card-title">
        Actions
      </h3>
      <div className="actions actions-start">
        <button type="button" className="btn" disabled={Boolean(busy) || !server.hasRefreshToken} onClick={() => void refresh(server.id)}>
          {busy === 'refresh' ? 'Refreshing…' : 'Refresh now'}
        </button>
        <span className="group">
          <button type="button" className={server.status === 'needs-reauth' ? 'btn btn-primary' : 'btn'} disabled={Boolean(busy)} onClick={() => void reauthorize(server.id, flow)}>
            {busy === 'reauthorize' ? 'Signing in…' : 'Sign in again'}
          </button>
          <label htmlFor={flowId} className="visually-hidden">
            Sign in with
          </label>
          <select id={flowId} value={flow} onChange={(e) => setFlow(e.target.value as FlowKind)} disabled={Boolean(busy)}>
            <option value="browser">with the browser</option>
            <option value="device">with a device code</option>
          </select>
        </span>
        <button type="button" className="btn" disabled={Boolean(busy)} onClick={() => setAnother(true)}>
          {busy === 'account' ? 'Signing in…' : 'Add another account…'}
        </button>
        <button type="button" className="btn btn-danger" disabled={Boolean(busy) || server.reason === 'revoked'} onClick={() => setConfirm('signout')}>
          {busy === 'revoke' ? 'Signing out…' : 'Sign out'}
        </button>
        <button type="button" className="btn btn-danger" disabled={Boolean(busy)} onClick={() => setConfirm('remove')}>
          {busy === 'unlink' ? 'Removing…' : 'Remove server'}
        </button>
      </div>
      {!server.hasRefreshToken && server.status !== 'needs-reauth' ? <p className="help">No refresh token was granted, so when the token expires you need to sign in again.</p> : null}
      {signingIn ? (
        <div className="flow">
          <Spinner label={code ? 'Waiting for you to enter the code…' : flow === 'browser' ? 'Finish signing in in the browser window that opened.' : 'Starting…'} />
          {code ? <DeviceCodeView code={code} /> : null}
          <FoldedProgress lines={flows.flatMap((f) => f.lines)} label="Sign-in progress" />
        </div>
      ) : null}
      {op?.notice ? <NoticeView notice={op.notice} onClose={() => clearNotice(server.id)} /> : null}
      <ServerConfirm server={server} kind={confirm} onDone={() => setConfirm(undefined)} />
      <AddAccountDialog server={server} open={another} onDone={() => setAnother(false)} />
    </section>
  );
}

export function DetailScreen({ id }: { id: string }) {
  const server = useApp((s) => s.servers.find((x) => x.id === id));
  const navigate = useApp((s) => s.navigate);
  const ready = useApp((s) => s.ready);
  const now = useNow(5000);
  const back = (
    <button type="button" className="btn btn-quiet" onClick={() => navigate({ name: 'servers' })}>
      ← All servers
    </button>
  );
  if (!server && !ready) return <p className="muted">Loading…</p>;
  if (!server) {
    return (
      <section aria-labelledby="screen-title">
        {back}
        <ScreenHeading>Server not found</ScreenHeading>
        <p>This server is no longer linked.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="screen-title">
      {back}
      <div className="screen-head">
        <ScreenHeading>{server.name}</ScreenHeading>
        <StatusChipView server={server} now={now} withReason />
      </div>
      <p className="muted">
        <UrlText url={server.url} />
      </p>
      <OtherAccounts server={server} />
      <Actions key={server.id} server={server} />
      <div className="columns">
        <section className="card" aria-labelledby="facts-title">
          <h3 id="facts-title" className="card-title">
            Token
          </h3>
          <p className="help">What was granted. The tokens themselves are never shown.</p>
          <SecretsNote where="token" />
          <TokenFacts server={server} />
        </section>
        <section className="card" aria-labelledby="activity-title">
          <h3 id="activity-title" className="card-title">
            Activity
          </h3>
          <Activity server={server} />
        </section>
      </div>
      <HeadersCard key={`headers-${server.id}`} server={server} />
      <section className="card" aria-labelledby="config-title">
        <h3 id="config-title" className="card-title">
          Use it from an MCP client
        </h3>
        <ClientConfigPicker serverId={server.id} />
      </section>
    </section>
  );
}
