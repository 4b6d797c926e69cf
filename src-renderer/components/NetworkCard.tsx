// Settings' Network card: how this app reaches servers (system proxy, proxy from the
// environment, or direct), which certificates it trusts, and a test against a linked server
// that says in words what failed.
import { useEffect, useId, useState } from 'react';
import type { NetworkStatus, NetworkTestResult } from '../../src-shared/contract.js';
import { errorText } from '../view/format.js';
import { useApp } from './hooks.js';

const MODE_LABEL: Record<NetworkStatus['mode'], string> = { system: 'system proxy', environment: 'proxy from environment', direct: 'direct' };

export function NetworkCard() {
  const servers = useApp((s) => s.servers);
  const load = useApp((s) => s.networkStatus);
  const test = useApp((s) => s.testNetwork);
  const selectId = useId();
  const [status, setStatus] = useState<NetworkStatus | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [chosen, setChosen] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<NetworkTestResult | { ok: false; message: string } | undefined>();

  useEffect(() => {
    let live = true;
    load().then(
      (s) => live && setStatus(s),
      (err: unknown) => live && setProblem(errorText(err).message),
    );
    return () => {
      live = false;
    };
  }, [load]);

  const target = chosen || servers[0]?.id || '';
  const run = async () => {
    if (!target) return;
    setBusy(true);
    setResult(undefined);
    try {
      setResult(await test(target));
    } catch (err) {
      setResult({ ok: false, message: errorText(err).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="network-title">
      <h3 id="network-title" className="card-title">
        Network: {status ? MODE_LABEL[status.mode] : '…'}
      </h3>
      {problem ? <p role="alert">{problem}</p> : null}
      {status ? (
        <>
          <p>{status.summary}</p>
          <p className="help">{status.certificates}</p>
        </>
      ) : null}
      {servers.length ? (
        <div className="field">
          <label htmlFor={selectId}>Test the connection to</label>
          <select id={selectId} value={target} onChange={(e) => setChosen(e.target.value)} disabled={busy}>
            {servers.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <button type="button" className="btn" onClick={() => void run()} disabled={busy}>
            {busy ? 'Testing…' : 'Test connection'}
          </button>
        </div>
      ) : (
        <p className="help">Link a server to test the connection to it.</p>
      )}
      <div aria-live="polite">{result ? <p className={result.ok ? 'secrets-ok' : 'field-error'}>{result.message}</p> : null}</div>
    </section>
  );
}
