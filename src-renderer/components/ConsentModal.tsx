// A bridge asked to link a server nobody linked yet: the person approves or denies here.
import { useId, useState } from 'react';
import type { FlowKind } from '../../src-shared/contract.js';
import type { ConsentItem } from '../store.js';
import { hostOf, registrationLabel } from '../view/format.js';
import { Modal, ProblemView } from './bits.js';
import { ConsentFacts, FlowChoice } from './ConsentCard.js';
import { SecretsNote } from './SecretsNote.js';
import { useApp } from './hooks.js';

function ConsentBody({ item, more }: { item: ConsentItem; more: number }) {
  const answer = useApp((s) => s.answerConsent);
  const { request } = item;
  const { preview } = request;
  const [flow, setFlow] = useState<FlowKind>(preview.defaultFlow);
  const [name, setName] = useState(preview.resourceName ?? hostOf(preview.url));
  const nameId = useId();
  const reg = registrationLabel(preview.registration);
  const deny = () => void answer(request.requestId, false);
  // "An MCP client" is what the broker says when the client did not introduce itself.
  const who = request.requestedBy;
  // Mid-sentence the stand-in is lower case.
  const whoLater = who === 'An MCP client' ? 'the client' : who;
  return (
    <Modal open title={`${who} wants to connect to ${preview.resourceName ?? hostOf(preview.url)}`} onCancel={deny} className="consent-modal">
      <div className="modal-body">
        <p>
          <strong>{who}</strong> asked to use this server. Approving signs you in to it once; {whoLater} then uses it through MCP Token Manager without ever seeing your tokens.
        </p>
        {/* The person's one input first: below the facts it was out of sight in a short window. */}
        {reg.possible ? (
          <div className="field">
            <label htmlFor={nameId}>Name in your list</label>
            <input id={nameId} type="text" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
        ) : null}
        <ConsentFacts preview={preview} />
        <SecretsNote where="approve" />
        {reg.possible ? <FlowChoice flows={preview.flows} value={flow} onChange={setFlow} /> : null}
        {item.error ? <ProblemView title="Could not send your answer" message={item.error.message} hint={item.error.hint} /> : null}
        {more > 0 ? <p className="muted">{more === 1 ? 'One more request is waiting.' : `${more} more requests are waiting.`}</p> : null}
      </div>
      <div className="actions">
        <button type="button" className="btn" disabled={item.busy} onClick={deny}>
          Deny
        </button>
        <button type="button" className="btn btn-primary" disabled={item.busy || !reg.possible} onClick={() => void answer(request.requestId, true, flow, name)}>
          Approve and sign in
        </button>
      </div>
    </Modal>
  );
}

export function ConsentModal() {
  const consents = useApp((s) => s.consents);
  const first = consents[0];
  if (!first) return null;
  // Keyed so each request gets a fresh dialog (and fresh focus).
  return <ConsentBody key={first.request.requestId} item={first} more={consents.length - 1} />;
}
