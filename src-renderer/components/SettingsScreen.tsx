// Settings kept by main, and where the secrets are kept (with a warning when that is weak).
import { useEffect, useId, useState } from 'react';
import type { Settings } from '../../src-shared/contract.js';
import { NoticeView } from './bits.js';
import { NetworkCard } from './NetworkCard.js';
import { CompanySignIn } from './CompanySignIn.js';
import { useApp } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';

function Toggle({ label, help, checked, disabled, onChange }: { label: string; help: string; checked: boolean; disabled: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="toggle">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-help`} />
      <label htmlFor={id}>{label}</label>
      <p id={`${id}-help`} className="help">
        {help}
      </p>
    </div>
  );
}

function Minutes({ value, disabled, onSave }: { value: number; disabled: boolean; onSave: (v: number) => void }) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const [error, setError] = useState<string | undefined>();
  useEffect(() => setText(String(value)), [value]);
  const commit = () => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 60) {
      setError('Enter a whole number of minutes from 1 to 60.');
      return;
    }
    setError(undefined);
    if (n !== value) onSave(n);
  };
  return (
    <div className="field">
      <label htmlFor={id}>Refresh tokens this many minutes before they expire</label>
      <input
        id={id}
        type="number"
        min={1}
        max={60}
        step={1}
        inputMode="numeric"
        className="input-narrow"
        value={text}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
      />
      {error ? (
        <p id={`${id}-err`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SettingsScreen() {
  const settings = useApp((s) => s.settings);
  const info = useApp((s) => s.info);
  const busy = useApp((s) => s.settingsBusy);
  const notice = useApp((s) => s.settingsNotice);
  const save = useApp((s) => s.saveSettings);
  const set = (patch: Partial<Settings>) => void save(patch);
  // In `mcp-tokens ui` there is no tray, no login item and no system notifications: those
  // settings belong to the desktop app and are shown, switched off, with the reason.
  const browser = info?.host === 'browser';
  const APP_ONLY = 'Only the desktop app has this; this page runs from mcp-tokens ui in your browser.';
  return (
    <section aria-labelledby="screen-title">
      <div className="screen-head">
        <ScreenHeading>Settings</ScreenHeading>
      </div>
      {settings ? (
        <form className="card form" onSubmit={(e) => e.preventDefault()} aria-label="Settings">
          {browser && info ? <p className="help">Saved in the data folder ({info.dataDir}), so they last after mcp-tokens ui stops.</p> : null}
          <Toggle
            label="Launch at login"
            help={browser ? APP_ONLY : 'Start MCP Token Manager when you log in, so bridges find it running.'}
            checked={settings.launchAtLogin}
            disabled={busy || browser}
            onChange={(v) => set({ launchAtLogin: v })}
          />
          <Toggle
            label="Start in the tray"
            help={browser ? APP_ONLY : 'Start without opening this window; the tray icon shows when a server needs you.'}
            checked={settings.startInTray}
            disabled={busy || browser}
            onChange={(v) => set({ startInTray: v })}
          />
          <Toggle
            label="Notify when a server needs re-authorization"
            help={browser ? APP_ONLY : 'One system notification per incident.'}
            checked={settings.notifyOnReauth}
            disabled={busy || browser}
            onChange={(v) => set({ notifyOnReauth: v })}
          />
          <Minutes value={settings.refreshAheadMinutes} disabled={busy} onSave={(v) => set({ refreshAheadMinutes: v })} />
          <div aria-live="polite">{notice ? <NoticeView notice={notice} /> : null}</div>
        </form>
      ) : (
        <p className="muted">Loading…</p>
      )}
      <NetworkCard />
      <CompanySignIn />
      {info ? (
        <section className="card" aria-labelledby="secrets-title">
          <h3 id="secrets-title" className="card-title">
            Where secrets are kept
          </h3>
          {info.secrets.weak ? (
            <div className="notice notice-warn secrets-warning" role="alert">
              <div>
                <p className="notice-title">Weak protection</p>
                <p className="notice-text">{info.secrets.description}</p>
                <p className="notice-hint">For stronger protection, install and unlock a keyring (for example GNOME Keyring or KWallet), then restart.</p>
              </div>
            </div>
          ) : (
            <p className="secrets-ok">{info.secrets.description}</p>
          )}
          <dl className="facts facts-compact">
            <dt>Method</dt>
            <dd className="mono">{info.secrets.kind}</dd>
            <dt>Data folder</dt>
            <dd className="mono">{info.dataDir}</dd>
            <dt>Version</dt>
            <dd>
              {info.version} ({info.host === 'electron' ? 'desktop app' : 'browser'})
            </dd>
          </dl>
        </section>
      ) : null}
    </section>
  );
}
