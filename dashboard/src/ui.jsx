// Small shared pieces: notifications, the confirm dialog, modal frame, async action buttons.

import { useEffect, useState } from 'preact/hooks';

let toastSeq = 0;
let toasts = [];
const toastSubs = new Set();
function publish() {
  for (const fn of toastSubs) fn(toasts);
}

// Shows a message (an API error's text for failed actions) until dismissed; info ones fade.
export function notify(message, kind = 'error') {
  const id = ++toastSeq;
  toasts = [...toasts, { id, message, kind }];
  publish();
  if (kind !== 'error') setTimeout(() => dismiss(id), 4000);
}

function dismiss(id) {
  toasts = toasts.filter((t) => t.id !== id);
  publish();
}

export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    toastSubs.add(setList);
    return () => toastSubs.delete(setList);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div class={`toast ${t.kind}`} key={t.id} data-testid="toast">
          <span class="toast-text">{t.message}</span>
          <button class="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Modal({ title, onClose, children, wide }) {
  useEffect(() => {
    const onKey = (e) => e.key === 'Escape' && onClose && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose && onClose()}>
      <div class={`modal${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-label={title}>
        <header class="modal-head">
          <h2>{title}</h2>
          {onClose && (
            <button class="icon" aria-label="Close" onClick={onClose}>
              ×
            </button>
          )}
        </header>
        {children}
      </div>
    </div>
  );
}

let confirmSetter = null;
// await confirmAction('Delete x?', 'Delete') → true when confirmed.
export function confirmAction(question, action = 'OK') {
  return new Promise((resolve) => {
    if (!confirmSetter) return resolve(window.confirm(question));
    confirmSetter({ question, action, resolve });
  });
}

export function ConfirmHost() {
  const [req, setReq] = useState(null);
  useEffect(() => {
    confirmSetter = setReq;
    return () => (confirmSetter = null);
  }, []);
  if (!req) return null;
  const done = (v) => {
    setReq(null);
    req.resolve(v);
  };
  return (
    <Modal title="Confirm" onClose={() => done(false)}>
      <p class="confirm-q">{req.question}</p>
      <div class="actions">
        <button onClick={() => done(false)}>Cancel</button>
        <button class="danger" data-testid="confirm" onClick={() => done(true)} ref={(b) => b && b.focus()}>
          {req.action}
        </button>
      </div>
    </Modal>
  );
}

// A button running an async action: disabled while it runs, failures go to notify().
export function ActionButton({ run, children, class: cls, title, confirm, confirmLabel, ...rest }) {
  const [busy, setBusy] = useState(false);
  const onClick = async (e) => {
    e.stopPropagation();
    if (confirm && !(await confirmAction(confirm, confirmLabel || String(children)))) return;
    setBusy(true);
    try {
      await run();
    } catch (err) {
      if (err && err.name !== 'AbortError') notify(err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button class={cls} title={title} disabled={busy} onClick={onClick} aria-busy={busy} {...rest}>
      {children}
    </button>
  );
}

export function Empty({ children }) {
  return <p class="empty">{children}</p>;
}

export function ErrorLine({ text }) {
  return text ? (
    <p class="error-line" role="alert">
      {text}
    </p>
  ) : null;
}
