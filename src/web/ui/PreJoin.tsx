import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { waysOf } from '../bootstrap.ts';
import { offeredWays } from '../join.ts';
import type { Meeting } from '../meeting.ts';
import type { AppState, FormField, JoinForm, JoinWay } from '../state.ts';
import { Invitation } from './Invitation.tsx';
import { Devices, Preview } from './Preview.tsx';
import { useNow } from './time.ts';

const WAY_LABELS: Record<JoinWay, string> = { guest: 'As a guest', pin: 'With a PIN', login: 'Sign in', signup: 'Register' };
const WAY_HINTS: Record<JoinWay, string> = {
  guest: 'Enter the name the others will see.',
  pin: 'Enter your name and the PIN the organiser gave you.',
  login: 'Sign in with your account’s username and password.',
  signup: 'Create an account to join this meeting.',
};

// Sign-in on a meeting that takes only sign-ups: for those who registered before.
const RETURNING_HINT = 'Registered before? Sign in with the username and password you chose.';

type Refs = Record<FormField, { current: HTMLInputElement | null }>;

/** How each field looks; which fields a way asks for, and their limits, are the server's. */
const FIELD_UI: Record<FormField, (way: JoinWay) => { label: string; autoComplete: string; type?: 'text' | 'password' | 'email'; inputMode?: 'numeric' | 'email' }> = {
  name: () => ({ label: 'Your name', autoComplete: 'name' }),
  pin: () => ({ label: 'PIN', autoComplete: 'off', inputMode: 'numeric' }),
  username: () => ({ label: 'Username', autoComplete: 'username' }),
  password: (way) => ({ label: 'Password', type: 'password', autoComplete: way === 'signup' ? 'new-password' : 'current-password' }),
  email: () => ({ label: 'E-mail', type: 'email', autoComplete: 'email', inputMode: 'email' }),
};

function TextField({ id, label, field, form, setForm, refs, invalid, type = 'text', autoComplete, inputMode, maxLength, required = true }: {
  id: string;
  label: string;
  field: FormField;
  form: JoinForm;
  setForm: (update: (f: JoinForm) => JoinForm) => void;
  refs: Refs;
  invalid: FormField | undefined;
  type?: 'text' | 'password' | 'email';
  autoComplete: string;
  inputMode?: 'numeric' | 'email' | 'text';
  maxLength?: number;
  required?: boolean;
}) {
  const bad = invalid === field;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        ref={refs[field]}
        // Preact's types tie `type` to a union member; every type here takes the same attributes.
        type={type as 'text'}
        autoComplete={autoComplete}
        inputMode={inputMode}
        maxLength={maxLength}
        required={required}
        spellcheck={false}
        value={form[field]}
        aria-invalid={bad ? true : undefined}
        aria-describedby={bad ? 'join-error' : undefined}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setForm((f) => ({ ...f, [field]: value }));
        }}
      />
    </div>
  );
}

export function PreJoin({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { bootstrap, joinError, phase, title, retryAt, opensAt, invitation } = state;
  const ways = meeting.ways();
  const [form, setForm] = useState<JoinForm>(() => meeting.initialForm());
  const refs: Refs = { name: useRef(null), pin: useRef(null), username: useRef(null), password: useRef(null), email: useRef(null) };
  const alert = useRef<HTMLParagraphElement>(null);
  const joining = phase === 'joining';
  const viewer = meeting.isViewer;
  // A public link of a meeting that admits invited people only: nothing to fill in.
  const inviteOnly = bootstrap.needsName && ways.length === 0;
  const now = useNow(retryAt !== undefined || opensAt !== undefined ? 1000 : null);
  const waitingRetry = retryAt !== undefined && now < retryAt;

  useEffect(() => {
    if (!viewer && !inviteOnly) void meeting.local.start();
  }, []);

  // A refusal: keep what was typed but the password, and put the focus where the fix is (before
  // the message is painted, so both show at once).
  useLayoutEffect(() => {
    if (!joinError) return;
    if (joinError.clearPassword) setForm((f) => ({ ...f, password: '' }));
    const target = joinError.field ? refs[joinError.field].current : null;
    if (target) target.focus();
    else alert.current?.focus();
  }, [joinError?.seq]);

  const way = ways.includes(form.way) ? form.way : ways[0] ?? 'guest';
  const chosen = offeredWays(bootstrap).find((w) => w.way === way);
  const choose = (w: JoinWay) => setForm((f) => ({ ...f, way: w }));
  // The ways are tabs: arrows, Home and End move between them (and choose).
  const onTabKey = (e: KeyboardEvent) => {
    const i = ways.indexOf(way);
    const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: ways.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = ways[(to + ways.length) % ways.length]!;
    choose(next);
    requestAnimationFrame(() => document.getElementById(`way-${next}`)?.focus());
  };
  const invalid = joinError?.field;
  const submit = (e: Event) => {
    e.preventDefault();
    if (joining || waitingRetry) return;
    void meeting.join(bootstrap.needsName ? { ...form, way } : undefined);
  };

  if (inviteOnly) {
    return (
      <main class="state-page" data-state="prejoin">
        <div class="card">
          <p class="meeting-title">{title}</p>
          <h1>For invited people only</h1>
          <p>This meeting admits invited people only. Open the personal link from your invitation to join.</p>
        </div>
      </main>
    );
  }

  let status = '';
  if (opensAt !== undefined) {
    const seconds = Math.max(0, Math.ceil((opensAt - now) / 1000));
    status = seconds > 0 ? `The meeting opens in ${seconds} s…` : 'Joining…';
  } else if (joining) {
    status = 'Joining…';
  }

  return (
    <main class="prejoin" data-state={phase}>
      <div class="prejoin-card">
        <Preview meeting={meeting} state={state} />

        <form class="prejoin-form" onSubmit={submit} noValidate aria-describedby={joinError ? 'join-error' : undefined}>
          <p class="eyebrow">Ready to join?</p>
          <h1>{title}</h1>
          {bootstrap.recording && <p class="recording-notice" role="note">This meeting is being recorded.</p>}
          {invitation && <Invitation meeting={meeting} invitation={invitation} />}
          {bootstrap.needsName ? (
            <>
              {ways.length > 1 && (
                <div class="ways" role="tablist" aria-label="How will you join?" onKeyDown={onTabKey}>
                  {ways.map((w) => (
                    <button
                      key={w}
                      type="button"
                      role="tab"
                      id={`way-${w}`}
                      class={`way${w === way ? ' chosen' : ''}`}
                      aria-selected={w === way}
                      aria-controls="way-panel"
                      tabIndex={w === way ? 0 : -1}
                      onClick={() => choose(w)}
                    >
                      {WAY_LABELS[w]}
                    </button>
                  ))}
                </div>
              )}
              {/* Not labelled by its tab on purpose: "PIN" and "name" must each name one field only. */}
              <div class="way-panel" id="way-panel" role={ways.length > 1 ? 'tabpanel' : undefined}>
              <p class="hint">{way === 'login' && !waysOf(bootstrap).usernamePassword ? RETURNING_HINT : WAY_HINTS[way]}</p>
              {chosen?.fields.map(({ field: name, rule }) => {
                const ui = FIELD_UI[name](way);
                const label = rule.required ? ui.label : `${ui.label} (optional)`;
                return (
                  <TextField key={name} {...ui} id={name} field={name} label={label} maxLength={rule.maxLength} required={rule.required}
                    form={form} setForm={setForm} refs={refs} invalid={invalid} />
                );
              })}
              </div>
            </>
          ) : (
            <p class="joining-as">
              Joining as <strong>{bootstrap.person?.name || 'a guest'}</strong>
            </p>
          )}
          {viewer && <p class="joining-as">You will see and hear the meeting; your camera and microphone stay off.</p>}
          <Devices meeting={meeting} state={state} />
          {joinError && (
            <p id="join-error" class="error" role="alert" tabIndex={-1} ref={alert} data-seq={joinError.seq}>
              {joinError.message}
            </p>
          )}
          <div class="join-row">
            <button type="submit" class="button primary join" disabled={joining || waitingRetry} aria-describedby={status ? 'join-status' : undefined}>
              Join
            </button>
            <span id="join-status" class="join-status" role="status">{status}</span>
          </div>
        </form>
      </div>
    </main>
  );
}
