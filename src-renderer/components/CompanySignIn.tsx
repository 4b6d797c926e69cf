// Settings → Company sign-in (issue 25): the company's identity providers, who is signed in to
// each, and sign in / sign out / remove. One sign-in serves every company server that accepts it.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { IdpSummary } from '../../src-shared/contract.js';
import type { Notice } from '../store.js';
import { errorText, formatTime } from '../view/format.js';
import { NoticeView, Spinner } from './bits.js';
import { useApp } from './hooks.js';

/** The company's identity providers, kept fresh: reloaded when servers change (their status follows the IdP's). */
export function useIdps(): { idps: IdpSummary[] | undefined; reload: () => Promise<void>; error?: string } {
  const api = useApp((s) => s.api);
  const [idps, setIdps] = useState<IdpSummary[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const reload = useCallback(async () => {
    try {
      setIdps(await api['idp/list']());
      setError(undefined);
    } catch (err) {
      setError(errorText(err).message);
    }
  }, [api]);
  useEffect(() => {
    void reload();
    return api.on('servers/changed', () => void reload());
  }, [api, reload]);
  return { idps, reload, ...(error ? { error } : {}) };
}

function who(i: IdpSummary): string {
  const s = i.signedIn;
  return s ? (s.displayName && s.email ? `${s.displayName} (${s.email})` : (s.email ?? s.displayName ?? s.subject)) : '';
}

function IdpRow({ idp, busy, onAction }: { idp: IdpSummary; busy: boolean; onAction: (action: 'idp/signIn' | 'idp/signOut' | 'idp/remove', idp: IdpSummary) => void }) {
  const signedIn = idp.status === 'signed-in';
  return (
    <li className="idp-row" aria-label={`Identity provider ${idp.name}`}>
      <div>
        <strong>{idp.name}</strong> <span className="muted mono wrap">{idp.issuer}</span>
        <p className="idp-who" role="status">
          {signedIn ? <>Signed in as {who(idp)}</> : <>Not signed in{idp.detail ? `: ${idp.detail}` : ''}</>}
        </p>
        <p className="muted">
          {idp.servers.length ? `Used by ${idp.servers.length === 1 ? '1 server' : `${idp.servers.length} servers`}: ${idp.servers.join(', ')}` : 'No server uses it yet.'}
          {signedIn && idp.signedIn?.idTokenExpiresAt ? ` Sign-in renews by itself${idp.signedIn.hasRefreshToken ? '' : ` until ${formatTime(idp.signedIn.idTokenExpiresAt)}`}.` : ''}
        </p>
      </div>
      <div className="actions actions-start">
        <button type="button" className={signedIn ? 'btn' : 'btn btn-primary'} disabled={busy} onClick={() => onAction('idp/signIn', idp)}>
          {signedIn ? 'Sign in again' : `Sign in to ${idp.name}`}
        </button>
        {signedIn ? (
          <button type="button" className="btn" disabled={busy} onClick={() => onAction('idp/signOut', idp)}>
            Sign out
          </button>
        ) : null}
        <button type="button" className="btn btn-danger" disabled={busy} onClick={() => onAction('idp/remove', idp)}>
          Remove
        </button>
      </div>
    </li>
  );
}

function AddIdpForm({ busy, onAdd }: { busy: boolean; onAdd: (req: { name: string; issuer: string; clientId: string; clientSecret?: string; tokenEndpoint?: string }) => void }) {
  const [name, setName] = useState('');
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [tokenEndpoint, setTokenEndpoint] = useState('');
  const [invalid, setInvalid] = useState<string | undefined>();
  const ids = { name: useId(), issuer: useId(), clientId: useId(), secret: useId(), te: useId(), err: useId() };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(name.trim())) return setInvalid('Give it a short name: letters, digits, “.”, “_” or “-”, e.g. acme.');
    if (!/^https?:\/\/\S+$/i.test(issuer.trim())) return setInvalid('Enter the identity provider’s address (its issuer), starting with https://');
    if (!clientId.trim()) return setInvalid('Enter the client ID your administrator gave you for this app.');
    if (tokenEndpoint.trim() && !/^https?:\/\/\S+$/i.test(tokenEndpoint.trim())) return setInvalid('The token endpoint must be a full URL, starting with https://');
    setInvalid(undefined);
    onAdd({ name: name.trim(), issuer: issuer.trim(), clientId: clientId.trim(), ...(secret ? { clientSecret: secret } : {}), ...(tokenEndpoint.trim() ? { tokenEndpoint: tokenEndpoint.trim() } : {}) });
  };
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Add a company identity provider">
      <div className="field">
        <label htmlFor={ids.name}>Name</label>
        <input id={ids.name} type="text" className="input-narrow" placeholder="acme" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={ids.issuer}>Identity provider address (issuer)</label>
        <input id={ids.issuer} type="url" spellCheck={false} placeholder="https://login.acme.example" value={issuer} onChange={(e) => setIssuer(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={ids.clientId}>Client ID for this app</label>
        <input id={ids.clientId} type="text" spellCheck={false} value={clientId} onChange={(e) => setClientId(e.target.value)} />
      </div>
      <details className="details">
        <summary>Advanced</summary>
        <div className="field">
          <label htmlFor={ids.secret}>Client secret (only if your administrator gave one)</label>
          <input id={ids.secret} type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.te}>Token endpoint (when the identity provider publishes no OpenID configuration)</label>
          <input id={ids.te} type="url" spellCheck={false} value={tokenEndpoint} onChange={(e) => setTokenEndpoint(e.target.value)} />
        </div>
      </details>
      {invalid ? (
        <p id={ids.err} className="field-error" role="alert">
          {invalid}
        </p>
      ) : null}
      <div className="actions actions-start">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Add and sign in
        </button>
      </div>
    </form>
  );
}

export function CompanySignIn() {
  const api = useApp((s) => s.api);
  const { idps, reload, error } = useIdps();
  const [busy, setBusy] = useState<string | undefined>();
  const [notice, setNotice] = useState<Notice | undefined>();
  const run = async (label: string, work: () => Promise<Notice>) => {
    setBusy(label);
    setNotice(undefined);
    try {
      setNotice(await work());
    } catch (err) {
      const e = errorText(err);
      setNotice({ tone: 'bad', text: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.detail ? { detail: e.detail } : {}) });
    } finally {
      setBusy(undefined);
      await reload();
    }
  };
  const onAction = (action: 'idp/signIn' | 'idp/signOut' | 'idp/remove', idp: IdpSummary) => {
    if (action === 'idp/remove' && !window.confirm(`Remove ${idp.name}? ${idp.servers.length ? `The servers that use it (${idp.servers.join(', ')}) will need another way to sign in.` : ''}`)) return;
    void run(action === 'idp/signIn' ? `Finish signing in to ${idp.name} in the browser window that opened.` : 'Working…', async () => {
      if (action === 'idp/signIn') {
        const v = await api['idp/signIn'](idp.name);
        return { tone: 'ok', text: `Signed in to ${v.name} as ${who(v)}.${v.servers.length ? ' Its servers carry on.' : ''}` };
      }
      if (action === 'idp/signOut') {
        await api['idp/signOut'](idp.name);
        return { tone: 'ok', text: `Signed out of ${idp.name} here. Its servers need a new sign-in.` };
      }
      await api['idp/remove'](idp.name);
      return { tone: 'ok', text: `Removed ${idp.name}.` };
    });
  };
  return (
    <section className="card" aria-labelledby="company-title">
      <h3 id="company-title" className="card-title">
        Company sign-in
      </h3>
      <p className="help">Sign in once with your company’s identity provider (Okta, Entra ID, …): every company server that accepts it connects without a sign-in of its own, and signing out here signs them all out.</p>
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      {idps === undefined && !error ? <p className="muted">Loading…</p> : null}
      {idps?.length ? (
        <ul className="plain idp-list">
          {idps.map((i) => (
            <IdpRow key={i.name} idp={i} busy={Boolean(busy)} onAction={onAction} />
          ))}
        </ul>
      ) : null}
      {busy ? <Spinner label={busy} /> : null}
      <div aria-live="polite">{notice ? <NoticeView notice={notice} onClose={() => setNotice(undefined)} /> : null}</div>
      <details className="details" open={idps !== undefined && idps.length === 0}>
        <summary>Add an identity provider</summary>
        <AddIdpForm
          busy={Boolean(busy)}
          onAdd={(req) =>
            void run(`Finish signing in to ${req.name} in the browser window that opened.`, async () => {
              const v = await api['idp/add'](req);
              return { tone: 'ok', text: `Added ${v.name}; signed in as ${who(v)}.` };
            })
          }
        />
      </details>
    </section>
  );
}
