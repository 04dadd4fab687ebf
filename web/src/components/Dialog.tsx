// A modal dialog on the native <dialog> element: focus moves in and is kept there, Escape closes
// it, and focus returns to where it was (the browser does not always do that itself).
import { useEffect, useId, useRef, type ReactNode } from 'react';

interface Props {
  title: string;
  onClose(): void;
  children: ReactNode;
  /** A role other than dialog, e.g. alertdialog for a question that needs an answer. */
  role?: 'alertdialog';
  className?: string;
}

export function Dialog({ title, onClose, children, role, className }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) {
      dialog.showModal();
      // showModal focuses the first focusable element (the close button); the dialog's purpose
      // decides instead: the element marked data-autofocus, else the first field.
      (dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('input:not([type=checkbox]), select, textarea'))?.focus();
    }
    return () => {
      dialog?.close();
      // Where focus was, unless that is gone (then the dialog's opener decides, e.g. a new screen).
      if (returnTo?.isConnected && (document.activeElement === document.body || document.activeElement === null)) returnTo.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${className ? ` ${className}` : ''}`}
      role={role}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ✕
        </button>
      </header>
      {children}
    </dialog>
  );
}

interface ConfirmProps {
  title: string;
  children: ReactNode;
  confirm: string;
  /** The button that leaves things as they are. */
  cancel?: string;
  danger?: boolean;
  onConfirm(): void;
  onClose(): void;
}

/** Asks before doing something that cannot be undone; the safe answer has the focus. */
export function ConfirmDialog({ title, children, confirm, cancel = 'Cancel', danger = false, onConfirm, onClose }: ConfirmProps) {
  return (
    <Dialog title={title} onClose={onClose} role="alertdialog" className="confirm-dialog">
      <div className="stack">{children}</div>
      <div className="dialog-actions">
        <button type="button" data-autofocus onClick={onClose}>
          {cancel}
        </button>
        <button type="button" className={danger ? 'danger-solid' : 'primary'} onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
