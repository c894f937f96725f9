import { useState } from 'preact/hooks';
import { api, failure } from '../api.ts';
import type { Account, User } from '../types.ts';
import { Outcome, useConfirm } from './confirm.tsx';
import { usePoll } from './poll.ts';
import { AccountWebhooks } from './AccountWebhooks.tsx';
import { Secrets } from './Secret.tsx';

const SECRETS = [
  ['api-token', 'API token (native API)'], ['auth-token', 'AuthToken (LiveMinutes)'], ['api-key', 'API key of “apiuser” (Livebox)'],
  ['server-key', 'Serverkey (Livebox)'], ['native-app-key', 'Nativeappkey (Livebox)'],
] as const;

const quota = (text: string) => (text.trim() === '' ? null : Number(text));

/** One account: its settings and quotas, new credentials, its users' API permission and keys, its webhooks. */
export function AccountDetail({ account, onChanged }: { account: Account; onChanged: () => Promise<void> }) {
  const path = `/accounts/${encodeURIComponent(account.id)}`;
  const users = usePoll(() => api.get<{ data: User[] }>(`${path}/users?limit=100`), 10_000);
  const confirm = useConfirm();
  const [outcome, setOutcome] = useState<{ text?: string; error?: string }>({});
  const [shown, setShown] = useState<{ title: string; values: [string, string][] }>();
  const [form, setForm] = useState({ name: account.name, timeZone: account.timeZone, maxMeetings: String(account.maxMeetings), maxUsers: String(account.maxUsers), serviceControl: account.serviceControl });
  const [secret, setSecret] = useState<(typeof SECRETS)[number][0]>('api-token');

  const act = async (done: string, work: () => Promise<unknown>) => {
    try {
      await work();
      setOutcome({ text: done });
    } catch (error) {
      setOutcome({ error: failure(error) });
    }
  };

  const save = (event: Event) => {
    event.preventDefault();
    void act(`${form.name} saved.`, async () => {
      await api.patch(path, { name: form.name, timeZone: form.timeZone, maxMeetings: quota(form.maxMeetings), maxUsers: quota(form.maxUsers), serviceControl: form.serviceControl });
      await onChanged();
    });
  };

  const rotate = () => {
    const label = SECRETS.find(([s]) => s === secret)![1];
    confirm.ask({
      title: `Replace the ${label}?`, text: `The current one stops working at once: ${account.name}’s integrations must be given the new one.`, confirmLabel: 'Replace',
      onConfirm: () => act(`${label} replaced.`, async () => {
        const { secret: value } = await api.post<{ secret: string }>(`${path}/rotate`, { secret });
        setShown({ title: `New ${label} of ${account.name}`, values: [[label, value]] });
      }),
    });
  };

  const setPermission = (user: User, apiPermission: boolean) => act(
    `${user.username}: API permission ${apiPermission ? 'granted' : 'withdrawn'}.`,
    async () => {
      await api.patch(`${path}/users/${encodeURIComponent(user.id)}`, { apiPermission });
      await users.refresh();
    },
  );

  const newKey = (user: User) => confirm.ask({
    title: `Issue a new API key for ${user.username}?`, text: 'Their current key stops working at once.', confirmLabel: 'Issue key',
    onConfirm: () => act(`${user.username} has a new API key.`, async () => {
      const updated = await api.post<User>(`${path}/users/${encodeURIComponent(user.id)}/api-key`);
      setShown({ title: `New API key of ${user.username}`, values: [['API key (Livebox)', updated.apiKey ?? '']] });
      await users.refresh();
    }),
  });

  const field = (key: 'name' | 'timeZone' | 'maxMeetings' | 'maxUsers') => ({
    id: `acc-${key}`, value: form[key], onInput: (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [key]: e.currentTarget.value }),
  });

  return (
    <section class="panel-card" aria-labelledby="account-detail">
      <h2 id="account-detail">{account.name}</h2>
      <Outcome text={outcome.text} error={outcome.error ?? users.error} />
      {shown && <Secrets title={shown.title} values={shown.values} onDismiss={() => setShown(undefined)} />}
      <form class="form-grid" onSubmit={save} aria-label={`Settings of ${account.name}`}>
        <div class="field"><label for="acc-name-edit">Name</label><input {...field('name')} id="acc-name-edit" required maxLength={100} /></div>
        <div class="field"><label for="acc-timeZone">Time zone</label><input {...field('timeZone')} required /></div>
        <div class="field"><label for="acc-maxMeetings">Max meetings</label><input {...field('maxMeetings')} type="number" min={0} step={1} /></div>
        <div class="field"><label for="acc-maxUsers">Max users</label><input {...field('maxUsers')} type="number" min={0} step={1} /></div>
        <label class="check"><input type="checkbox" checked={form.serviceControl} onChange={(e) => setForm({ ...form, serviceControl: e.currentTarget.checked })} /> May control the media service</label>
        <div><button type="submit" class="button primary">Save settings</button></div>
      </form>

      <h3>Credentials</h3>
      <div class="button-row">
        <div class="field"><label for="acc-secret">Secret to replace</label>
          <select id="acc-secret" value={secret} onChange={(e) => setSecret(e.currentTarget.value as typeof secret)}>
            {SECRETS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </div>
        <button type="button" class="button" onClick={rotate}>Replace secret…</button>
      </div>

      <h3>Users</h3>
      {!users.data ? <p class="hint">Loading…</p> : (
        <table class="table">
          <caption class="sr-only">Users of {account.name}</caption>
          <thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">API permission</th><th scope="col">API key</th></tr></thead>
          <tbody>
            {users.data.data.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.username}</th>
                <td>{u.displayName}</td>
                <td>{u.selfRegistered ? 'signed up on a join page' : 'user'}</td>
                <td>
                  <label class="check">
                    <input type="checkbox" checked={u.apiPermission} onChange={(e) => void setPermission(u, e.currentTarget.checked)} />
                    <span class="sr-only">API permission for {u.username}</span>{u.apiPermission ? 'on' : 'off'}
                  </label>
                </td>
                <td>
                  {u.hasApiKey ? 'issued' : 'none'}{' '}
                  <button type="button" class="button small" onClick={() => newKey(u)} aria-label={`New API key for ${u.username}`}>New key…</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AccountWebhooks accountId={account.id} accountName={account.name} />
      {confirm.dialog}
    </section>
  );
}
