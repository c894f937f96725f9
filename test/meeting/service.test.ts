// Service control with real media: the Livebox and native APIs answer once the media workers
// have acted, so a bot joins and receives video right after "Started" / "Restarted"; a failed
// start is a 503 with its reason and is retried; refresh changes what new transports announce.
// One media worker, bots on loopback, every announced address a 127.x one.
import { rmSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AccountCredentials, ServiceStatus } from '../../src/core/index.js';
import type { RoomLink } from '../../src/protocol/messages.js';
import { basic, bearer, post, send, type Answer } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  host = new BotHost();
  acc = await t.newAccount('service', { serviceControl: true });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(bots.splice(0).map((b) => b.stop()));
});
afterAll(async () => {
  await host?.quit();
  await t?.close();
});

let seq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
const tokenOf = (url: string): RoomLink => ({ kind: 'personal', token: url.split('/e/')[1] });

/** A LiveMinutes meeting: the host's link and one participant's. */
async function meeting(): Promise<RoomLink[]> {
  const key = `svc${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Host' });
  const invited = await lm('addParticipant', { meetingKey: key, puid: 'p1', nickname: 'P1' });
  return [tokenOf(created.body.hostUrl as string), tokenOf(invited.body.participantUrl as string)];
}

async function join(name: string, link: RoomLink): Promise<MeetingBot> {
  const bot = await MeetingBot.join(host, t.url, name, link, { audio: false });
  bots.push(bot);
  return bot;
}

/** Two bots join a new meeting at once; the second decodes the first's video. */
async function joinAndSee(tag: string): Promise<MeetingBot[]> {
  const [hostLink, guestLink] = await meeting();
  const a = await join(`${tag}-a`, hostLink!);
  const b = await join(`${tag}-b`, guestLink!);
  expect(await eventually(async () => (await b.framesFrom(a.id)) > 2, 15_000)).toBe(true);
  return [a, b];
}

const livebox = (operation: string, data: Record<string, unknown> = {}) => post<{ status: string; code: string; message: string }>(
  `${t.url}/livebox/appsservice/api/${operation}`, { username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, ...data }, 'json');
const control = (action: string) => livebox('ControlInsideAppServices', { action, appservice: 'VideoConferencingService' });
const native = <T = ServiceStatus>(method: 'GET' | 'POST', body?: Record<string, unknown>) => send<T>(`${t.url}/api/v1/service`, {
  method, headers: { ...bearer(acc.apiToken), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
});
const nativeAction = (action: string) => native<ServiceStatus & { error?: { code: string; message: string } }>('POST', { action });
const readyz = () => send<{ status: string; mediaService: string; reason?: string }>(`${t.url}/readyz`, {});
const joinRefusal = async (link: RoomLink) => (await send<{ error?: { state?: string } }>(`${t.url}/rtc/join`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link }),
})).body.error?.state;

/** The addresses in the server's ICE candidates of the bot's publisher transport. */
function announced(bot: MeetingBot): string[] {
  const sdp = bot.received('publishAnswer')[0]?.sdp ?? '';
  return [...new Set(sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' ')[4]!))].sort();
}

function expectStopped(bots: MeetingBot[]) {
  return eventually(() => bots.every((b) => b.closed?.state === 'service_stopped'), 8000);
}

describe('service control answers once the media workers have acted', () => {
  it('Livebox: after "Stopped" the workers are down; right after "Started" / "Restarted" bots join and see each other', async () => {
    const first = await joinAndSee('lb1');
    const stopped = await control('stop');
    expect(stopped.text).toBe('Stopped');
    // Nothing waited for here: the answer came after the workers ended.
    expect(t.server.media!.service.running).toBe(false);
    expect((await native('GET')).body).toMatchObject({ running: false, enabled: false, media: { state: 'stopped', alive: 0 } });
    expect((await readyz()).body).toMatchObject({ status: 'ready', mediaService: 'stopped' });
    expect(await expectStopped(first)).toBe(true);

    expect((await control('start')).text).toBe('Started');
    expect((await readyz()).body).toMatchObject({ status: 'ready', mediaService: 'running' });
    const second = await joinAndSee('lb2');

    expect((await control('restart')).text).toBe('Restarted');
    expect(await expectStopped(second)).toBe(true);
    await joinAndSee('lb3');
    expect((await native('GET')).body).toMatchObject({ running: true, enabled: true, media: { state: 'running', workers: 1, alive: 1 } });
  }, 90_000);

  it('native API: stop, start and restart answer with the real worker state, and joins work right after', async () => {
    const first = await joinAndSee('n1');
    const stopped = await nativeAction('stop');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ running: false, enabled: false, media: { state: 'stopped', alive: 0 } });
    expect(await expectStopped(first)).toBe(true);

    const started = await nativeAction('start');
    expect(started.body).toMatchObject({ running: true, enabled: true, media: { state: 'running', alive: 1 } });
    const second = await joinAndSee('n2');

    const restarted = await nativeAction('restart');
    expect(restarted.body).toMatchObject({ running: true, enabled: true, media: { state: 'running', alive: 1 } });
    expect(await expectStopped(second)).toBe(true);
    await joinAndSee('n3');
  }, 90_000);

  it('a start whose workers fail is a 503 with the reason; the service stays switched on and start retries', async () => {
    const [, guestLink] = await meeting();
    expect((await control('stop')).text).toBe('Stopped');
    // The worker threads cannot be made to fail from outside: the media service's start fails once.
    vi.spyOn(t.server.media!.service, 'start').mockRejectedValueOnce(new Error('no thread could be spawned'));

    const failed = await control('start');
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ status: 'error', code: 'unavailable' });
    expect(failed.body.message).toMatch(/media workers did not start: no thread could be spawned/);
    expect((await native('GET')).body).toMatchObject({
      running: false, enabled: true, media: { state: 'failed', alive: 0, error: 'no thread could be spawned' },
    });
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', mediaService: 'failed' });
    expect(ready.body.reason).toContain('no thread could be spawned');
    expect(await joinRefusal(guestLink!)).toBe('service_stopped');

    // Already switched on, media down: start tries again (native this time).
    const retried = await nativeAction('start');
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ running: true, enabled: true, media: { state: 'running', alive: 1 } });
    expect((await readyz()).status).toBe(200);
    await joinAndSee('retry');

    // And the same failure through the native API is its 503 error object.
    expect((await nativeAction('stop')).status).toBe(200);
    vi.spyOn(t.server.media!.service, 'start').mockRejectedValueOnce(new Error('out of memory'));
    const nativeFailed = await nativeAction('start');
    expect(nativeFailed.status).toBe(503);
    expect(nativeFailed.body.error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('out of memory') });
    expect((await control('start')).text).toBe('Started');
    await joinAndSee('retry2');
  }, 90_000);
});

describe('readiness', () => {
  it('/readyz is 503 while every media worker has crashed and is being restarted, 200 once one is back', async () => {
    const service = t.server.media!.service;
    // The respawned worker waits for the test, so that "none alive" lasts long enough to be asked.
    interface Host { start(): Promise<void> }
    const slots = service as unknown as { createHost(index: number): Host };
    const createHost = slots.createHost;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    slots.createHost = function (this: unknown, index: number) {
      const host = createHost.call(this, index);
      const start = host.start.bind(host);
      host.start = async () => {
        await gate;
        return start();
      };
      return host;
    };
    try {
      expect((await readyz()).status).toBe(200);
      const died = new Promise<void>((resolve) => service.once('workerDied', () => resolve()));
      await service.killWorkerForTesting(0);
      await died;
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'unavailable', mediaService: 'running', media: { workers: 1, alive: 0 } });
      expect(down.body.reason).toMatch(/no media worker is alive/);
      expect((await native('GET')).body).toMatchObject({ media: { state: 'running', alive: 0 } });
      const back = new Promise<void>((resolve) => service.once('workerRespawned', () => resolve()));
      release();
      await back;
      expect((await readyz()).body).toMatchObject({ status: 'ready', mediaService: 'running', media: { alive: 1 } });
      expect((await readyz()).status).toBe(200);
    } finally {
      release();
      slots.createHost = createHost;
    }
    await joinAndSee('respawned');
  }, 60_000);
});

describe('refreshing the announced addresses', () => {
  const file = () => joinPath(t.dataDir, 'announced-ip');
  afterAll(() => rmSync(file(), { force: true }));

  it('new transports announce what the announced-ip file says; an invalid address is refused and changes nothing', async () => {
    const [before] = await joinAndSee('ip1');
    expect(announced(before!)).toEqual(['127.0.0.1']); // ANNOUNCED_IP

    writeFileSync(file(), '127.0.0.1, 127.0.0.3\n');
    expect((await livebox('refreshIPConfiguration')).text).toBe('Refreshed');
    expect((await native('GET')).body.addresses).toEqual(['127.0.0.1', '127.0.0.3']);
    const [a, b] = await joinAndSee('ip2'); // media still flows through 127.0.0.1
    expect(announced(a!)).toEqual(['127.0.0.1', '127.0.0.3']);
    expect(announced(b!)).toEqual(['127.0.0.1', '127.0.0.3']);

    writeFileSync(file(), 'media.example.com\n');
    const refused: Answer<{ status: string; code: string; message: string }> = await livebox('refreshIPConfiguration');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 'error', code: 'conflict' });
    expect(refused.body.message).toMatch(/"media\.example\.com" from the file .*announced-ip is not an IP address; nothing was changed/);
    const refusedNative = await nativeAction('refresh-addresses');
    expect(refusedNative.status).toBe(409);
    expect(refusedNative.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('is not an IP address') });
    expect((await native('GET')).body).toMatchObject({ running: true, addresses: ['127.0.0.1', '127.0.0.3'] });
    const [c] = await joinAndSee('ip3');
    expect(announced(c!)).toEqual(['127.0.0.1', '127.0.0.3']);

    rmSync(file());
    const back = await nativeAction('refresh-addresses');
    expect(back.body.addresses).toEqual(['127.0.0.1']);
    const [d] = await joinAndSee('ip4');
    expect(announced(d!)).toEqual(['127.0.0.1']);
  }, 90_000);
});
