// Add a server: URL → discovery with progress → consent card → sign-in (browser or device
// code) with progress → done, with "Add to Claude Desktop" as the next step.
import { useId, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { FlowKind } from '../../src-shared/contract.js';
import { addUrl, flowsFor, type AddState, type PreviewRequest } from '../store.js';
import { parseScopes, registrationLabel, urlProblem } from '../view/format.js';
import { ProblemView, Spinner, StatusChipView } from './bits.js';
import { AddToClaude } from './ClientConfig.js';
import { CompanySignInOffer } from './CompanySignInOffer.js';
import { ConsentFacts, FlowChoice } from './ConsentCard.js';
import { SecretsNote } from './SecretsNote.js';
import { DeviceCodeView, FoldedProgress, ProgressLines } from './FlowView.js';
import { useApp, useNow } from './hooks.js';
import { ScreenHeading, StepTitle } from './ScreenHeading.js';

function useAddFlows(add: AddState) {
  return useApp(useShallow((s) => (add.stage === 'idle' ? [] : flowsFor(s.flows, addUrl(add), add.since))));
}

function UrlForm({ initial }: { initial?: PreviewRequest }) {
  const preview = useApp((s) => s.preview);
  const [url, setUrl] = useState(initial?.url ?? '');
  const [clientId, setClientId] = useState(initial?.clientId ?? '');
  const [metadataUrl, setMetadataUrl] = useState(initial?.clientMetadataUrl ?? '');
  const [scopes, setScopes] = useState(initial?.scopes?.join(' ') ?? '');
  const [invalid, setInvalid] = useState<string | undefined>();
  const ids = { url: useId(), urlHelp: useId(), urlError: useId(), clientId: useId(), meta: useId(), scopes: useId() };
  const advancedOpen = Boolean(initial?.clientId || initial?.clientMetadataUrl || initial?.scopes?.length);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const u = url.trim();
    const problem = urlProblem(u);
    if (problem) {
      setInvalid(problem);
      return;
    }
    setInvalid(undefined);
    const req: PreviewRequest = { url: u };
    if (clientId.trim()) req.clientId = clientId.trim();
    if (metadataUrl.trim()) req.clientMetadataUrl = metadataUrl.trim();
    const sc = parseScopes(scopes);
    if (sc.length) req.scopes = sc;
    void preview(req);
  };

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={ids.url}>MCP server URL</label>
        <input
          id={ids.url}
          type="url"
          inputMode="url"
          autoComplete="url"
          spellCheck={false}
          required
          placeholder="https://mcp.example.com/mcp"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          aria-describedby={invalid ? `${ids.urlHelp} ${ids.urlError}` : ids.urlHelp}
          aria-invalid={invalid ? true : undefined}
        />
        <p id={ids.urlHelp} className="help">
          The address your MCP client would connect to. The app finds out how to sign in before asking you to approve anything.
        </p>
        {invalid ? (
          <p id={ids.urlError} className="field-error" role="alert">
            {invalid}
          </p>
        ) : null}
      </div>
      <details className="advanced" open={advancedOpen}>
        <summary>Advanced</summary>
        <div className="field">
          <label htmlFor={ids.clientId}>Client ID (when the server gave you one)</label>
          <input id={ids.clientId} type="text" spellCheck={false} autoComplete="off" value={clientId} onChange={(e) => setClientId(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.meta}>Client metadata document URL</label>
          <input id={ids.meta} type="url" spellCheck={false} autoComplete="off" value={metadataUrl} onChange={(e) => setMetadataUrl(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.scopes}>Scopes (space separated; empty = what the server asks for)</label>
          <input id={ids.scopes} type="text" spellCheck={false} autoComplete="off" value={scopes} onChange={(e) => setScopes(e.target.value)} />
        </div>
      </details>
      <div className="actions actions-start">
        <button type="submit" className="btn btn-primary">
          Continue
        </button>
      </div>
    </form>
  );
}

function ConsentStep({ add }: { add: Extract<AddState, { stage: 'consent' }> }) {
  const approve = useApp((s) => s.approve);
  const resetAdd = useApp((s) => s.resetAdd);
  const navigate = useApp((s) => s.navigate);
  const { preview } = add;
  const [flow, setFlow] = useState<FlowKind>(preview.defaultFlow);
  // The server's own name is the best default; the person can change it.
  const [name, setName] = useState(preview.resourceName ?? '');
  const nameId = useId();
  const reg = registrationLabel(preview.registration);
  return (
    <>
      <article className="card consent" aria-labelledby="consent-title">
        <StepTitle id="consent-title">
          Add {preview.resourceName ?? preview.url}?
        </StepTitle>
        <ConsentFacts preview={preview} />
        <CompanySignInOffer preview={preview} clientId={add.request.clientId} name={name} />
        <SecretsNote where="approve" />
        {preview.alreadyLinkedAs ? (
          <div className="notice notice-warn" role="status">
            <p className="notice-text">
              This server is already in your list as “{preview.alreadyLinkedAs}”. Approving signs in to it again and replaces its tokens; to add a second account, use “Add another account” on its page.{' '}
              <button type="button" className="link-button" onClick={() => navigate({ name: 'detail', id: preview.alreadyLinkedAs ?? '' })}>
                Open it instead
              </button>
            </p>
          </div>
        ) : null}
        {reg.possible ? (
          <>
            <FlowChoice flows={preview.flows} value={flow} onChange={setFlow} />
            <div className="field">
              <label htmlFor={nameId}>Name</label>
              <input id={nameId} type="text" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
          </>
        ) : null}
        <div className="actions">
          <button type="button" className="btn" onClick={resetAdd}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" disabled={!reg.possible} onClick={() => void approve({ flow, name })}>
            Approve and sign in
          </button>
        </div>
      </article>
      {!reg.possible ? <UrlForm initial={add.request} /> : null}
    </>
  );
}

function LinkingStep({ add }: { add: Extract<AddState, { stage: 'linking' }> }) {
  const flows = useAddFlows(add);
  const cancelAdd = useApp((s) => s.cancelAdd);
  const code = flows.find((f) => f.deviceCode && f.state === 'running')?.deviceCode;
  return (
    <section className="card" aria-labelledby="linking-title">
      <StepTitle id="linking-title">
        Signing in to {add.preview.resourceName ?? add.preview.url}
      </StepTitle>
      <Spinner label={code ? 'Waiting for you to enter the code…' : add.flow === 'browser' ? 'Finish signing in in the browser window that opened.' : 'Starting…'} />
      {code ? <DeviceCodeView code={code} /> : null}
      <FoldedProgress lines={flows.flatMap((f) => f.lines)} label="Sign-in progress" />
      <div className="actions">
        <button type="button" className="btn" onClick={() => void cancelAdd()}>
          Cancel sign-in
        </button>
      </div>
    </section>
  );
}

function DoneStep({ add }: { add: Extract<AddState, { stage: 'done' }> }) {
  const navigate = useApp((s) => s.navigate);
  const resetAdd = useApp((s) => s.resetAdd);
  const server = useApp((s) => s.servers.find((x) => x.id === add.server.id)) ?? add.server;
  const now = useNow(5000);
  return (
    <section className="card" aria-labelledby="done-title">
      <StepTitle id="done-title">
        Added {server.name}
      </StepTitle>
      <p role="status">
        <StatusChipView server={server} now={now} /> Your MCP clients can now use this server through the bridge.
      </p>
      {add.note ? <p role="note">{add.note}</p> : null}
      <h4>Next step</h4>
      <AddToClaude serverId={server.id} />
      <div className="actions actions-start">
        <button type="button" className="btn" onClick={() => navigate({ name: 'detail', id: server.id })}>
          Open server
        </button>
        <button type="button" className="btn" onClick={resetAdd}>
          Add another server
        </button>
      </div>
    </section>
  );
}

export function AddScreen() {
  const add = useApp((s) => s.add);
  const resetAdd = useApp((s) => s.resetAdd);
  const preview = useApp((s) => s.preview);
  const flows = useAddFlows(add);
  return (
    <section aria-labelledby="screen-title">
      <div className="screen-head">
        <ScreenHeading>Add a server</ScreenHeading>
      </div>
      {add.stage === 'idle' ? <UrlForm /> : null}
      {add.stage === 'previewing' ? (
        <section className="card" aria-labelledby="previewing-title">
          <StepTitle id="previewing-title">
            Looking at {add.request.url}
          </StepTitle>
          <Spinner label="Discovering how to sign in…" />
          <ProgressLines lines={add.lines} label="Discovery progress" />
          <div className="actions">
            <button type="button" className="btn" onClick={resetAdd}>
              Cancel
            </button>
          </div>
        </section>
      ) : null}
      {add.stage === 'consent' ? <ConsentStep key={add.since} add={add} /> : null}
      {add.stage === 'linking' ? <LinkingStep add={add} /> : null}
      {add.stage === 'done' ? <DoneStep add={add} /> : null}
      {add.stage === 'failed' ? (
        <>
          <ProblemView title={add.step === 'preview' ? 'Could not set up this server' : 'Sign-in did not complete'} message={add.error.message} hint={add.error.hint} detail={add.error.detail} />
          {(add.step === 'preview' ? (add.lines ?? []) : flows.flatMap((f) => f.lines)).length ? (
            <details className="details">
              <summary>Show the steps taken</summary>
              <ProgressLines lines={add.step === 'preview' ? (add.lines ?? []) : flows.flatMap((f) => f.lines)} label="What happened" />
            </details>
          ) : null}
          {add.step === 'link' ? (
            <div className="actions actions-start">
              <button type="button" className="btn btn-primary" onClick={() => void preview(add.request)}>
                Try again
              </button>
              <button type="button" className="btn" onClick={resetAdd}>
                Start over
              </button>
            </div>
          ) : (
            <UrlForm key={add.since} initial={add.request} />
          )}
        </>
      ) : null}
      {add.stage === 'idle' ? (
        <>
          <p className="muted">Nothing is stored until you approve.</p>
          <SecretsNote where="approve" />
        </>
      ) : null}
    </section>
  );
}

