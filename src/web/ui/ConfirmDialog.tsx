import { useEffect, useRef } from 'preact/hooks';

export interface ConfirmSpec {
  title: string;
  text: string;
  confirmLabel: string;
  onConfirm: () => void;
}

/** A modal <dialog> (focus trapped, Escape cancels, Cancel focused first) asking to confirm something drastic. */
export function ConfirmDialog({ spec, onDone }: { spec: ConfirmSpec; onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" aria-describedby="confirm-text" onClose={onDone}>
      <h2 id="confirm-title">{spec.title}</h2>
      <p id="confirm-text">{spec.text}</p>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={() => ref.current?.close()}>
          Cancel
        </button>
        <button
          type="button"
          class="button danger"
          onClick={() => {
            spec.onConfirm();
            ref.current?.close();
          }}
        >
          {spec.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
