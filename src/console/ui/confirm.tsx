import { useState } from 'preact/hooks';
import { ConfirmDialog, type ConfirmSpec } from '../../web/ui/ConfirmDialog.tsx';

/** The room's confirmation dialog, for one drastic action at a time: `ask(spec)`, and `dialog` to render. */
export function useConfirm() {
  const [spec, setSpec] = useState<ConfirmSpec>();
  return {
    ask: setSpec,
    dialog: spec ? <ConfirmDialog spec={spec} onDone={() => setSpec(undefined)} /> : null,
  };
}

/** One line that says what the last action did (or why it failed), read out politely. */
export function Outcome({ text, error }: { text?: string; error?: string }) {
  return (
    <>
      <p class="outcome" role="status">{text}</p>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}
