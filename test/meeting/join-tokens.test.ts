import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, ServerMessage } from '../../src/protocol/messages.js';
import { basic, post } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { spawnListening, type Spawned } from '../helpers/spawn.js';

// Join tokens are signed and self-contained: a token issued by one server process opens a socket
// on another process sharing the same store and secret, and only once across both.
const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

let a: TestServer;
let b: Spawned;
let acc: AccountCredentials;

beforeAll(async () => {
  a = await startTestServer({ MEDIA_WORKERS: '1' });
  // The same data directory (so the same secret.key) and, on PostgreSQL, the same database.
  b = await spawnListening([BIN, 'serve'], { ...a.env, MEDIA_WORKERS: '1', LOG_LEVEL: 'warn' });
  acc = await a.newAccount('tokens');
});
afterAll(async () => {
  b?.child.kill('SIGTERM');
  if (b && b.child.exitCode === null) await new Promise((r) => b.child.once('exit', r));
  await a?.close();
});

/** The first message a socket opened with `token` gets from `url`. */
function firstMessage(url: string, token: string): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/rtc/ws?token=${encodeURIComponent(token)}`);
    socket.once('message', (data) => {
      resolve(JSON.parse(data.toString()) as ServerMessage);
      socket.close();
    });
    socket.once('error', reject);
  });
}

async function hostToken(key: string): Promise<string> {
  const created = await post<Record<string, string>>(`${a.url}/createMeeting`, { meetingKey: key, hostid: 'h', hostnickname: 'Host' }, 'form', basic(acc.accountSid, acc.authToken));
  const link = { kind: 'personal', token: created.body.hostUrl!.split('/e/')[1] };
  const join = await post<JoinResponse>(`${a.url}/rtc/join`, { link }, 'json');
  expect(join.status).toBe(200);
  return join.body.joinToken;
}

describe('join tokens across processes', () => {
  it('a token issued by one process seats its holder on another, and is good only once on either', async () => {
    const token = await hostToken('cross-1');
    const onB = await firstMessage(b.url, token);
    expect(onB.type).toBe('welcome');
    expect(onB.type === 'welcome' && onB.self.name).toBe('Host');

    const again = await firstMessage(a.url, token);
    expect(again).toMatchObject({ type: 'closed', state: 'not_found' });
  });

  it('a token whose payload was changed is refused', async () => {
    const token = await hostToken('cross-2');
    const [body, signature] = token.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as { perm: { moderate: boolean } };
    payload.perm.moderate = !payload.perm.moderate;
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    expect(await firstMessage(b.url, forged)).toMatchObject({ type: 'closed', state: 'not_found' });
    // The real one still works: the forgery used nothing up.
    expect((await firstMessage(b.url, token)).type).toBe('welcome');
  });
});
