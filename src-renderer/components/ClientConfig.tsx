// The config entry an MCP client needs to run the bridge for a server, ready to copy.
import { useId, useState } from 'react';
import type { ApiResults, ClientKind } from '../../src-main/core/api/contract.js';
import { clientLabel, errorText } from '../view/format.js';
import { CopyButton, ProblemView, Spinner } from './bits.js';
import { useApp } from './hooks.js';

const KINDS: ClientKind[] = ['claude', 'cursor', 'vscode', 'claude-code'];

type Loaded = { state: 'idle' } | { state: 'loading' } | { state: 'ok'; result: ApiResults['servers/clientConfig'] } | { state: 'error'; message: string; hint?: string };

export function ConfigSnippet({ result }: { result: ApiResults['servers/clientConfig'] }) {
  const label = clientLabel(result.client);
  return (
    <div className="snippet">
      {result.file ? (
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

function LoadedView({ loaded }: { loaded: Loaded }) {
  if (loaded.state === 'loading') return <Spinner label="Preparing the configuration…" />;
  if (loaded.state === 'error') return <ProblemView title="Could not prepare the configuration" message={loaded.message} hint={loaded.hint} />;
  if (loaded.state === 'ok') return <ConfigSnippet result={loaded.result} />;
  return null;
}

/** Picker for any client (server detail). */
export function ClientConfigPicker({ serverId }: { serverId: string }) {
  const [kind, setKind] = useState<ClientKind>('claude');
  const [loaded, load] = useLoader(serverId);
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
        <button type="button" className="btn" onClick={() => void load(kind)}>
          Show config
        </button>
      </div>
      <div aria-live="polite">
        <LoadedView loaded={loaded} />
      </div>
    </div>
  );
}

/** The one-click next step after linking. */
export function AddToClaude({ serverId }: { serverId: string }) {
  const [loaded, load] = useLoader(serverId);
  return (
    <div className="client-config">
      {loaded.state === 'idle' ? (
        <button type="button" className="btn btn-primary" onClick={() => void load('claude')}>
          Add to Claude Desktop
        </button>
      ) : null}
      <div aria-live="polite">
        <LoadedView loaded={loaded} />
      </div>
    </div>
  );
}
