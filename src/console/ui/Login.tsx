import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, failure, signIn } from '../api.ts';

/** Sign-in with the administrator token (exchanged for a session cookie). */
export function Login({ ended, onSignedIn }: { ended: boolean; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Parley operator console';
    input.current?.focus();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token);
      onSignedIn();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That is not the admin token. Check it and try again.' : failure(e));
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="state-page">
      <form class="card login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Parley operator console</h1>
        {ended && <p class="notice" role="status">Your session ended. Sign in again.</p>}
        <div class="field">
          <label for="admin-token">Admin token</label>
          <input
            id="admin-token" ref={input} type="password" autocomplete="off" spellcheck={false} required
            value={token} onInput={(e) => setToken(e.currentTarget.value)}
            aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'login-error login-hint' : 'login-hint'}
          />
        </div>
        <p class="hint" id="login-hint">
          The token is printed once when Parley first starts; <code>parley admin rotate-token</code> prints a new one.
        </p>
        {error && <p class="error" id="login-error" role="alert">{error}</p>}
        <button type="submit" class="button primary" disabled={busy || token.trim() === ''}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
