// The facts a person approves: which server, which authorization server (flagged when it is
// another site or plain http), the scopes, how the app registers, and how to sign in.
import { useId } from 'react';
import type { LinkPreview } from '../../src-shared/contract.js';
import type { FlowKind } from '../../src-shared/contract.js';
import { flowLabel, hostOf, registrationLabel, transportLabel } from '../view/format.js';
import { Scopes } from './bits.js';

export function ConsentFacts({ preview }: { preview: LinkPreview }) {
  const reg = registrationLabel(preview.registration);
  return (
    <>
      <dl className="facts">
        <dt>Server</dt>
        <dd>
          {preview.resourceName ? <strong>{preview.resourceName}</strong> : null}
          <span className="mono block">{preview.url}</span>
          <span className="muted block">{transportLabel(preview.transport)}</span>
        </dd>
        <dt>Authorization server</dt>
        <dd>
          <strong>{preview.issuerHost}</strong>
          <span className="mono block">{preview.issuer}</span>
        </dd>
        <dt>Scopes requested</dt>
        <dd>
          <Scopes scopes={preview.scopes} />
        </dd>
        <dt>Registration</dt>
        <dd>
          <strong>{reg.label}</strong>
          {reg.explain ? <span className="muted block">{reg.explain}</span> : null}
        </dd>
      </dl>
      {preview.issuerOtherSite || preview.insecureHttp ? (
        <ul className="warnings" aria-label="Warnings">
          {preview.issuerOtherSite ? (
            <li className="warning">
              <strong>Different site.</strong> Sign-in happens at {preview.issuerHost}, a different site from the server ({hostOf(preview.url)}). Approve only if you expect this
              server to use that authorization server.
            </li>
          ) : null}
          {preview.insecureHttp ? (
            <li className="warning">
              <strong>Not encrypted.</strong> The server or its authorization server uses plain http://, so the sign-in can be read or changed on the network. Fine for a
              server on this machine; risky anywhere else.
            </li>
          ) : null}
        </ul>
      ) : null}
    </>
  );
}

export function FlowChoice({ flows, value, onChange }: { flows: FlowKind[]; value: FlowKind; onChange: (f: FlowKind) => void }) {
  const name = useId();
  if (flows.length < 2) {
    return (
      <p className="muted">
        Sign in with: <strong>{flowLabel(flows[0] ?? value)}</strong>
        {flows[0] === 'device' ? ' (you will get a code to enter on a verification page)' : ' (opens your browser)'}
      </p>
    );
  }
  return (
    <fieldset className="choice">
      <legend>Sign in with</legend>
      {flows.map((f) => (
        <label key={f} className="radio">
          <input type="radio" name={name} value={f} checked={value === f} onChange={() => onChange(f)} />
          <span>
            <strong>{flowLabel(f)}</strong>
            <span className="muted block">{f === 'device' ? 'Shows a code to enter on the verification page, on this or another device.' : 'Opens the sign-in page in your browser.'}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}
