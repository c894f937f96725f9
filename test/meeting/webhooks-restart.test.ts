import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, send } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { spawnListening, stopSpawned, type Spawned } from '../helpers/spawn.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Issue 10, item 3: the outbox survives a crash. `parley serve` is killed with SIGKILL while its
// deliveries are pending (the receiver is down); started again, it delivers them.
const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

let dataDir: string;
let token: string;
const running = new Set<Spawned>();
const receiver = new WebhookReceiver();

const env = () => ({
  DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', MEDIA_WORKERS: '0',
  WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_POLL_SECONDS: '1',
});

async function serve(): Promise<Spawned> {
  const s = await spawnListening([BIN, 'serve'], env());
  running.add(s);
  s.child.on('exit', () => running.delete(s));
  return s;
}

async function kill(s: Spawned, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  await stopSpawned(s, signal);
  running.delete(s);
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-hooks-restart-'));
});
afterAll(async () => {
  await Promise.all([...running].map((s) => kill(s, 'SIGKILL')));
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = (s: Spawned, method: string, path: string, body?: unknown) => send<Json>(`${s.url}/api/v1${path}`, {
  method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});

it('delivers after a SIGKILL what was pending before it', async () => {
  // A receiver address that is down for now.
  const url = await receiver.listen();
  const port = Number(new URL(url).port);
  await receiver.close();

  const first = await serve();
  token = /Bearer:\s+(\S+)/.exec(first.output())![1]!;
  const hook = (await api(first, 'POST', '/webhooks', { url })).body;
  receiver.secret = hook.secret as string;
  const ping = (await api(first, 'POST', `/webhooks/${hook.id}/ping`)).body;
  const m = (await api(first, 'POST', '/meetings', { title: 'Crashing', key: 'crash-1' })).body;
  expect((await api(first, 'POST', `/meetings/${m.id}/cancel`)).status).toBe(200);
  // Tried and refused at least once, still pending: then the process dies.
  const pendingAfterAnAttempt = async (s: Spawned) => {
    const list = (await api(s, 'GET', `/webhooks/${hook.id}/deliveries`)).body.data as Json[];
    return list.length === 2 && list.every((d) => d.state === 'pending' && d.attempts.length >= 1 && d.attempts[0].error === 'connection refused');
  };
  expect(await eventually(() => pendingAfterAnAttempt(first), 15_000)).toBe(true);
  await kill(first, 'SIGKILL');

  await receiver.listen(port);
  const second = await serve();
  expect(await eventually(() => receiver.received.length >= 2, 20_000)).toBe(true);
  const types = receiver.received.map((r) => r.event.type as string).sort();
  expect(types).toEqual(['meeting.ended', 'ping']);
  expect(receiver.received.every((r) => r.verified)).toBe(true);
  expect(receiver.received.find((r) => r.event.type === 'ping')!.event.id).toBe(ping.eventId);
  expect(receiver.received.find((r) => r.event.type === 'meeting.ended')!.event).toMatchObject({
    meeting: { id: m.id, key: 'crash-1' }, data: { reason: 'cancelled', wasLive: false },
  });
  expect(await eventually(async () => ((await api(second, 'GET', `/webhooks/${hook.id}/deliveries`)).body.data as Json[]).every((d) => d.state === 'delivered'))).toBe(true);
  const list = (await api(second, 'GET', `/webhooks/${hook.id}/deliveries`)).body.data as Json[];
  for (const d of list) expect(d.attempts.at(-1)).toMatchObject({ statusCode: 200, error: null });
  await kill(second, 'SIGTERM');
});
