import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { bearer, send } from './http.js';
import { SERVER_IP, type NetLab } from './netlab.js';
import { spawnListening, type Spawned } from './spawn.js';

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
