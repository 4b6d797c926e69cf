// The MCP clients on this machine: which servers each runs through the bridge, a switch per
// server to add or remove it (the file is backed up first), and the mcp-remote migration.
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ClientOverview, ServerSummary } from '../../src-shared/contract.js';
import type { Notice } from '../store.js';
import { NoticeView, ProblemView, Spinner } from './bits.js';
import { useApp } from './hooks.js';
import { LoadedListHead } from './LoadedListHead.js';

function ServerSwitch({ client, server, on }: { client: ClientOverview; server: ServerSummary; on: boolean }) {
  const add = useApp((s) => s.addToClient);
  const remove = useApp((s) => s.removeFromClient);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | undefined>();
  const id = `switch-${client.kind}-${server.id}`;
  const toggle = async () => {
    setBusy(true);
    setNotice(undefined);
    const o = on ? await remove(server.id, client.kind) : await add(server.id, client.kind);
    setBusy(false);
    setNotice(o.ok ? o.notice : { tone: 'bad', text: o.error.message, ...(o.error.hint ? { hint: o.error.hint } : {}), ...(o.error.detail ? { detail: o.error.detail } : {}) });
  };
  return (
    <li className="switch-row">
      <button
        id={id}
        type="button"
        role="switch"
        aria-checked={on}
        className="switch"
        disabled={busy || Boolean(client.error)}
        onClick={() => void toggle()}
        aria-label={`${server.name} in ${client.label}`}
      >
        <span className="switch-knob" aria-hidden="true" />
      </button>
      <label htmlFor={id} className="switch-label">
        <strong>{server.name}</strong>
        <span className="muted"> {on ? `in ${client.label}` : 'not added'}</span>
      </label>
      <div className="switch-notice" aria-live="polite">
        {busy ? <Spinner label={on ? 'Taking it out…' : 'Adding…'} /> : notice ? <NoticeView notice={notice} onClose={() => setNotice(undefined)} /> : null}
      </div>
    </li>
  );
}

function ClientCard({ client, servers }: { client: ClientOverview; servers: ServerSummary[] }) {
  const navigate = useApp((s) => s.navigate);
  const titleId = `client-${client.kind}`;
  const known = new Set(client.bridged.map((b) => b.serverId).filter(Boolean));
  const others = client.bridged.filter((b) => !b.serverId);
  return (
    <section className="card client-card" aria-labelledby={titleId}>
      <div className="client-head">
        <h3 id={titleId} className="card-title">
          {client.label}
        </h3>
        <span className={`chip chip-${client.found ? 'ok' : 'off'}`}>
          <span className="chip-dot" aria-hidden="true" />
          {client.found ? 'Found' : 'Not found on this machine'}
        </span>
      </div>
      <p className="help">
        Config file: <span className="mono wrap">{client.file}</span>
      </p>
      {client.error ? <ProblemView title="This config file cannot be read, so it is left alone" message={client.error} hint="Fix the file (or let the client rewrite it), then come back." /> : null}
      {servers.length ? (
        <ul className="plain switches" aria-label={`Servers in ${client.label}`}>
          {servers.map((s) => (
            <ServerSwitch key={s.id} client={client} server={s} on={known.has(s.id)} />
          ))}
        </ul>
      ) : (
        <p className="muted">Add a server first; then switch it on here.</p>
      )}
      {others.length ? (
        <p className="muted">
          Also runs the bridge for: {others.map((o) => o.name).join(', ')} (not in this app’s list).
        </p>
      ) : null}
      {client.mcpRemote ? (
        <div className="banner banner-info">
          <p className="banner-title">
            {client.mcpRemote === 1 ? '1 entry still uses mcp-remote' : `${client.mcpRemote} entries still use mcp-remote`}
          </p>
          <button type="button" className="btn" onClick={() => navigate({ name: 'migrate' })}>
            Move to MCP Token Manager
          </button>
        </div>
      ) : null}
      <p className="help">Changes keep everything else in the file and save a backup beside it first. Restart {client.label} to apply them.</p>
    </section>
  );
}

export function ClientsScreen() {
  const clients = useApp((s) => s.clients);
  const servers = useApp(useShallow((s) => s.servers));
  const load = useApp((s) => s.loadClients);
  const list = clients.data ?? [];
  // Clients found first; the rest stay listed so a person can set one up before installing it.
  const sorted = [...list].sort((a, b) => Number(b.found) - Number(a.found));
  return (
    <section aria-labelledby="screen-title">
      <LoadedListHead screen="clients" list={clients} onReload={() => void load()} />
      {sorted.map((c) => (
        <ClientCard key={c.kind} client={c} servers={servers} />
      ))}
    </section>
  );
}
