import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, post, send } from './helpers/http.js';
import { spawnListening, type Spawned } from './helpers/spawn.js';

// The CLI as an operator runs it: the built bin/parley.js (npm test builds first).
const BIN = new URL('../bin/parley.js', import.meta.url).pathname;

let dataDir: string;
beforeAll(() => { dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-')); });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const env = () => ({ ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' });
const parley = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: env(), encoding: 'utf8', timeout: 20_000 });

type Serving = Spawned;

/** Starts `parley serve` and waits for the line that says where it listens. */
const serve = () => spawnListening([BIN, 'serve'], env());

function stop(s: Serving): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.on('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

describe('parley CLI', () => {
  it('prints usage, and refuses unknown commands with exit code 64', () => {
    const help = parley('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('parley account create');
    const bad = parley('frobnicate');
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    expect(parley('account', 'create').status).toBe(64);
  });

  it('first start creates a demo account and an admin token, printed once; the CLI works while it runs', async () => {
    const first = await serve();
    try {
      const out = first.output();
      expect(out).toContain('Parley: first start');
      const sid = /AccountSid: (\S+)/.exec(out)![1];
      const token = /AuthToken:\s+(\S+)/.exec(out)![1];
      const bearerToken = /Bearer:\s+(\S+)/.exec(out)![1];
      const admin = /Admin token \(native API \/api\/v1\/admin\):\s+(\S+)/.exec(out)![1];
      expect((await post(`${first.url}/createMeeting`, { hostid: 'h' }, 'form', basic(sid, token))).body).toMatchObject({ resultcode: 1 });
      expect((await send(`${first.url}/api/v1/meetings`, { headers: bearer(bearerToken) })).status).toBe(200);
      expect((await send(`${first.url}/api/v1/admin/accounts`, { headers: bearer(admin) })).status).toBe(200);

      // An account made by the CLI next to the running server works at once.
      const created = parley('account', 'create', '--name', 'Acme', '--time-zone', 'Europe/Paris', '--json');
      expect(created.status).toBe(0);
      const lines = created.stdout.trim().split('\n');
      const creds = JSON.parse(lines[lines.length - 1]);
      expect(Object.keys(creds).sort()).toEqual(['accountId', 'accountSid', 'apiKey', 'apiToken', 'apiUsername', 'authToken', 'nativeAppKey', 'serverKey'].sort());
      expect((await post(`${first.url}/createMeeting`, { hostid: 'h', meetingKey: 'acme' }, 'json', basic(creds.accountSid, creds.authToken))).body).toMatchObject({ resultcode: 1 });
      const lb = await post(`${first.url}/livebox/appsservice/api/videoConfSettings`, { action: 'get', username: creds.apiUsername, key: creds.apiKey, Serverkey: creds.serverKey }, 'json');
      expect(lb.status).toBe(200);
      expect(lb.body).toEqual([expect.objectContaining({ ConferenceName: 'acme', Mode: 'on' })]);

      // Rotation takes effect on the running server immediately.
      const rotated = parley('account', 'rotate', '--account', creds.accountId, '--secret', 'auth-token', '--json');
      expect(rotated.status).toBe(0);
      const fresh = JSON.parse(rotated.stdout.trim()).value as string;
      expect((await post(`${first.url}/getMeetingStatus`, { meetingKey: 'acme' }, 'form', basic(creds.accountSid, creds.authToken))).status).toBe(401);
      expect((await post(`${first.url}/getMeetingStatus`, { meetingKey: 'acme' }, 'form', basic(creds.accountSid, fresh))).body).toEqual({ resultcode: 1, status: '1' });

      const list = parley('account', 'list', '--json');
      expect(JSON.parse(list.stdout).map((a: { name: string }) => a.name).sort()).toEqual(['Acme', 'Demo']);
      const updated = parley('account', 'update', '--account', creds.accountId, '--max-meetings', '1', '--json');
      expect(JSON.parse(updated.stdout)).toMatchObject({ maxMeetings: 1 });
      const over = await post<{ resultcode: number; message: string }>(`${first.url}/createMeeting`, { hostid: 'h' }, 'form', basic(creds.accountSid, fresh));
      expect(over.body).toEqual({ resultcode: 0, message: 'this account may have at most 1 meeting' });
      expect(parley('account', 'rotate', '--account', 'acc_nope', '--secret', 'auth-token').stderr).toContain('account not found');
    } finally {
      expect(await stop(first)).toBe(0);
    }

    // A restart keeps everything and prints no secrets.
    const second = await serve();
    try {
      expect(second.output()).not.toContain('first start');
      const list = JSON.parse(parley('account', 'list', '--json').stdout);
      expect(list).toHaveLength(2);
    } finally {
      await stop(second);
    }
    expect(statSync(join(dataDir, 'parley.db')).size).toBeGreaterThan(0);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o077).toBe(0);
  });

  it('refuses a bad configuration with a clear message', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...env(), TIME_ZONE: 'Mars/Olympus' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TIME_ZONE must be an IANA time zone name');
  });
});
