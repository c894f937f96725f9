import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { nativeApi } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 11 in real Chromium: the host records from the room, everyone sees it, a participant
// without `record` has no button, and a joiner is told on the pre-join page.
let t: TestServer;
let acc: AccountCredentials;
const people: Person[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('recorded in a browser');
});
afterAll(async () => {
  await Promise.all(people.map((p) => p.close()));
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);

it('the host’s Record button records; everyone sees the indicator; joiners are told first', async () => {
  const m = (await api('POST', '/meetings', { host: { externalId: 'h', name: 'Host' } })).body;
  for (const name of ['Ann', 'Bob']) await api('POST', `/meetings/${m.id}/participants`, { externalId: name, name });
  const [hostUrl, annUrl, bobUrl] = ((await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[]).map((p) => p.joinUrl as string);
  const host = await openPerson();
  const ann = await openPerson();
  people.push(host, ann);
  await joinRoom(host.page, hostUrl!);
  await joinRoom(ann.page, annUrl!);

  // A recording starts once the meeting is in progress (someone's media connected).
  expect(await eventually(async () => (await api('GET', `/meetings/${m.id}`)).body.status === 'in_progress', 20_000)).toBe(true);
  expect(await ann.page.getByRole('button', { name: 'Record' }).count()).toBe(0); // Preset-1 does not record
  await host.page.getByRole('button', { name: 'Record' }).click();
  for (const p of [host, ann]) await p.page.getByRole('status').filter({ hasText: /^Recording$/ }).waitFor({ timeout: 15_000 });
  expect(await eventually(async () => ((await api('GET', '/recordings')).body.data as Json[]).some((r) => r.state === 'recording'))).toBe(true);

  const bob = await openPerson();
  people.push(bob);
  await bob.page.goto(bobUrl!);
  await bob.page.getByText('This meeting is being recorded.').waitFor({ timeout: 10_000 });

  await host.page.getByRole('button', { name: 'Stop recording' }).click();
  await ann.page.getByRole('status').filter({ hasText: /^Recording$/ }).waitFor({ state: 'detached', timeout: 15_000 });
  expect(await eventually(async () => ((await api('GET', '/recordings')).body.data as Json[]).every((r) => r.state !== 'recording'))).toBe(true);
});
