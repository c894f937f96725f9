import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, type TestContext } from 'vitest';
import type { Person } from './browser.js';
import { bearer, send } from './http.js';
import { makeNetLab, SERVER_IP, type NetLab } from './netlab.js';
import { namespacesUnavailable } from './netns.js';
import { spawnListening, stopSpawned, type Spawned } from './spawn.js';

const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
export type LabApi = (method: string, path: string, body?: unknown) => Promise<Json>;

/**
 * `parley serve` inside the lab's server namespace, listening (HTTP and media) on the veth
 * address, one media worker; `env` is added.
 */
export async function startLabServer(lab: NetLab, dataDir: string, env: Record<string, string> = {}): Promise<Spawned> {
  // PARLEY_TEST_LOG_LEVEL=debug (or trace): its log goes to the test's stderr, to see why a test went as it did.
  const logLevel = process.env.PARLEY_TEST_LOG_LEVEL;
  const server = await spawnListening([BIN, 'serve'], {
    DATA_DIR: dataDir, HOST: SERVER_IP, PORT: '0', LOG_LEVEL: logLevel ?? 'warn', MEDIA_WORKERS: '1',
    RTC_LISTEN_IP: SERVER_IP, ANNOUNCED_IP: SERVER_IP, ...env,
  }, [...lab.inServer, process.execPath]);
  if (logLevel) server.child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return server;
}

/** The native API of a lab server, from the test's own namespace, with the token it printed. */
export async function labApi(lab: NetLab, server: Spawned): Promise<LabApi> {
  const token = /Bearer:\s+(\S+)/.exec(server.output())![1]!;
  const base = await lab.forward(Number(new URL(server.url).port));
  return async (method, path, body) => (await send<Json>(`${base}/api/v1${path}`, {
    method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })).body;
}

/** A moving `testsrc2` picture for Chromium's fake camera (`--use-file-for-fake-video-capture`). */
export function fakeCamera(dir: string, size: string, rate: number): string {
  const file = join(dir, 'camera.y4m');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`, '-t', '2', '-pix_fmt', 'yuv420p', file]);
  return file;
}

/** What `labForTests` made: set before the file's first test. */
export interface LabSetup {
  /** why namespaces cannot be made here (not root), or undefined: then nothing below is made */
  readonly unavailable: string | undefined;
  lab: NetLab;
  server: Spawned;
  /** a temporary directory of the file's (the server's data is in it) */
  dir: string;
}

/**
 * For a test file: a lab (its namespaces) with a Parley server in it, made before the file's
 * tests and removed after them, `people` first (their browsers hold the media).
 */
export function labForTests(prefix: string, people: Person[] = []): LabSetup {
  const setup = { unavailable: namespacesUnavailable() } as LabSetup;
  let started: Spawned | undefined;
  beforeAll(async () => {
    if (setup.unavailable) return;
    setup.dir = mkdtempSync(join(tmpdir(), prefix));
    setup.lab = await makeNetLab();
    setup.server = started = await startLabServer(setup.lab, join(setup.dir, 'data'));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(people.splice(0).map((p) => p.close()));
    if (started) await stopSpawned(started, 'SIGKILL');
    await setup.lab?.close();
    if (setup.dir) rmSync(setup.dir, { recursive: true, force: true });
  });
  return setup;
}

/** A meeting on a lab server: its host's personal link, and a way to invite more (their links). */
export async function labMeeting(lab: NetLab, server: Spawned, title: string, hostName: string) {
  const api = await labApi(lab, server);
  const m = await api('POST', '/meetings', { title, host: { externalId: 'h', name: hostName } });
  const hostUrl = ((await api('GET', `/meetings/${m.id}/participants`)).data as Json[])[0]!.joinUrl as string;
  const invite = async (externalId: string, name: string) => (await api('POST', `/meetings/${m.id}/participants`, { externalId, name })).joinUrl as string;
  return { api, hostUrl, invite };
}

/** When the test (each attempt) ends: its browsers closed, the participant's downlink clear again. */
export function clearDownlinkAfter(ctx: TestContext, lab: NetLab, people: Person[]): void {
  ctx.onTestFinished(async () => {
    await Promise.all(people.splice(0).map((p) => p.close()));
    await lab.limitDownlink(undefined);
    await lab.loseDownlink(0);
  });
}
