// Every linked server at a glance: compact rows (status, expiry counting down, last use), row
// actions, search and a status filter; a first-run guide when there is nothing yet.
import { useEffect, useId, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ServerSummary } from '../../src-shared/contract.js';
import { filterServers, formatTime, hostOf, lastUsedText, migrationBanner, needingAttention, rowAction, rowExpiryText, STATUS_FILTERS, statusChip, type StatusFilter } from '../view/format.js';
import { NoticeView, ServerIcon, Spinner, StatusChipView } from './bits.js';
import { useApp, useNow } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';
import { SecretsNote } from './SecretsNote.js';
import { type ConfirmKind, ServerConfirm } from './ServerConfirm.js';

function AttentionBanner({ servers, now }: { servers: ServerSummary[]; now: number }) {
  const list = needingAttention(servers, now);
  if (!list.length) return null;
  return (
    <section className="banner" role="status" aria-labelledby="attention-title">
      <h3 id="attention-title" className="banner-title">
        {list.length === 1 ? `${list[0]!.name} needs you to sign in again` : `${list.length} servers need you to sign in again`}
      </h3>
      <p className="banner-text">Choose “Sign in again” on {list.length === 1 ? 'its row' : 'their rows'} below.</p>
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

/** A small disclosure menu of the row's other actions; Escape or a click elsewhere closes it. */
function OverflowMenu({ server, onConfirm }: { server: ServerSummary; onConfirm: (k: ConfirmKind) => void }) {
  const [open, setOpen] = useState(false);
  const navigate = useApp((s) => s.navigate);
  const refresh = useApp((s) => s.refresh);
  const reauthorize = useApp((s) => s.reauthorize);
  const busy = useApp((s) => s.ops[server.id]?.busy);
  const menuId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);
  const pick = (fn: () => void) => () => {
    setOpen(false);
    fn();
  };
  return (
    <div
      className="menu-wrap"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
          ref.current?.querySelector('button')?.focus();
        }
      }}
    >
      <button type="button" className="btn btn-icon" aria-expanded={open} aria-controls={menuId} aria-label={`More actions for ${server.name}`} onClick={() => setOpen((o) => !o)}>
        ⋯
      </button>
      <ul id={menuId} className="menu" hidden={!open} aria-label={`Actions for ${server.name}`}>
        <li>
          <button type="button" className="menu-item" onClick={pick(() => navigate({ name: 'detail', id: server.id }))}>
            Details
          </button>
        </li>
        <li>
          <button type="button" className="menu-item" disabled={Boolean(busy) || !server.hasRefreshToken} onClick={pick(() => void refresh(server.id))}>
            Refresh now
          </button>
        </li>
        <li>
          <button type="button" className="menu-item" disabled={Boolean(busy)} onClick={pick(() => void reauthorize(server.id, server.flow))}>
            Sign in again
          </button>
        </li>
        <li>
          <button type="button" className="menu-item" onClick={pick(() => navigate({ name: 'clients' }))}>
            Add to a client…
          </button>
        </li>
        <li>
          <button type="button" className="menu-item menu-danger" disabled={Boolean(busy) || server.reason === 'revoked'} onClick={pick(() => onConfirm('signout'))}>
            Sign out…
          </button>
        </li>
        <li>
          <button type="button" className="menu-item menu-danger" disabled={Boolean(busy)} onClick={pick(() => onConfirm('remove'))}>
            Remove…
          </button>
        </li>
      </ul>
    </div>
  );
}

function ServerRow({ server, now }: { server: ServerSummary; now: number }) {
  const navigate = useApp((s) => s.navigate);
  const reauthorize = useApp((s) => s.reauthorize);
  const op = useApp((s) => s.ops[server.id]);
  const clearNotice = useApp((s) => s.clearNotice);
  const [confirm, setConfirm] = useState<ConfirmKind | undefined>();
  const chip = statusChip(server, now);
  const nameId = `server-${server.id}`;
  const busy = op?.busy;
  const expiry = rowExpiryText(server, now);
  const action = rowAction(server, now);
  return (
    <li className="server-row">
      <ServerIcon name={server.name} id={server.id} />
      <div className="row-main">
        <h3 id={nameId} className="row-name">
          <button type="button" className="link-button" onClick={() => navigate({ name: 'detail', id: server.id })}>
            {server.name}
          </button>
        </h3>
        <span className="row-sub muted">{hostOf(server.url)}</span>
      </div>
      <div className="row-status">
        <StatusChipView server={server} now={now} />
        {chip.needsAttention && chip.reason ? <span className="row-reason">{chip.reason}</span> : null}
      </div>
      <div className="row-facts">
        <span className={chip.tone === 'ok' ? 'row-expiry' : 'countdown'} title={server.expiresAt ? formatTime(server.expiresAt) : undefined}>
          {expiry}
        </span>
        <span className="muted" title={server.lastUsed ? formatTime(server.lastUsed.at) : undefined}>
          {lastUsedText(server, now)}
        </span>
      </div>
      <div className="row-actions">
        {action ? (
          <button
            type="button"
            className={action.primary ? 'btn btn-primary' : 'btn'}
            disabled={Boolean(busy)}
            aria-label={`${action.label} to ${server.name}`}
            onClick={() => void reauthorize(server.id, server.flow)}
          >
            {busy === 'reauthorize' ? 'Signing in…' : action.label}
          </button>
        ) : busy === 'reauthorize' ? (
          <Spinner label="Signing in…" />
        ) : null}
        <OverflowMenu server={server} onConfirm={setConfirm} />
      </div>
      {op?.notice ? (
        <div className="row-notice">
          <NoticeView notice={op.notice} onClose={() => clearNotice(server.id)} />
        </div>
      ) : null}
      <ServerConfirm server={server} kind={confirm} onDone={() => setConfirm(undefined)} />
    </li>
  );
}

/** The empty state: what to do first, in three steps. */
function FirstRun() {
  const navigate = useApp((s) => s.navigate);
  const preview = useApp((s) => s.preview);
  const plan = useApp((s) => s.migration.plan);
  const demo = useApp((s) => s.info?.demo);
  const mentions = Boolean(plan && (plan.entries.length || plan.unreadable.some((u) => u.mentionsMcpRemote)));
  return (
    <section className="card first-run" aria-labelledby="first-run-title">
      <h3 id="first-run-title" className="card-title">
        No servers yet: three steps to get going
      </h3>
      <ol className="steps">
        <li>
          <strong>Sign in once.</strong> Add a remote MCP server by its URL; you approve the sign-in in your browser.
        </li>
        <li>
          <strong>Add it to your client.</strong> One switch on the Clients page puts it into Claude Desktop, Cursor, VS Code or Claude Code.
        </li>
        <li>
          <strong>Restart the client.</strong> It then uses the server through this app, which keeps the sign-in fresh.
        </li>
      </ol>
      <div className="actions actions-start">
        <button type="button" className="btn btn-primary" onClick={() => navigate({ name: 'add' })}>
          Add a server
        </button>
        {demo ? (
          <button
            type="button"
            className="btn"
            aria-describedby="demo-help"
            onClick={() => {
              navigate({ name: 'add' });
              void preview({ url: demo.url });
            }}
          >
            Try the demo server
          </button>
        ) : null}
        {mentions ? (
          <button type="button" className="btn" onClick={() => navigate({ name: 'migrate' })}>
            Import from mcp-remote
          </button>
        ) : null}
      </div>
      {demo ? (
        <p id="demo-help" className="help">
          The demo server started from the source with <code>npm run demo</code> is running on this machine ({demo.url}); it signs you in as “alice”.
        </p>
      ) : null}
    </section>
  );
}

export function ServersScreen() {
  const servers = useApp(useShallow((s) => s.servers));
  const ready = useApp((s) => s.ready);
  const navigate = useApp((s) => s.navigate);
  const now = useNow(1000);
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<StatusFilter>('all');
  const ids = { search: useId(), filter: useId() };
  const shown = filterServers(servers, query, status, now);
  return (
    <section aria-labelledby="screen-title">
      <div className="screen-head">
        <ScreenHeading>Servers</ScreenHeading>
        <button type="button" className="btn btn-primary" onClick={() => navigate({ name: 'add' })}>
          Add a server
        </button>
      </div>
      <AttentionBanner servers={servers} now={now} />
      <SecretsNote where="servers" />
      <MigrationBanner />
      {!ready ? (
        <p className="muted">Loading…</p>
      ) : servers.length === 0 ? (
        <FirstRun />
      ) : (
        <>
          <div className="list-tools" role="search" aria-label="Servers">
            <label htmlFor={ids.search} className="visually-hidden">
              Search servers
            </label>
            <input id={ids.search} type="search" placeholder="Search by name, address or client" value={query} onChange={(e) => setQuery(e.target.value)} />
            <label htmlFor={ids.filter}>Show</label>
            <select id={ids.filter} value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
              {STATUS_FILTERS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </div>
          {shown.length ? (
            <ul className="server-rows" aria-label="Linked servers">
              {shown.map((s) => (
                <ServerRow key={s.id} server={s} now={now} />
              ))}
            </ul>
          ) : (
            <p className="muted" role="status">
              No server matches.
            </p>
          )}
        </>
      )}
    </section>
  );
}
