// Where the tokens are kept, said where it matters (issue 27, item 8): where the person approves a
// sign-in, on the Token card, and once on the Servers screen. With the key in a file beside the
// vault (no keyring answered), "kept encrypted" alone would overstate it.
import type { AppInfo } from '../../src-shared/contract.js';
import { useApp } from './hooks.js';

/** The sentence for `info`, or undefined while it is loading. */
export function secretsSentence(info: AppInfo | undefined): { weak: boolean; text: string } | undefined {
  if (!info) return undefined;
  if (info.secrets.weak) {
    return { weak: true, text: 'Tokens are encrypted with a key kept in a file beside them (no keyring answered on this machine): anyone who can read your files can read them.' };
  }
  return { weak: false, text: 'Tokens are kept encrypted by this app and are never shown.' };
}

/** One line (weak: a warning with what to do) about where tokens are kept. */
export function SecretsNote({ where }: { where: 'approve' | 'token' | 'servers' }) {
  const info = useApp((s) => s.info);
  const navigate = useApp((s) => s.navigate);
  const s = secretsSentence(info);
  if (!s) return null;
  if (!s.weak) return where === 'servers' ? null : <p className="muted">{s.text}</p>;
  return (
    <div className="notice notice-warn secrets-note" role="note" aria-label="Weak protection of tokens">
      <div>
        <p className="notice-text">
          <strong>Weak protection.</strong> {s.text}
        </p>
        {where === 'servers' ? (
          <p className="notice-hint">
            Install and unlock a keyring (GNOME Keyring, KWallet), then restart.{' '}
            <button type="button" className="link-button" onClick={() => navigate({ name: 'settings' })}>
              Details in Settings
            </button>
          </p>
        ) : null}
      </div>
    </div>
  );
}
