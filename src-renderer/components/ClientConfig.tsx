// The config entry an MCP client needs to run the bridge for a server: written into the
// client's config file by main (with a backup), or shown ready to copy.
import { useEffect, useId, useRef, useState } from 'react';
import type { ApiResults, ClientKind } from '../../src-shared/contract.js';
import type { ClientAddOutcome, ClientRemoveOutcome } from '../store.js';
import { clientLabel, errorText } from '../view/format.js';
import { CopyButton, NoticeView, ProblemView, Spinner } from './bits.js';
import { useApp } from './hooks.js';

const KINDS: ClientKind[] = ['claude', 'cursor', 'vscode', 'claude-code'];

type Loaded = { state: 'idle' } | { state: 'loading' } | { state: 'ok'; result: ApiResults['servers/clientConfig'] } | { state: 'error'; message: string; hint?: string };

/** The entry to copy; `present`: the client's file already has it (written by "Add to …"), so it is shown, not asked for. */
export function ConfigSnippet({ result, present = false }: { result: ApiResults['servers/clientConfig']; present?: boolean }) {
  const label = clientLabel(result.client);
  return (
    <div className="snippet">
      {present ? (
        <p>{result.file ? <>This is the entry now in <span className="mono">{result.file}</span>; to use it on another machine, copy it:</> : <>This is the entry {label} now has; to use it elsewhere, copy it:</>}</p>
      ) : result.file ? (
        <p>
          Add this to <span className="mono">{result.file}</span>, then restart {label}:
        </p>
      ) : (
        <p>Add this to the {label} configuration:</p>
      )}
      <pre className="code" tabIndex={0} aria-label={`${label} configuration`}>
        <code>{result.snippet}</code>
      </pre>
      <CopyButton text={result.snippet} label="Copy" what={`${label} configuration`} />
    </div>
  );
}

function useLoader(serverId: string) {
  const clientConfig = useApp((s) => s.clientConfig);
  const [loaded, setLoaded] = useState<Loaded>({ state: 'idle' });
  const load = async (kind: ClientKind) => {
    setLoaded({ state: 'loading' });
    try {
      setLoaded({ state: 'ok', result: await clientConfig(serverId, kind) });
    } catch (err) {
      setLoaded({ state: 'error', ...errorText(err) });
    }
  };
  return [loaded, load] as const;
}

type Adding =
  | { state: 'idle' }
  | { state: 'busy'; kind: ClientKind; removing: boolean }
  | { state: 'done'; kind: ClientKind; removing: boolean; outcome: ClientAddOutcome | ClientRemoveOutcome };

function useAdder(serverId: string) {
  const addToClient = useApp((s) => s.addToClient);
  const removeFromClient = useApp((s) => s.removeFromClient);
  const [adding, setAdding] = useState<Adding>({ state: 'idle' });
  const add = async (kind: ClientKind) => {
    setAdding({ state: 'busy', kind, removing: false });
    setAdding({ state: 'done', kind, removing: false, outcome: await addToClient(serverId, kind) });
  };
  const remove = async (kind: ClientKind) => {
    setAdding({ state: 'busy', kind, removing: true });
    setAdding({ state: 'done', kind, removing: true, outcome: await removeFromClient(serverId, kind) });
  };
  return [adding, add, remove] as const;
}

function AddedView({ adding }: { adding: Adding }) {
  if (adding.state === 'busy') return <Spinner label={adding.removing ? `Taking it out of ${clientLabel(adding.kind)}…` : `Adding it to ${clientLabel(adding.kind)}…`} />;
  if (adding.state !== 'done') return null;
  const o = adding.outcome;
  if (o.ok) return <NoticeView notice={o.notice} />;
  return (
    <ProblemView title={adding.removing ? `Could not take it out of ${clientLabel(adding.kind)}` : `Could not add it to ${clientLabel(adding.kind)}`} message={o.error.message} hint={o.error.hint} detail={o.error.detail} />
  );
}

/** "Add to Claude Desktop", or "In Claude Desktop ✓ · Remove" when its config already runs the bridge for this server. */
function AddOrRemove({ serverId, kind, adding, add, remove, primary }: { serverId: string; kind: ClientKind; adding: Adding; add: (k: ClientKind) => Promise<void>; remove: (k: ClientKind) => Promise<void>; primary: boolean }) {
  const label = clientLabel(kind);
  const present = useApp((s) => s.servers.find((x) => x.id === serverId)?.usedBy.includes(label) ?? false);
  const busy = adding.state === 'busy';
  const presentRef = useRef<HTMLButtonElement>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  // The button pressed is replaced by the other one: keyboard focus follows it instead of falling to the page.
  const moved = adding.state === 'done' && adding.kind === kind;
  useEffect(() => {
    if (!moved) return;
    (present ? presentRef : addRef).current?.focus();
  }, [moved, present]);
  if (present) {
    return (
      <span className="present">
        <span className="present-text">In {label} ✓</span>
        <span aria-hidden="true"> · </span>
        <button ref={presentRef} type="button" className="link-button" disabled={busy} onClick={() => void remove(kind)} aria-label={`Take it out of ${label}`}>
          Take out
        </button>
      </span>
    );
  }
  return (
    <button ref={addRef} type="button" className={primary ? 'btn btn-primary' : 'btn'} disabled={busy} aria-busy={busy} onClick={() => void add(kind)}>
      Add to {label}
    </button>
  );
}

function LoadedView({ loaded, serverId }: { loaded: Loaded; serverId: string }) {
  const present = useApp((s) => (loaded.state === 'ok' ? (s.servers.find((x) => x.id === serverId)?.usedBy.includes(clientLabel(loaded.result.client)) ?? false) : false));
  if (loaded.state === 'loading') return <Spinner label="Preparing the configuration…" />;
  if (loaded.state === 'error') return <ProblemView title="Could not prepare the configuration" message={loaded.message} hint={loaded.hint} />;
  if (loaded.state === 'ok') return <ConfigSnippet result={loaded.result} present={present} />;
  return null;
}

/** Picker for any client (server detail). */
export function ClientConfigPicker({ serverId }: { serverId: string }) {
  const [kind, setKind] = useState<ClientKind>('claude');
  const [loaded, load] = useLoader(serverId);
  const [adding, add, remove] = useAdder(serverId);
  const selectId = useId();
  return (
    <div className="client-config">
      <div className="row">
        <label htmlFor={selectId}>Client</label>
        <select id={selectId} value={kind} onChange={(e) => setKind(e.target.value as ClientKind)}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {clientLabel(k)}
            </option>
          ))}
        </select>
        <AddOrRemove serverId={serverId} kind={kind} adding={adding} add={add} remove={remove} primary />
        <button type="button" className="btn" onClick={() => void load(kind)}>
          Show config
        </button>
      </div>
      <p className="help">“Add” writes the entry into {clientLabel(kind)}’s own config file, keeping everything else in it and saving a backup first.</p>
      <div aria-live="polite">
        <AddedView adding={adding} />
        <LoadedView loaded={loaded} serverId={serverId} />
      </div>
    </div>
  );
}

/** The one-click next step after linking, with the copy-it-yourself way beside it. */
export function AddToClaude({ serverId }: { serverId: string }) {
  const [loaded, load] = useLoader(serverId);
  const [adding, add, remove] = useAdder(serverId);
  return (
    <div className="client-config">
      <div className="actions actions-start">
        <AddOrRemove serverId={serverId} kind="claude" adding={adding} add={add} remove={remove} primary />
        {loaded.state === 'idle' ? (
          <button type="button" className="btn" onClick={() => void load('claude')}>
            Show the config to copy
          </button>
        ) : null}
      </div>
      <div aria-live="polite">
        <AddedView adding={adding} />
        <LoadedView loaded={loaded} serverId={serverId} />
      </div>
    </div>
  );
}
