// Every linked server at a glance, with a banner when any needs the person.
import { useShallow } from 'zustand/react/shallow';
import type { ServerSummary } from '../../src-shared/contract.js';
import { clientLabel, formatAgo, formatTime, hostOf, migrationBanner, needingAttention, statusChip } from '../view/format.js';
import { Scopes, StatusChipView } from './bits.js';
import { useApp, useNow } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';

function AttentionBanner({ servers, now }: { servers: ServerSummary[]; now: number }) {
  const navigate = useApp((s) => s.navigate);
  const reauthorize = useApp((s) => s.reauthorize);
  const ops = useApp((s) => s.ops);
  const list = needingAttention(servers, now);
  if (!list.length) return null;
  return (
    <section className="banner" role="status" aria-labelledby="attention-title">
      <h3 id="attention-title" className="banner-title">
        {list.length === 1 ? '1 server needs attention' : `${list.length} servers need attention`}
      </h3>
      <ul className="banner-list">
        {list.map((s) => {
          const chip = statusChip(s, now);
          const busy = ops[s.id]?.busy === 'reauthorize';
          // A failed quick re-authorization reports here: the detail screen is not on show.
          const failed = ops[s.id]?.notice?.tone === 'bad' ? ops[s.id]?.notice : undefined;
          return (
            <li key={s.id}>
              <span>
                <strong>{s.name}</strong> — {chip.label}
                {chip.reason ? `: ${chip.reason}` : ''}
                {failed ? (
                  <span className="block banner-error" role="alert">
                    {failed.text}
                    {failed.hint ? ` ${failed.hint}` : ''}
                  </span>
                ) : null}
              </span>
              <span className="actions actions-inline">
                <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void reauthorize(s.id, s.flow)}>
                  {busy ? 'Re-authorizing…' : 'Re-authorize'}
                </button>
                <button type="button" className="btn" onClick={() => navigate({ name: 'detail', id: s.id })} aria-label={`Open ${s.name}`}>
                  Open
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** MCP clients that still run mcp-remote: offer to move them onto the bridge. */
function MigrationBanner() {
  const plan = useApp((s) => s.migration.plan);
  const navigate = useApp((s) => s.navigate);
  const banner = migrationBanner(plan);
  if (!banner) return null;
  return (
    <section className="banner banner-info" aria-labelledby="migration-title">
      <h3 id="migration-title" className="banner-title">
        {banner.text}
      </h3>
      <button type="button" className="btn" onClick={() => navigate({ name: 'migrate' })} aria-describedby="migration-title">
        Review
      </button>
    </section>
  );
}

function ServerCard({ server, now }: { server: ServerSummary; now: number }) {
  const navigate = useApp((s) => s.navigate);
  const headingId = `server-${server.id}`;
  return (
    <li>
      <article className="card server-card" aria-labelledby={headingId}>
        <header className="server-card-head">
          <h3 id={headingId} className="server-name">
            <button type="button" className="link-button" onClick={() => navigate({ name: 'detail', id: server.id })}>
              {server.name}
            </button>
          </h3>
          <StatusChipView server={server} now={now} withReason />
        </header>
        <dl className="facts facts-compact">
          <dt>URL</dt>
          <dd className="mono">{server.url}</dd>
          <dt>Authorization server</dt>
          <dd>{hostOf(server.issuer)}</dd>
          <dt>Scopes</dt>
          <dd>
            <Scopes scopes={server.scopes} />
          </dd>
          <dt>Last refresh</dt>
          <dd>{server.lastRefreshAt ? <time dateTime={server.lastRefreshAt} title={formatTime(server.lastRefreshAt)}>{formatAgo(server.lastRefreshAt, now)}</time> : 'not yet'}</dd>
          <dt>Used by</dt>
          <dd>{server.usedBy.length ? server.usedBy.map(clientLabel).join(', ') : <span className="muted">no client yet</span>}</dd>
        </dl>
      </article>
    </li>
  );
}

export function ServersScreen() {
  const servers = useApp(useShallow((s) => s.servers));
  const ready = useApp((s) => s.ready);
  const navigate = useApp((s) => s.navigate);
  const now = useNow(5000);
  return (
    <section aria-labelledby="screen-title">
      <div className="screen-head">
        <ScreenHeading>Servers</ScreenHeading>
        <button type="button" className="btn btn-primary" onClick={() => navigate({ name: 'add' })}>
          Add a server
        </button>
      </div>
      <AttentionBanner servers={servers} now={now} />
      <MigrationBanner />
      {!ready ? (
        <p className="muted">Loading…</p>
      ) : servers.length === 0 ? (
        <div className="empty card">
          <p>No servers linked yet.</p>
          <p className="muted">Paste the URL of a remote MCP server to sign in to it once; your MCP clients then use it through this app.</p>
        </div>
      ) : (
        <ul className="server-list" aria-label="Linked servers">
          {servers.map((s) => (
            <ServerCard key={s.id} server={s} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
