import { Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/** New secrets, shown once: the server keeps only their hashes. Focused so a reader hears them. */
export function Secrets({ title, values, onDismiss }: { title: string; values: [string, string][]; onDismiss: () => void }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => ref.current?.focus(), [values]);
  return (
    <section class="secrets" ref={ref} tabIndex={-1} aria-labelledby="secrets-title">
      <h3 id="secrets-title">{title}</h3>
      <p class="notice">Copy {values.length === 1 ? 'it' : 'them'} now: this is the only time {values.length === 1 ? 'it is' : 'they are'} shown.</p>
      <dl class="facts">
        {values.map(([label, value]) => (
          <Fragment key={label}>
            <dt>{label}</dt>
            <dd><code class="secret">{value}</code></dd>
          </Fragment>
        ))}
      </dl>
      <button type="button" class="button small" onClick={onDismiss}>{values.length === 1 ? 'I have copied it' : 'I have copied them'}</button>
    </section>
  );
}
