// Review of the MCP client entries that still run mcp-remote, and their replacement by the
// bridge. Main re-reads every file when applying and backs each one up before changing it.
import { useId, useState } from 'react';
import type { MigrationEntrySummary, MigrationPlanSummary } from '../../src-shared/contract.js';
import { formatTime, migrationResultNotices, noteKindLabel } from '../view/format.js';
import { CopyButton, NoticeView, ProblemView, Spinner } from './bits.js';
import { useApp } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';

function grantText(e: MigrationEntrySummary): string | undefined {
  if (!e.hasGrant) return undefined;
  const parts = [e.grantHasRefreshToken ? 'with a refresh token' : 'no refresh token'];
  if (e.grantExpiresAt) parts.push(`access token expires ${formatTime(e.grantExpiresAt)}`);
  return `mcp-remote has a saved sign-in for this server (${parts.join(', ')}).`;
}

function EntryView({ entry, index }: { entry: MigrationEntrySummary; index: number }) {
  const titleId = `migrate-entry-${index}`;
  const grant = grantText(entry);
  return (
    <li>
      <article className="card migrate-entry" aria-labelledby={titleId}>
        <header className="server-card-head">
          <h4 id={titleId} className="server-name">
            {entry.name}
          </h4>
          <span className={`chip ${entry.action === 'replace' ? 'chip-ok' : 'chip-warn'}`}>
            <span className="chip-dot" aria-hidden="true" />
            {entry.action === 'replace' ? 'Will be replaced' : 'Stays on mcp-remote'}
          </span>
        </header>
        <dl className="facts facts-compact">
          <dt>Server</dt>
          <dd className="mono">{entry.url ?? 'unknown'}</dd>
          <dt>Now</dt>
          <dd className="mono">{entry.before}</dd>
          {entry.after ? (
            <>
              <dt>After</dt>
              <dd className="mono">{entry.after}</dd>
            </>
          ) : null}
          {grant ? (
            <>
              <dt>Sign-in</dt>
              <dd>{grant}</dd>
            </>
          ) : null}
        </dl>
        {entry.notes.length ? (
          <ul className="migrate-notes" aria-label={`Notes on ${entry.name}`}>
            {entry.notes.map((n, i) => (
              <li key={i} className={`migrate-note migrate-note-${n.kind}`}>
                <span className="migrate-note-kind">{noteKindLabel(n.kind)}:</span> <span className="mono">{n.flag}</span> — {n.text}
              </li>
            ))}
          </ul>
        ) : null}
        {entry.linkCommand ? (
          <div className="snippet">
            <p>Before first use, link it with the same registration settings:</p>
            <pre className="code" tabIndex={0} aria-label={`Link command for ${entry.name}`}>
              <code>{entry.linkCommand}</code>
            </pre>
            <CopyButton text={entry.linkCommand} what={`link command for ${entry.name}`} />
          </div>
        ) : null}
      </article>
    </li>
  );
}

function Plan({ plan }: { plan: MigrationPlanSummary }) {
  const files = [...new Set(plan.entries.map((e) => e.file))];
  return (
    <>
      {files.map((file, fi) => {
        const entries = plan.entries.map((e, i) => ({ e, i })).filter(({ e }) => e.file === file);
        const first = entries[0]?.e;
        const headingId = `migrate-file-${fi}`;
        return (
          <section key={file} className="migrate-file" aria-labelledby={headingId}>
            <h3 id={headingId} className="card-title">
              {first?.client ?? 'Client'}
              {first?.scope === 'project' ? ' (project)' : ''} — <span className="mono">{file}</span>
            </h3>
            <ul className="server-list" aria-label={`Entries in ${file}`}>
              {entries.map(({ e, i }) => (
                <EntryView key={i} entry={e} index={i} />
              ))}
            </ul>
          </section>
        );
      })}
      {plan.unreadable.map((u) => (
        <ProblemView
          key={u.file}
          title={`Skipped ${u.client}’s ${u.file}`}
          message={u.error}
          hint={u.mentionsMcpRemote ? 'It mentions mcp-remote, so entries in it may have been missed. Fix the file, then review again.' : undefined}
        />
      ))}
      {plan.unmatchedGrants ? (
        <p className="muted">
          {plan.unmatchedGrants} more saved mcp-remote sign-in{plan.unmatchedGrants === 1 ? '' : 's'} in <span className="mono">{plan.authDir}</span> belong to no entry found here; they are left alone.
        </p>
      ) : null}
    </>
  );
}

function Apply({ plan }: { plan: MigrationPlanSummary }) {
  const migrate = useApp((s) => s.migrate);
  const applying = useApp((s) => s.migration.applying);
  const replaceable = plan.entries.filter((e) => e.action === 'replace');
  const anyGrant = replaceable.some((e) => e.hasGrant);
  const [importTokens, setImportTokens] = useState(true);
  const [deletePlaintext, setDeletePlaintext] = useState(false);
  const importId = useId();
  const deleteId = useId();
  const importing = anyGrant && importTokens;
  if (!replaceable.length) return null;
  return (
    <form
      className="card form"
      aria-label="Replace mcp-remote"
      onSubmit={(e) => {
        e.preventDefault();
        void migrate({ importTokens: importing, deletePlaintext: importing && deletePlaintext });
      }}
    >
      <p>
        {replaceable.length === 1 ? '1 entry' : `${replaceable.length} entries`} will run MCP Token Manager’s bridge instead of mcp-remote. Each file is backed up
        before it changes; everything else in it stays as it is.
      </p>
      <fieldset className="choice">
        <legend>Sign-ins</legend>
        <div className="toggle">
          <input id={importId} type="checkbox" checked={importing} disabled={!anyGrant || applying} onChange={(e) => setImportTokens(e.target.checked)} aria-describedby={`${importId}-help`} />
          <label htmlFor={importId}>Import their sign-ins so you don’t sign in again</label>
          <p id={`${importId}-help`} className="help">
            {anyGrant
              ? 'mcp-remote keeps them in plain files; they are encrypted into this app’s vault.'
              : 'mcp-remote has no saved sign-in for these servers; you sign in once on first use.'}
          </p>
        </div>
        <div className="toggle">
          <input id={deleteId} type="checkbox" checked={importing && deletePlaintext} disabled={!importing || applying} onChange={(e) => setDeletePlaintext(e.target.checked)} />
          <label htmlFor={deleteId}>Delete mcp-remote’s plaintext token files afterwards</label>
        </div>
      </fieldset>
      <div className="actions actions-start">
        <button type="submit" className="btn btn-primary" disabled={applying} aria-busy={applying}>
          {applying ? 'Replacing…' : 'Replace with MCP Token Manager'}
        </button>
      </div>
    </form>
  );
}

export function MigrateScreen() {
  const navigate = useApp((s) => s.navigate);
  const migration = useApp((s) => s.migration);
  const load = useApp((s) => s.loadMigrationPlan);
  const { plan, result } = migration;
  return (
    <section aria-labelledby="screen-title">
      <button type="button" className="btn btn-quiet" onClick={() => navigate({ name: 'servers' })}>
        ← All servers
      </button>
      <div className="screen-head">
        <ScreenHeading>Entries that use mcp-remote</ScreenHeading>
        <button type="button" className="btn" onClick={() => void load()} disabled={migration.loading}>
          Check again
        </button>
      </div>
      <p className="help">
        These MCP client entries start <span className="mono">mcp-remote</span>, which keeps your sign-ins in plain files. MCP Token Manager can run them through its
        bridge instead, with the tokens encrypted and refreshed in one place.
      </p>
      <div aria-live="polite">
        {migration.applying ? <Spinner label="Replacing the entries…" /> : null}
        {result ? (
          <div className="migrate-result" role="group" aria-label="Result">
            {migrationResultNotices(result).map((n, i) => (
              <NoticeView key={i} notice={n} />
            ))}
            <div className="actions actions-start">
              <button type="button" className="btn" onClick={() => navigate({ name: 'servers' })}>
                Go to Servers
              </button>
            </div>
          </div>
        ) : null}
        {migration.applyError ? <ProblemView title="The entries were not replaced" message={migration.applyError.message} hint={migration.applyError.hint} /> : null}
      </div>
      {migration.error ? <ProblemView title="Could not read the MCP client configs" message={migration.error.message} hint={migration.error.hint} /> : null}
      {!plan ? (
        migration.loading ? (
          <Spinner label="Reading the MCP client configs…" />
        ) : null
      ) : plan.entries.length === 0 ? (
        <div className="empty card">
          <p>No MCP client entry uses mcp-remote{result ? ' any more' : ''}.</p>
          {plan.unreadable.length ? <Plan plan={plan} /> : null}
        </div>
      ) : (
        <>
          <Apply plan={plan} />
          <Plan plan={plan} />
        </>
      )}
    </section>
  );
}
