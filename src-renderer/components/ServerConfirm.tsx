// "Sign out" and "Remove", asked first: shared by the Servers rows and the detail screen. The
// OAuth words (revocation, unlinking) are in the help text, not on the buttons.
import { useId, useState } from 'react';
import type { ServerSummary } from '../../src-shared/contract.js';
import { hostOf } from '../view/format.js';
import { ConfirmDialog } from './bits.js';
import { useApp } from './hooks.js';

export type ConfirmKind = 'signout' | 'remove';

export function ServerConfirm({ server, kind, onDone }: { server: ServerSummary; kind: ConfirmKind | undefined; onDone: () => void }) {
  const revoke = useApp((s) => s.revoke);
  const unlink = useApp((s) => s.unlink);
  const [alsoClients, setAlsoClients] = useState(true);
  const boxId = useId();
  const clients = server.usedBy.join(', ');
  return (
    <>
      <ConfirmDialog
        open={kind === 'signout'}
        title={`Sign out of ${server.name}?`}
        body={
          <>
            <p>
              {hostOf(server.issuer)} is asked to end this sign-in, and the app forgets it. The server stays in your list; MCP clients that use it get an error until you
              choose “Sign in again”.
            </p>
            <p className="help">In OAuth terms: the access and refresh tokens are revoked at the authorization server (RFC 7009).</p>
          </>
        }
        confirmLabel="Sign out"
        danger
        onCancel={onDone}
        onConfirm={() => {
          onDone();
          void revoke(server.id);
        }}
      />
      <ConfirmDialog
        open={kind === 'remove'}
        title={`Remove ${server.name}?`}
        body={
          <>
            <p>The app signs out at {hostOf(server.issuer)} and forgets this server.</p>
            {server.usedBy.length ? (
              <div className="toggle">
                <input id={boxId} type="checkbox" checked={alsoClients} onChange={(e) => setAlsoClients(e.target.checked)} aria-describedby={`${boxId}-help`} />
                <label htmlFor={boxId}>Also take it out of {clients}</label>
                <p id={`${boxId}-help`} className="help">
                  A backup of each config file is kept. Otherwise {clients} keep{server.usedBy.length === 1 ? 's' : ''} an entry for a server that is gone.
                </p>
              </div>
            ) : null}
            <p className="help">In OAuth terms: the tokens are revoked, then the server and the app’s client registration for it are unlinked.</p>
          </>
        }
        confirmLabel="Remove"
        danger
        onCancel={onDone}
        onConfirm={() => {
          onDone();
          void unlink(server.id, { removeFromClients: alsoClients && server.usedBy.length > 0 });
        }}
      />
    </>
  );
}
