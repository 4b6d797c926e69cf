// Small shared pieces: status chip, notices, copy button, spinner.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { ServerSummary } from '../../src-shared/contract.js';
import type { Notice } from '../store.js';
import { iconColour, initialsOf, scopeLabel, statusChip, urlBreaks } from '../view/format.js';
import { useCopy } from './hooks.js';

export function StatusChipView({ server, now, withReason = false }: { server: ServerSummary; now: number; withReason?: boolean }) {
  const chip = statusChip(server, now);
  return (
    <span className="chip-wrap">
      <span className={`chip chip-${chip.tone}`}>
        <span className="chip-dot" aria-hidden="true" />
        {chip.label}
      </span>
      {withReason && chip.reason ? <span className="chip-reason">{chip.reason}</span> : null}
    </span>
  );
}

/** The technical account of a problem, folded: people read the message; support reads this. */
export function Details({ detail }: { detail?: string | undefined }) {
  if (!detail) return null;
  return (
    <details className="details">
      <summary>Show details</summary>
      <pre className="details-text">{detail}</pre>
    </details>
  );
}

export function NoticeView({ notice, onClose }: { notice: Notice; onClose?: () => void }) {
  return (
    <div className={`notice notice-${notice.tone}`} role={notice.tone === 'bad' ? 'alert' : 'status'}>
      <div>
        <p className="notice-text">{notice.text}</p>
        {notice.hint ? <p className="notice-hint">{notice.hint}</p> : null}
        <Details detail={notice.detail} />
      </div>
      {onClose ? (
        <button type="button" className="btn btn-quiet" onClick={onClose} aria-label="Dismiss message">
          ✕
        </button>
      ) : null}
    </div>
  );
}

export function ProblemView({ title, message, hint, detail }: { title: string; message: string; hint?: string | undefined; detail?: string | undefined }) {
  return (
    <div className="notice notice-bad" role="alert">
      <div>
        <p className="notice-title">{title}</p>
        <p className="notice-text">{message}</p>
        {hint ? <p className="notice-hint">{hint}</p> : null}
        <Details detail={detail} />
      </div>
    </div>
  );
}

export function CopyButton({ text, label = 'Copy', what }: { text: string; label?: string; what?: string }) {
  const [state, copy] = useCopy();
  return (
    <span className="copy">
      <button type="button" className="btn" onClick={() => void copy(text)} aria-label={what ? `${label} ${what}` : label}>
        {state === 'copied' ? 'Copied' : label}
      </button>
      <span className="copy-status" role="status">
        {state === 'failed' ? 'Could not copy — select the text and copy it yourself.' : state === 'copied' ? `${what ?? 'Text'} copied to the clipboard.` : ''}
      </span>
    </span>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <span className="spinner-wrap">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </span>
  );
}

/** A modal built on <dialog>: the browser traps focus and handles Escape (which calls onCancel). */
export function Modal({ open, title, onCancel, children, className }: { open: boolean; title: string; onCancel: () => void; children: ReactNode; className?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={`modal ${className ?? ''}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId} className="modal-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal open={open} title={title} onCancel={onCancel}>
      <div className="modal-body">{body}</div>
      <div className="actions">
        {/* Cancel first in the DOM so it gets the initial focus: the safe choice. */}
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? 'btn btn-danger' : 'btn btn-primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

/** Scopes in plain words where known, the raw name beside (it is what the server's docs use). */
export function Scopes({ scopes, plain = true }: { scopes: string[]; plain?: boolean }) {
  if (!scopes.length) return <span className="muted">none</span>;
  return (
    <ul className={plain ? 'scopes scopes-plain' : 'scopes'} aria-label="Scopes">
      {scopes.map((s) => {
        const words = plain ? scopeLabel(s) : undefined;
        return (
          <li key={s} className="scope">
            {words ? <span className="scope-words">{words}</span> : null}
            <code className="scope-raw">{s}</code>
          </li>
        );
      })}
    </ul>
  );
}

/** The server's badge: its initials on a colour of its own (no remote icons are fetched: the window loads nothing from the network). */
export function ServerIcon({ name, id }: { name: string; id: string }) {
  return (
    <span className={`server-icon icon-${iconColour(id)}`} aria-hidden="true">
      {initialsOf(name)}
    </span>
  );
}

/** A URL that wraps after slashes only. */
export function UrlText({ url, className }: { url: string; className?: string }) {
  return (
    <span className={`mono url-wrap ${className ?? ''}`}>
      {urlBreaks(url).map((part, i) => (
        <span key={i}>
          {part}
          <wbr />
        </span>
      ))}
    </span>
  );
}
