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

const env = (dir = dataDir) => ({ ...process.env, DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' });
const parleyIn = (dir: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: env(dir), encoding: 'utf8', timeout: 20_000 });
const parley = (...args: string[]) => parleyIn(dataDir, ...args);

type Serving = Spawned;

/** Starts `parley serve` and waits for the line that says where it listens. */
const serve = (dir = dataDir, extra: Record<string, string> = {}) => spawnListening([BIN, 'serve'], { ...env(dir), ...extra });
const NO_MEDIA = { MEDIA_WORKERS: '0' };

/** A fresh, empty DATA_DIR for one test, removed afterwards. */
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  dirs.push(dir);
  return dir;
}
const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

const lbCall = (url: string, creds: { apiUsername: string; apiKey: string; serverKey: string }, op: string, fields: Record<string, string>) =>
  post(`${url}/livebox/appsservice/api/${op}`, { username: creds.apiUsername, key: creds.apiKey, Serverkey: creds.serverKey, ...fields }, 'json');

/** A second serve of `dir` prints no first-start secrets. */
async function expectQuietSecondStart(dir: string): Promise<void> {
  const again = await serve(dir, NO_MEDIA);
  try {
    expect(again.output()).not.toContain('first start');
  } finally {
    await stop(again);
  }
}

function stop(s: Serving): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.on('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

describe('parley CLI', () => {
  it('prints usage for help, --help and -h, also after a command, without complaining', () => {
    for (const args of [['help'], ['--help'], ['-h'], ['serve', '--help'], ['account', 'create', '-h'], ['help', 'user']]) {
      const help = parley(...args);
      expect(help.status, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toContain('parley account create');
      expect(help.stderr, args.join(' ')).toBe('');
    }
  });

  it('refuses unknown commands with exit code 64', () => {
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
      // The demo account is the operator's own: it may control the service.
      const demo = { apiUsername: /username:\s+(\S+)/.exec(out)![1], apiKey: /key:\s+(\S+)/.exec(out)![1], serverKey: /Serverkey:\s+(\S+)/.exec(out)![1] };
      expect((await lbCall(first.url, demo, 'ControlInsideAppServices', { action: 'start', appservice: 'VideoConferencingService' })).text).toBe('Started');

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
      // Accounts made by the CLI may not stop the server's service unless the operator says so.
      expect((await lbCall(first.url, creds, 'ControlInsideAppServices', { action: 'stop', appservice: 'VideoConferencingService' })).status).toBe(403);

      // Rotation takes effect on the running server immediately.
      const rotated = parley('account', 'rotate', '--account', creds.accountId, '--secret', 'auth-token', '--json');
      expect(rotated.status).toBe(0);
      const fresh = JSON.parse(rotated.stdout.trim()).value as string;
      expect((await post<{ resultcode: number }>(`${first.url}/getMeetingStatus`, { meetingKey: 'acme' }, 'form', basic(creds.accountSid, creds.authToken))).body.resultcode).toBe(0);
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

  it('account create: service control only with --service-control', () => {
    const dir = freshDir();
    const made = (...flags: string[]) => parleyIn(dir, 'account', 'create', '--name', `with ${flags.length} flags`, ...flags, '--json');
    for (const [flags, serviceControl] of [[[], false], [['--service-control'], true], [['--no-service-control'], false]] as const) {
      const r = made(...flags);
      expect(r.status, r.stderr).toBe(0);
      const id = JSON.parse(r.stdout.trim().split('\n').pop()!).accountId;
      const listed = JSON.parse(parleyIn(dir, 'account', 'list', '--json').stdout).find((a: { id: string }) => a.id === id);
      expect(listed.serviceControl, flags.join(' ')).toBe(serviceControl);
    }
    expect(made('--service-control', '--no-service-control').status).toBe(64);
    const first = JSON.parse(parleyIn(dir, 'account', 'list', '--json').stdout)[0].id;
    expect(JSON.parse(parleyIn(dir, 'account', 'update', '--account', first, '--service-control', 'on', '--json').stdout).serviceControl).toBe(true);
    expect(parleyIn(dir, 'help').stdout).toContain('--service-control');
  });

  it('first serve after `account create` prints the admin token it created, and no demo account', async () => {
    const dir = freshDir();
    const created = parleyIn(dir, 'account', 'create', '--name', 'Early', '--json');
    expect(created.status, created.stderr).toBe(0);
    const s = await serve(dir, NO_MEDIA);
    try {
      const out = s.output();
      expect(out).toContain('Parley: first start');
      const admin = /Admin token \(native API \/api\/v1\/admin\):\s+(\S+)/.exec(out)![1];
      const accounts = await send<{ data: { name: string }[] }>(`${s.url}/api/v1/admin/accounts`, { headers: bearer(admin) });
      expect(accounts.body.data.map((a) => a.name)).toEqual(['Early']);
      expect(out).not.toContain('Demo account');
      expect(out).not.toContain('AccountSid');
    } finally {
      await stop(s);
    }
    await expectQuietSecondStart(dir);
  });

  it('first serve after `admin rotate-token` prints the demo account it created, and no admin token', async () => {
    const dir = freshDir();
    const rotated = parleyIn(dir, 'admin', 'rotate-token');
    expect(rotated.status, rotated.stderr).toBe(0);
    const admin = /New admin token: (\S+)/.exec(rotated.stdout)![1];
    const s = await serve(dir, NO_MEDIA);
    try {
      const out = s.output();
      expect(out).toContain('Parley: first start');
      expect(out).not.toContain('Admin token');
      const sid = /AccountSid: (\S+)/.exec(out)![1];
      const token = /AuthToken:\s+(\S+)/.exec(out)![1];
      expect((await post(`${s.url}/createMeeting`, { hostid: 'h' }, 'form', basic(sid, token))).body).toMatchObject({ resultcode: 1 });
      const accounts = await send<{ data: { name: string; serviceControl: boolean }[] }>(`${s.url}/api/v1/admin/accounts`, { headers: bearer(admin) });
      expect(accounts.body.data).toEqual([expect.objectContaining({ name: 'Demo', serviceControl: true })]);
    } finally {
      await stop(s);
    }
    await expectQuietSecondStart(dir);
  });

  it('user list and user api-permission work on the running server\'s accounts', async () => {
    const dir = freshDir();
    const creds = JSON.parse(parleyIn(dir, 'account', 'create', '--name', 'Users', '--json').stdout.trim().split('\n').pop()!);
    const s = await serve(dir, NO_MEDIA);
    try {
      const user = await send<{ id: string; apiKey: string }>(`${s.url}/api/v1/users`, {
        method: 'POST', headers: { ...bearer(creds.apiToken), 'content-type': 'application/json' }, body: JSON.stringify({ username: 'clerk', apiKey: true }),
      });
      expect(user.status).toBe(201);
      const clerk = { apiUsername: 'clerk', apiKey: user.body.apiKey, serverKey: creds.serverKey };
      const get = () => lbCall(s.url, clerk, 'videoConfSettings', { action: 'get' });
      expect((await get()).status).toBe(403);

      const list = parleyIn(dir, 'user', 'list', '--account', creds.accountId, '--json');
      expect(list.status, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout).map((u: { username: string; apiPermission: boolean }) => [u.username, u.apiPermission])).toEqual([['apiuser', true], ['clerk', false]]);
      expect(parleyIn(dir, 'user', 'list', '--account', creds.accountId).stdout).toMatch(/clerk\s+API permission off/);

      const on = parleyIn(dir, 'user', 'api-permission', '--account', creds.accountId, '--user', 'clerk', 'on');
      expect(on.status, on.stderr).toBe(0);
      expect(on.stdout).toContain('API permission of clerk');
      expect((await get()).status).toBe(200);
      const off = parleyIn(dir, 'user', 'api-permission', '--account', creds.accountId, '--user', 'clerk', 'off', '--json');
      expect(JSON.parse(off.stdout)).toMatchObject({ username: 'clerk', apiPermission: false });
      expect((await get()).status).toBe(403);

      const ghost = parleyIn(dir, 'user', 'api-permission', '--account', creds.accountId, '--user', 'ghost', 'on');
      expect(ghost.status).toBe(1);
      expect(ghost.stderr).toContain('user not found');
      expect(parleyIn(dir, 'user', 'api-permission', '--account', creds.accountId, '--user', 'clerk', 'maybe').status).toBe(64);
      expect(parleyIn(dir, 'user', 'api-permission', '--account', creds.accountId, 'on').status).toBe(64);
      expect(parleyIn(dir, 'user', 'list').status).toBe(64);
      expect(parleyIn(dir, 'user', 'list', '--account', 'acc_nope').stderr).toContain('account not found');
    } finally {
      await stop(s);
    }
  });

  it('refuses a bad configuration with a clear message', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...env(), TIME_ZONE: 'Mars/Olympus' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TIME_ZONE must be an IANA time zone name');
  });
});

describe('parley turn-config', () => {
  const SECRET = 'cli-turn-secret-0123456789abcdef0123';
  const turnConfig = (extra: Record<string, string>) => spawnSync(process.execPath, [BIN, 'turn-config'], {
    env: { ...env(), PUBLIC_URL: 'https://meet.example.com', ANNOUNCED_IP: '10.20.30.40', ...extra }, encoding: 'utf8', timeout: 20_000,
  });
  const settings = (conf: string) => conf.split('\n').filter((l) => l && !l.startsWith('#'));

  it("prints a coturn configuration matching Parley's TURN settings", () => {
    const r = turnConfig({ TURN_URLS: 'turn:turn.example.com:3479,turn:turn.example.com:3479?transport=tcp,turns:turn.example.com:443?transport=tcp', TURN_SECRET: SECRET });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = settings(r.stdout);
    expect(lines).toEqual(expect.arrayContaining([
      'use-auth-secret', `static-auth-secret=${SECRET}`, 'realm=meet.example.com',
      'listening-port=3479', 'tls-listening-port=443', 'cert=/etc/letsencrypt/live/meet.example.com/fullchain.pem',
      'pkey=/etc/letsencrypt/live/meet.example.com/privkey.pem', 'no-multicast-peers', 'no-cli',
      'denied-peer-ip=10.0.0.0-10.255.255.255', 'denied-peer-ip=127.0.0.0-127.255.255.255', 'denied-peer-ip=192.168.0.0-192.168.255.255',
      // Parley's media is on a private address here: the relay may still reach it, and only it.
      'allowed-peer-ip=10.20.30.40',
    ]));
    expect(lines.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual(['allowed-peer-ip=10.20.30.40']);
    expect(lines).not.toContain('allow-loopback-peers');
  });

  it('without TURN settings, prints one with a new secret and says what to set on Parley', () => {
    const [a, b] = [turnConfig({}), turnConfig({})];
    expect(a.status).toBe(0);
    const secretOf = (conf: string) => /^static-auth-secret=([0-9a-f]+)$/m.exec(conf)?.[1];
    expect(secretOf(a.stdout)).toMatch(/^[0-9a-f]{64}$/);
    expect(secretOf(b.stdout)).not.toBe(secretOf(a.stdout));
    expect(a.stderr).toContain('TURN_URLS=turn:meet.example.com:3478,turn:meet.example.com:3478?transport=tcp,turns:meet.example.com:443?transport=tcp');
    expect(a.stderr).toContain('TURN_SECRET=');
    expect(settings(a.stdout)).toEqual(expect.arrayContaining(['listening-port=3478', 'tls-listening-port=443']));
  });

  it('refuses TURN settings Parley would refuse', () => {
    const r = turnConfig({ TURN_URLS: 'turn:turn.example.com' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TURN_URLS needs TURN_SECRET');
    expect(r.stdout).toBe('');
  });
});
