// A link in progress: its step-by-step lines (announced politely) and, for the device flow,
// the code to enter and where.
import type { Flow } from '../store.js';
import { formatDuration } from '../view/format.js';
import { CopyButton, Spinner } from './bits.js';
import { useApp, useNow } from './hooks.js';

export function ProgressLines({ lines, label = 'Progress' }: { lines: string[]; label?: string }) {
  if (!lines.length) return null;
  return (
    // The live region wraps the list, so the list keeps its list semantics.
    <div className="progress" role="log" aria-live="polite" aria-label={label} tabIndex={0}>
      <ol>
        {lines.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ol>
    </div>
  );
}

/** The technical log of a sign-in, folded: the screen says what to do; support reads this. */
export function FoldedProgress({ lines, label }: { lines: string[]; label: string }) {
  if (!lines.length) return null;
  return (
    <details className="details">
      <summary>Show the steps taken</summary>
      <ProgressLines lines={lines} label={label} />
    </details>
  );
}

export function DeviceCodeView({ code }: { code: NonNullable<Flow['deviceCode']> }) {
  const openExternal = useApp((s) => s.openExternal);
  const now = useNow(1000);
  const left = code.expiresAt - now;
  const target = code.verificationUriComplete ?? code.verificationUri;
  return (
    <section className="device" aria-label="Device code">
      <p>On any device, open the verification page and enter this code:</p>
      <p className="device-code" aria-label={`Code: ${code.userCode.split('').join(' ')}`}>
        {code.userCode}
      </p>
      <div className="actions actions-start">
        <CopyButton text={code.userCode} label="Copy code" what="code" />
        <button type="button" className="btn btn-primary" onClick={() => void openExternal(target)}>
          Open verification page
        </button>
      </div>
      <p className="muted">
        Verification page: <span className="mono">{code.verificationUri}</span>
      </p>
      <p className="muted">{left > 0 ? `The code is valid for ${formatDuration(left)}.` : 'The code has expired.'}</p>
    </section>
  );
}

/** Everything a flow has said so far; `title` names it when several are shown. */
export function FlowView({ flow, title }: { flow: Flow; title?: string }) {
  return (
    <div className="flow">
      {title ? <h3 className="flow-title">{title}</h3> : null}
      {flow.state === 'running' ? <Spinner label={flow.deviceCode ? 'Waiting for approval…' : 'Working…'} /> : null}
      <ProgressLines lines={flow.lines} />
      {flow.deviceCode && flow.state === 'running' ? <DeviceCodeView code={flow.deviceCode} /> : null}
    </div>
  );
}
