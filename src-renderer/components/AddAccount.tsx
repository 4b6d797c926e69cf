// Two accounts on one server (issue 27): "Add another account" on a server's page signs in once
// more at the same server, as the person chooses, into a row of its own.
import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ServerSummary } from '../../src-shared/contract.js';
import { accountsOf, nextAccountName } from '../view/format.js';
import { Modal } from './bits.js';
import { useApp } from './hooks.js';

export function AddAccountDialog({ server, open, onDone }: { server: ServerSummary; open: boolean; onDone: () => void }) {
  const addAccount = useApp((s) => s.addAccount);
  const taken = useApp(useShallow((s) => accountsOf(s.servers, server.url).map((x) => x.name)));
  const [name, setName] = useState(() => nextAccountName(server.name, taken));
  const [hint, setHint] = useState('');
  const ids = { name: useId(), hint: useId(), hintHelp: useId() };
  if (!open) return null;
  return (
    <Modal open title={`Add another account to ${server.name}`} onCancel={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onDone();
          void addAccount(server.id, { name, loginHint: hint, flow: server.flow });
        }}
      >
        <div className="modal-body">
          <p>
            Sign in once more, as another person or with another account (work and personal, say). It gets its own row and its own entries in your MCP clients; {server.name} stays as it is.
          </p>
          <div className="field">
            <label htmlFor={ids.name}>Name in your list</label>
            <input id={ids.name} type="text" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.hint}>Account to sign in with (optional)</label>
            <input id={ids.hint} type="text" maxLength={200} autoComplete="username" spellCheck={false} value={hint} onChange={(e) => setHint(e.target.value)} aria-describedby={ids.hintHelp} />
            <p id={ids.hintHelp} className="help">
              An email or user name; the sign-in page fills it in. Where the server allows, it also asks which account to use, so you are not signed in as the first one again.
            </p>
          </div>
        </div>
        <div className="actions">
          <button type="button" className="btn" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!name.trim()}>
            Sign in with another account
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The other accounts on this server, when there are any: each opens its own page. */
export function OtherAccounts({ server }: { server: ServerSummary }) {
  const navigate = useApp((s) => s.navigate);
  const others = useApp(useShallow((s) => accountsOf(s.servers, server.url).filter((x) => x.id !== server.id)));
  if (!others.length) return null;
  return (
    <p className="muted other-accounts">
      Other {others.length === 1 ? 'account' : 'accounts'} on this server:{' '}
      {others.map((o, i) => (
        <span key={o.id}>
          {i > 0 ? ', ' : null}
          <button type="button" className="link-button" onClick={() => navigate({ name: 'detail', id: o.id })}>
            {o.name}
          </button>
        </span>
      ))}
    </p>
  );
}
