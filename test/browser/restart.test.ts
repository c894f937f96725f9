import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { framesDecoded, joinRoom, openPerson, roomState, type Person } from '../helpers/browser.js';
import { bearer, send } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { spawnListening, stopSpawned as stop, type Spawned } from '../helpers/spawn.js';

// Issue 10, graceful restart: `parley serve` gets SIGTERM during a meeting of two Chromiums and is
// started again on the same port and data; both pages are back in the meeting without a click.
const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

let dataDir: string;
let port: number;
let server: Spawned | undefined;
let token: string;
const people: Person[] = [];

/** A port free now, so that the second process listens where the pages expect the first. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
}

async function serve(): Promise<Spawned> {
  server = await spawnListening([BIN, 'serve'], {
    DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', MEDIA_WORKERS: '1',
    RTC_LISTEN_IP: '127.0.0.1', ANNOUNCED_IP: '127.0.0.1', RESTART_REJOIN_SECONDS: '60',
  });
  return server;
}


beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-browser-restart-'));
  port = await freePort();
  const first = await serve();
  token = /Bearer:\s+(\S+)/.exec(first.output())![1]!;
});
afterAll(async () => {
  await Promise.all(people.map((p) => p.close()));
  if (server) await stop(server, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = async (method: string, path: string, body?: unknown) => (await send<Json>(`http://127.0.0.1:${port}/api/v1${path}`, {
  method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
})).body;

describe('a graceful restart', () => {
  it('after SIGTERM and a new start, both browsers are back in the same meeting and seats without a click', async () => {
    const m = await api('POST', '/meetings', { title: 'Through a restart', host: { externalId: 'h', name: 'Hana Host' } });
    await api('POST', `/meetings/${m.id}/participants`, { externalId: 'g', name: 'Gus Guest' });
    const list = (await api('GET', `/meetings/${m.id}/participants`)).data as Json[];
    const [host, guest] = [await openPerson(), await openPerson()];
    people.push(host, guest);
    // Links as the API hands them out point at the public URL, which here is the same address.
    await joinRoom(host.page, list.find((p) => p.role === 'host')!.joinUrl);
    await joinRoom(guest.page, list.find((p) => p.role !== 'host')!.joinUrl);
    const seats = async () => ((await api('GET', `/meetings/${m.id}/live`)).participants as Json[]).map((p) => p.id).sort();
    expect(await eventually(async () => (await seats()).length === 2, 20_000)).toBe(true);
    const before = await seats();
    const bothDecoding = async () => {
      const [h0, g0] = [await framesDecoded(host.page), await framesDecoded(guest.page)];
      return eventually(async () => (await framesDecoded(host.page)) > h0 + 10 && (await framesDecoded(guest.page)) > g0 + 10, 30_000, 250);
    };
    expect(await bothDecoding()).toBe(true);

    await stop(server!, 'SIGTERM');
    // Both pages wait for the server instead of showing an ending. (Once seen: a shutdown that
    // outlasted the rejoin window; the server's log then names the step it waited for.)
    const log = server!.output().slice(-3000);
    expect(await roomState(host.page), log).toBe('reconnecting');
    expect(await roomState(guest.page), log).toBe('reconnecting');

    await serve();
    expect(await eventually(async () => (await roomState(host.page)) === 'room' && (await roomState(guest.page)) === 'room', 60_000, 250)).toBe(true);
    expect(await eventually(async () => JSON.stringify(await seats()) === JSON.stringify(before), 20_000)).toBe(true);
    expect(await bothDecoding()).toBe(true);
    // Nothing was recorded as an ending: still in progress, both still in it.
    const now = await api('GET', `/meetings/${m.id}`);
    expect(now.statusCode).toBe(8);
    const statuses = ((await api('GET', `/meetings/${m.id}/participants`)).data as Json[]).map((p) => p.statusCode);
    expect(statuses).toEqual([10, 10]);
  }, 150_000);
});
