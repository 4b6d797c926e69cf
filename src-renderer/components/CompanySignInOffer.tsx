// "Sign in with <company>" on the Add a server card (issue 25): offered when the server's
// authorization server takes the JWT bearer grant and a company identity provider is set up.
import { useId, useState } from 'react';
import type { LinkPreview } from '../../src-shared/contract.js';
import { errorText } from '../view/format.js';
import { ProblemView, Spinner } from './bits.js';
import { useIdps } from './CompanySignIn.js';
import { useApp } from './hooks.js';

export function CompanySignInOffer({ preview, clientId: initialClientId, name }: { preview: LinkPreview; clientId?: string | undefined; name?: string | undefined }) {
  const api = useApp((s) => s.api);
  const navigate = useApp((s) => s.navigate);
  const resetAdd = useApp((s) => s.resetAdd);
  const { idps } = useIdps();
  const [idp, setIdp] = useState<string | undefined>();
  const [clientId, setClientId] = useState(initialClientId ?? '');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ReturnType<typeof errorText> | undefined>();
  const ids = { idp: useId(), clientId: useId(), secret: useId() };
  if (!preview.grants?.jwtBearer || !idps?.length) return null;
  const chosen = idp ?? idps[0]!.name;
  const go = async () => {
    if (!clientId.trim()) {
      setProblem({ message: 'Enter the client ID this app has at the server (your administrator has it).' });
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      const r = await api['servers/linkWithIdp']({ url: preview.url, idp: chosen, clientId: clientId.trim(), ...(secret ? { clientSecret: secret } : {}), ...(name?.trim() ? { name: name.trim() } : {}) });
      resetAdd();
      navigate({ name: 'detail', id: r.server.id });
    } catch (err) {
      setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="company-offer" aria-label="Company sign-in">
      <p>This server accepts your company’s sign-in: no separate sign-in is needed.</p>
      {idps.length > 1 ? (
        <div className="field">
          <label htmlFor={ids.idp}>Company</label>
          <select id={ids.idp} value={chosen} onChange={(e) => setIdp(e.target.value)}>
            {idps.map((i) => (
              <option key={i.name} value={i.name}>
                {i.name}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={ids.clientId}>Client ID for this app at the server</label>
        <input id={ids.clientId} type="text" spellCheck={false} value={clientId} onChange={(e) => setClientId(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={ids.secret}>Client secret (if your administrator gave one)</label>
        <input id={ids.secret} type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
      </div>
      {problem ? <ProblemView title="Company sign-in did not work" message={problem.message} hint={problem.hint} detail={problem.detail} /> : null}
      {busy ? <Spinner label={`Signing in through ${chosen}…`} /> : null}
      <div className="actions actions-start">
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void go()}>
          Sign in with {chosen}
        </button>
      </div>
    </section>
  );
}
