// A server's own HTTP headers (API keys beside the sign-in, tenant or team headers): listed with
// saved values hidden, and edited by rows (see view/headers.ts for what a row sends).
import { useId, useRef, useState } from 'react';
import type { ServerSummary } from '../../src-shared/contract.js';
import type { Problem } from '../store.js';
import { problemNotice } from '../store.js';
import { NoticeView } from './bits.js';
import { useApp } from './hooks.js';
import { headerEdits, headerRows, type HeaderRow } from '../view/headers.js';

function HeaderList({ server }: { server: ServerSummary }) {
  if (!server.headers.length) return <p className="muted">No headers: only the sign-in is sent.</p>;
  return (
    <dl className="facts headers-list" aria-label="Headers sent to this server">
      {server.headers.map((h) => (
        <div key={h.name} className="headers-item">
          <dt className="mono">{h.name}</dt>
          <dd className="mono">
            {h.value}
            {h.hidden ? <span className="visually-hidden"> (value hidden)</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function HeaderEditor({ server, onDone }: { server: ServerSummary; onDone: (saved: boolean) => void }) {
  const saveHeaders = useApp((s) => s.saveHeaders);
  const next = useRef(0);
  const [rows, setRows] = useState<HeaderRow[]>(() => {
    const saved = headerRows(server.headers, () => next.current++);
    // Nothing saved yet: start with an empty row to fill in.
    return saved.length ? saved : [{ key: next.current++, name: '', value: '' }];
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem | undefined>();
  const ids = useId();
  const lastName = useRef<HTMLInputElement | null>(null);

  const patch = (key: number, p: Partial<HeaderRow>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...p } : r)));
  const add = () => {
    setRows((rs) => [...rs, { key: next.current++, name: '', value: '' }]);
    // Focus the new row's name once it is rendered.
    setTimeout(() => lastName.current?.focus(), 0);
  };
  const save = async () => {
    setBusy(true);
    setError(undefined);
    const r = await saveHeaders(server.id, headerEdits(rows));
    setBusy(false);
    if (r.ok) onDone(true);
    else setError(r.error);
  };

  return (
    <form
      className="headers-form"
      aria-label={`Edit the headers of ${server.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {rows.length ? (
        <>
          <div className="headers-row headers-row-head" aria-hidden="true">
            <span>Name</span>
            <span>Value</span>
            <span />
          </div>
          <ol className="plain headers-rows" aria-label="Headers">
            {rows.map((r, i) => {
              const label = r.name.trim() || `header ${i + 1}`;
              return (
                <li key={r.key} className="headers-row">
                  <span className="headers-cell">
                    <label htmlFor={`${ids}-n${r.key}`} className="visually-hidden">
                      Name of header {i + 1}
                    </label>
                    <input
                      id={`${ids}-n${r.key}`}
                      ref={i === rows.length - 1 ? lastName : undefined}
                      type="text"
                      className="mono"
                      value={r.name}
                      placeholder="X-Api-Key"
                      autoComplete="off"
                      spellCheck={false}
                      onChange={(e) => patch(r.key, { name: e.target.value })}
                    />
                  </span>
                  <span className="headers-cell">
                    <label htmlFor={`${ids}-v${r.key}`} className="visually-hidden">
                      Value of {label}
                    </label>
                    <input
                      id={`${ids}-v${r.key}`}
                      type="text"
                      className="mono"
                      value={r.value}
                      placeholder={r.saved?.hidden ? `${r.saved.value} (saved; leave empty to keep)` : 'value, or ${VARIABLE}'}
                      autoComplete="off"
                      spellCheck={false}
                      aria-describedby={r.saved?.hidden ? `${ids}-keep` : undefined}
                      onChange={(e) => patch(r.key, { value: e.target.value })}
                    />
                  </span>
                  <button type="button" className="btn btn-quiet" aria-label={`Remove ${label}`} onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}>
                    Remove
                  </button>
                </li>
              );
            })}
          </ol>
        </>
      ) : (
        <p className="muted">{server.headers.length ? 'No headers left: saving removes them all.' : 'No headers.'}</p>
      )}
      <p id={`${ids}-keep`} className="help">
        A saved value is never shown again: leave its box empty to keep it, or type a new one.
      </p>
      {error ? <NoticeView notice={problemNotice(error)} onClose={() => setError(undefined)} /> : null}
      <div className="actions actions-start">
        <button type="button" className="btn" onClick={add} disabled={busy}>
          Add a header
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save headers'}
        </button>
        <button type="button" className="btn" onClick={() => onDone(false)} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function HeadersCard({ server }: { server: ServerSummary }) {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  return (
    <section className="card" aria-labelledby="headers-title">
      <h3 id="headers-title" className="card-title">
        Headers
      </h3>
      <p className="help">
        Sent with every request to this server only, beside the sign-in. Values are kept encrypted; write {'${NAME}'} to take a value from the MCP client’s environment when the bridge runs.
      </p>
      {editing ? (
        <HeaderEditor
          key={server.id}
          server={server}
          onDone={(ok) => {
            setEditing(false);
            setSaved(ok);
          }}
        />
      ) : (
        <>
          <HeaderList server={server} />
          {saved ? <NoticeView notice={{ tone: 'ok', text: 'Headers saved. Clients started from now on send them; restart a client that is running to apply.' }} onClose={() => setSaved(false)} /> : null}
          <div className="actions actions-start">
            <button
              type="button"
              className="btn"
              onClick={() => {
                setSaved(false);
                setEditing(true);
              }}
            >
              {server.headers.length ? 'Edit headers' : 'Add a header'}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
