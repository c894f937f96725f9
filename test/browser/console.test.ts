import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { openPerson, type Person } from '../helpers/browser.js';
import { nativeApi } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 10, item 7: the operator console in a real browser. The operator signs in with the
// keyboard only, sees a live meeting with the bot in it, and ends it: the bot's socket is closed.
let t: TestServer;
let acc: AccountCredentials;
let host: BotHost;
let operator: Person | undefined;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  host = new BotHost();
  acc = await t.newAccount('Clinic');
});
afterAll(async () => {
  await operator?.close();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

const api = nativeApi(() => t, () => acc.apiToken);

it('signs in with the keyboard, shows a live meeting with who is in it, and ends it for everyone', async () => {
  const m = (await api('POST', '/meetings', { title: 'Morning consultations' })).body;
  const guest = (await api('POST', `/meetings/${m.id}/participants`, { externalId: 'patient-1', name: 'Bea Bot' })).body;
  const bot = await MeetingBot.join(host, t.url, 'bea', { kind: 'personal', token: (guest.joinUrl as string).split('/e/')[1] });
  bots.push(bot);
  expect(await eventually(async () => (await api('GET', `/meetings/${m.id}`)).body.status === 'in_progress')).toBe(true);

  operator = await openPerson();
  const { page } = operator;
  await page.goto(`${t.url}/admin`);

  // Keyboard only: the token field has the focus; a wrong token first, then the right one.
  const field = page.getByLabel('Admin token');
  await expect.poll(() => field.evaluate((el) => el.matches(':focus'))).toBe(true);
  await page.keyboard.type('adm_wrong');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not the admin token/);
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(t.adminToken);
  await page.keyboard.press('Enter');

  // The live page: the meeting, its account, and the bot in the table of who is in it.
  await page.getByRole('heading', { level: 1, name: 'Live meetings' }).waitFor();
  const meeting = page.getByRole('region', { name: 'Morning consultations' });
  await meeting.waitFor();
  await expect.poll(() => meeting.textContent()).toMatch(/Clinic/);
  await meeting.getByRole('rowheader', { name: /Bea Bot/ }).waitFor();
  const row = meeting.getByRole('row', { name: /Bea Bot/ });
  await expect.poll(() => row.textContent()).toMatch(/participant.*connected/);
  if (process.env.CONSOLE_SCREENSHOT) await page.screenshot({ path: process.env.CONSOLE_SCREENSHOT, fullPage: true });

  // Mute the bot from the console: the room holds its microphone, and the bot is told.
  await row.getByRole('button', { name: 'Mute Bea Bot' }).click();
  expect(await eventually(() => bot.received('muteRequested').some((x) => x.source === 'microphone'))).toBe(true);
  await expect.poll(() => row.textContent()).toMatch(/off \(by a host\)/);

  // End it: a confirmation first (Cancel has the focus), then the bot is sent out.
  await meeting.getByRole('button', { name: 'End Morning consultations for everyone' }).click();
  const dialog = page.getByRole('dialog', { name: /End “Morning consultations” for everyone/ });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'End meeting' }).click();
  expect(await eventually(() => bot.closed !== undefined)).toBe(true);
  expect(bot.closed?.state).toBe('ended');
  await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/has ended/);
  await page.getByText('No meeting is live now.').waitFor();
  expect((await api('GET', `/meetings/${m.id}`)).body.status).toBe('ended');
});
