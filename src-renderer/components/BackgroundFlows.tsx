// Sign-ins running outside the screen on show (a bridge's consent, a tray re-authorization, a
// link left running): their progress and device code stay reachable from anywhere.
import { useShallow } from 'zustand/react/shallow';
import { backgroundFlows } from '../store.js';
import { hostOf } from '../view/format.js';
import { Details } from './bits.js';
import { FlowView } from './FlowView.js';
import { useApp } from './hooks.js';

export function BackgroundFlows() {
  const flows = useApp(useShallow((s) => backgroundFlows(s)));
  const dismiss = useApp((s) => s.dismissFlow);
  if (!flows.length) return null;
  return (
    <section className="card background-flows" aria-labelledby="bg-title">
      <h2 id="bg-title" className="card-title">
        Sign-ins in progress
      </h2>
      <ul className="plain">
        {flows.map((f) => (
          <li key={f.flowId}>
            <FlowView flow={f} title={f.url ? hostOf(f.url) : 'Sign-in'} />
            {f.state === 'error' ? (
              <div className="notice notice-bad" role="alert">
                <div>
                  <p className="notice-text">{f.error?.message ?? 'The sign-in failed.'}</p>
                  {f.error?.hint ? <p className="notice-hint">{f.error.hint}</p> : null}
                  <Details detail={f.error?.detail} />
                </div>
                <button type="button" className="btn btn-quiet" onClick={() => dismiss(f.flowId)} aria-label="Dismiss">
                  ✕
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
