import { useState } from 'preact/hooks';
import { api, failure } from '../api.ts';
import type { Account, Credentials } from '../types.ts';
import { AccountDetail } from './AccountDetail.tsx';
import { Outcome } from './confirm.tsx';
import { usePoll } from './poll.ts';
import { Secrets } from './Secret.tsx';

const CREDENTIAL_LABELS: [keyof Credentials, string][] = [
  ['accountSid', 'AccountSid (LiveMinutes)'], ['authToken', 'AuthToken (LiveMinutes)'], ['apiToken', 'API token (native API)'],
  ['apiUsername', 'API username (Livebox)'], ['apiKey', 'API key (Livebox)'], ['serverKey', 'Serverkey (Livebox)'], ['nativeAppKey', 'Nativeappkey (Livebox)'],
];

/** Accounts: the list, a new account (its credentials shown once), and one account's settings and users. */
export function AccountsPage() {
  const accounts = usePoll(() => api.get<{ data: Account[] }>('/accounts'), 10_000);
  const [chosen, setChosen] = useState<string>();
  const [created, setCreated] = useState<{ name: string; credentials: Credentials }>();
  const list = accounts.data?.data;
  const account = list?.find((a) => a.id === chosen);

  return (
    <>
      <Outcome error={accounts.error} />
      {created && (
        <Secrets
          title={`Credentials of ${created.name}`}
          values={CREDENTIAL_LABELS.map(([key, label]) => [label, created.credentials[key]])}
          onDismiss={() => setCreated(undefined)}
        />
      )}
      {!list ? <p class="hint">Loading…</p> : (
        <table class="table">
          <caption class="sr-only">Accounts</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">AccountSid</th><th scope="col">Time zone</th><th scope="col">Max meetings</th><th scope="col">Max users</th><th scope="col">Service control</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.id} aria-current={a.id === chosen ? 'true' : undefined}>
                <th scope="row">{a.name}</th>
                <td><code>{a.accountSid}</code></td>
                <td>{a.timeZone}</td>
                <td>{a.maxMeetings}</td>
                <td>{a.maxUsers}</td>
                <td>{a.serviceControl ? 'allowed' : 'no'}</td>
                <td>
                  <button type="button" class="button small" aria-expanded={a.id === chosen} onClick={() => setChosen(a.id === chosen ? undefined : a.id)} aria-label={`Manage ${a.name}`}>
                    {a.id === chosen ? 'Close' : 'Manage'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {account && <AccountDetail key={account.id} account={account} onChanged={accounts.refresh} />}
      <CreateAccount onCreated={async (name, credentials) => { setCreated({ name, credentials }); setChosen(credentials.accountId); await accounts.refresh(); }} />
    </>
  );
}

function CreateAccount({ onCreated }: { onCreated: (name: string, credentials: Credentials) => void }) {
  const [name, setName] = useState('');
  const [timeZone, setTimeZone] = useState('');
  const [serviceControl, setServiceControl] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const body = { name: name.trim(), serviceControl, ...(timeZone.trim() ? { timeZone: timeZone.trim() } : {}) };
      const { credentials } = await api.post<{ credentials: Credentials }>('/accounts', body);
      onCreated(body.name, credentials);
      setName('');
      setTimeZone('');
      setServiceControl(false);
    } catch (e) {
      setError(failure(e));
    }
  };

  return (
    <section class="panel-card" aria-labelledby="new-account">
      <h2 id="new-account">New account</h2>
      <form class="form-grid" onSubmit={submit}>
        <div class="field"><label for="acc-name">Name</label><input id="acc-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} /></div>
        <div class="field"><label for="acc-tz">Time zone (IANA, default the server’s)</label><input id="acc-tz" placeholder="Europe/Paris" value={timeZone} onInput={(e) => setTimeZone(e.currentTarget.value)} /></div>
        <label class="check"><input type="checkbox" checked={serviceControl} onChange={(e) => setServiceControl(e.currentTarget.checked)} /> May control the media service</label>
        {error && <p class="error" role="alert">{error}</p>}
        <div><button type="submit" class="button primary">Create account</button></div>
      </form>
    </section>
  );
}
