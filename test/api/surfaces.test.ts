/**
 * Bad bodies, bad keys and odd JSON types on all three API surfaces, over real HTTP: each gets a
 * 4xx in its surface's shape (LiveMinutes `resultcode: 0` in an HTTP 200, Livebox `{status: "error"}`, native
 * `{error}`) that says what is wrong, never a 500, and changes nothing. Run on PostgreSQL too
 * (`npm run test:postgres`), which refuses NUL in text where SQLite does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, CURL_BOUNDARY, fieldParts, formEncode, multipartBody, post, send, type Answer, type Part, type Style } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
type Surface = 'liveminutes' | 'livebox' | 'native';
const SURFACES: Surface[] = ['liveminutes', 'livebox', 'native'];
const LB = '/livebox/appsservice/api';

let t: TestServer;
let acc: AccountCredentials;
let meetingId: string;

beforeAll(async () => {
  t = await startTestServer();
  acc = await t.newAccount('Surfaces');
  const created = await native('POST', '/meetings', { key: 'known', host: { externalId: 'host' } });
  expect(created.status, created.text).toBe(201);
  meetingId = created.body.id;
  expect((await post(`${t.url}${LB}/videoConfSettings`, { ...lbCreds(), action: 'Add', name: 'conf' }, 'json')).status).toBe(200);
});
afterAll(async () => { await t?.close(); });

const lbCreds = () => ({ username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey });

function native<T = Json>(method: string, path: string, body?: unknown, token = acc.apiToken): Promise<Answer<T>> {
  return send<T>(`${t.url}/api/v1${path}`, {
    method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A raw body to one operation of the surface that changes something (creation where there is one). */
function raw(surface: Surface, body: string | Buffer, contentType: string): Promise<Answer<Json>> {
  const [url, headers]: [string, Record<string, string>] = surface === 'liveminutes' ? [`${t.url}/createMeeting`, basic(acc.accountSid, acc.authToken)]
    : surface === 'livebox' ? [`${t.url}${LB}/videoConfSettings`, {}]
      : [`${t.url}/api/v1/meetings`, bearer(acc.apiToken)];
  return send<Json>(url, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body });
}

/**
 * The surface's own error shape, with this status and a message matching `message`. LiveMinutes
 * answers failures with HTTP 200 and `resultcode: 0`, as its document describes them.
 */
function expectRefused(surface: Surface, r: Answer<Json>, status: number, message: RegExp, field?: string) {
  expect(r.status, r.text).toBe(surface === 'liveminutes' ? 200 : status);
  if (surface === 'liveminutes') {
    expect(Object.keys(r.body).sort()).toEqual(['message', 'resultcode']);
    expect(r.body.resultcode).toBe(0);
    expect(r.body.message).toMatch(message);
  } else if (surface === 'livebox') {
    expect(Object.keys(r.body).sort()).toEqual(['code', 'message', 'status']);
    expect(r.body.status).toBe('error');
    expect(r.body.message).toMatch(message);
  } else {
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(r.body.error.message).toMatch(message);
    if (field) expect(r.body.error.details.field).toBe(field);
  }
}

const meetingCount = async () => (await native<{ data: unknown[] }>('GET', '/meetings?limit=100')).body.data.length;

/** Form fields as each surface's creation would send them, before the bad part. */
const goodForm = (surface: Surface) => formEncode(surface === 'liveminutes' ? { hostid: 'h', meetingKey: 'formed' }
  : surface === 'livebox' ? { ...lbCreds(), action: 'Add', name: 'formed' } : { title: 'formed' });

describe.each(SURFACES)('%s: bodies the parser cannot read as sent', (surface) => {
  const FORM = 'application/x-www-form-urlencoded';
  const cases: [string, (good: string) => string | Buffer, string, RegExp][] = [
    ['fields nested deeper than 3 levels', (g) => `${g}&x[a][b][c][d]=1`, FORM, /nested more than 3 levels deep/],
    ['nested fields in jQuery style, too deep', (g) => `${g}&AllowSignup[Preset][a][b][c]=x`, FORM, /nested more than 3 levels deep/],
    ['more than 200 fields', (g) => `${g}&${Array.from({ length: 200 }, (_, i) => `f${i}=1`).join('&')}`, FORM, /more than 200 fields/],
    ['more than 200 fields, some nested', (g) => `${g}&a[b]=1&${Array.from({ length: 200 }, (_, i) => `f${i}=1`).join('&')}`, FORM, /more than 200 fields/],
    ['an array of more than 20 items', (g) => `${g}&${Array.from({ length: 21 }, (_, i) => `a[]=${i}`).join('&')}`, FORM, /more than 20 items/],
    ['an array index over 20', (g) => `${g}&a[25]=x`, FORM, /more than 20 items/],
    ['a % that is no escape', (g) => `${g}&title=100%ZZ`, FORM, /malformed %-escape/],
    ['a truncated % escape', (g) => `${g}&title=abc%4`, FORM, /malformed %-escape/],
    ['escapes that are not UTF-8', (g) => `${g}&title=%FF%FE`, FORM, /not UTF-8/],
    ['a form whose bytes are not UTF-8', (g) => Buffer.concat([Buffer.from(`${g}&title=`), Buffer.from([0xc3, 0x28])]), FORM, /not valid UTF-8/],
    ['a JSON body whose bytes are not UTF-8', () => Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'application/json', /not valid UTF-8/],
    ['a text/json body whose bytes are not UTF-8', () => Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]), 'text/json', /not valid UTF-8/],
  ];
  it.each(cases)('%s: 400 in the surface\'s shape, nothing created', async (_name, body, contentType, message) => {
    const before = await meetingCount();
    expectRefused(surface, await raw(surface, body(goodForm(surface)), contentType), 400, message);
    expect(await meetingCount()).toBe(before);
  });

  it('a good form with escapes (and, for Livebox, jQuery nesting) is still read', async () => {
    const name = `café au lait ${surface}`;
    const body = surface === 'liveminutes' ? `hostid=h&meetingKey=${encodeURIComponent(name)}`
      : surface === 'livebox' ? `${formEncode(lbCreds())}&action=Add&name=caf%C3%A9+au+lait+${surface}&Authentication=true&AllowSignup%5BPreset%5D=Preset-1`
        : `key=caf%C3%A9%20au%20lait%20${surface}`;
    const r = await raw(surface, body, FORM);
    expect(r.status, r.text).toBeLessThan(300);
    const m = (await native<{ data: Json[] }>('GET', '/meetings?limit=100')).body.data.find((x) => x.key === name);
    expect(m).toBeDefined();
    if (surface === 'livebox') expect(m!.access).toMatchObject({ mode: 'restricted', signupPreset: 'Preset-1' });
    await native('DELETE', `/meetings/${m!.id}`);
  });
});

// ---- multipart/form-data: what PHP's curl sends for an array of fields -----------------------------

/** The same fields as goodForm, as multipart text parts. */
const goodParts = (surface: Surface): Part[] => fieldParts(surface === 'liveminutes' ? { hostid: 'h', meetingKey: 'formed' }
  : surface === 'livebox' ? { ...lbCreds(), action: 'Add', name: 'formed' } : { title: 'formed' });

describe.each(['liveminutes', 'livebox'] as Surface[])('%s: multipart bodies it cannot read as sent', (surface) => {
  type Body = { body: Buffer | string; contentType: string };
  const parts = (...extra: Part[]) => (good: Part[]): Body => multipartBody([...good, ...extra]);
  const many = (n: number, part: (i: number) => Part) => Array.from({ length: n }, (_, i) => part(i));
  const whole = (good: Part[]) => multipartBody(good);
  const cases: [string, (good: Part[]) => Body, number, RegExp][] = [
    // The form's own limits and UTF-8 rule
    ['fields nested deeper than 3 levels', parts({ name: 'x[a][b][c][d]', value: '1' }), 400, /nested more than 3 levels deep/],
    ['nested fields in jQuery style, too deep', parts({ name: 'AllowSignup[Preset][a][b][c]', value: 'x' }), 400, /nested more than 3 levels deep/],
    ['more than 200 fields', (g) => multipartBody([...g, ...many(200, (i) => ({ name: `f${i}`, value: '1' }))]), 400, /more than 200 fields/],
    ['more than 200 fields, some nested', (g) => multipartBody([...g, { name: 'a[b]', value: '1' }, ...many(200, (i) => ({ name: `f${i}`, value: '1' }))]), 400, /more than 200 fields/],
    ['an array of more than 20 items', (g) => multipartBody([...g, ...many(21, (i) => ({ name: 'a[]', value: String(i) }))]), 400, /more than 20 items/],
    ['an array index over 20', parts({ name: 'a[25]', value: 'x' }), 400, /more than 20 items/],
    ['a field whose bytes are not UTF-8', parts({ name: 'title', value: Buffer.from([0xc3, 0x28]) }), 400, /not valid UTF-8/],
    // Files
    ['a file part (a filename)', parts({ name: 'upload', filename: 'notes.txt', value: 'hello', headers: ['Content-Type: text/plain'] }), 400, /"upload" is a file; only text fields are accepted/],
    ['a binary file part', parts({ name: 'photo', filename: 'a.png', value: Buffer.from([137, 80, 78, 71, 0, 255]), headers: ['Content-Type: image/png'] }), 400, /"photo" is a file/],
    ['a file part larger than a stream buffer', parts({ name: 'video', filename: 'a.mp4', value: Buffer.alloc(200 * 1024, 7) }), 400, /"video" is a file/],
    ['an application/octet-stream part', parts({ name: 'blob', value: 'bytes', headers: ['Content-Type: application/octet-stream'] }), 400, /"blob" is a file/],
    // Malformed multipart
    ['no boundary in the Content-Type', (g) => ({ body: whole(g).body, contentType: 'multipart/form-data' }), 400, /no boundary/],
    ['a boundary the body does not use', (g) => ({ body: whole(g).body, contentType: 'multipart/form-data; boundary=not-this-one' }), 400, /malformed or cut short/],
    ['a body cut short inside a value', (g) => { const b = whole(g); return { ...b, body: b.body.subarray(0, b.body.length - 60) }; }, 400, /malformed or cut short/],
    ['a body cut short inside a part header', (g) => { const b = whole(g); return { ...b, body: Buffer.concat([b.body.subarray(0, b.body.length - `--${CURL_BOUNDARY}--\r\n`.length), Buffer.from(`--${CURL_BOUNDARY}\r\nContent-Disposition: form-da`)]) }; }, 400, /malformed or cut short/],
    ['no closing boundary', (g) => { const b = whole(g); return { ...b, body: b.body.subarray(0, b.body.length - `--${CURL_BOUNDARY}--\r\n`.length) }; }, 400, /malformed or cut short/],
    ['an empty body', (g) => ({ body: '', contentType: whole(g).contentType }), 400, /malformed or cut short/],
    ['a form-encoded body labelled multipart', (g) => ({ body: formEncode({ hostid: 'h' }), contentType: whole(g).contentType }), 400, /malformed or cut short/],
    ['a part header that never ends', (g) => { const b = whole(g); return { ...b, body: Buffer.from(`--${CURL_BOUNDARY}\r\nX-Pad: ${'x'.repeat(20 * 1024)}\r\n`) }; }, 400, /malformed or cut short/],
    ['a part with no name', parts({ value: 'anonymous' }), 400, /a form part has no name/],
    ['a part with no Content-Disposition', parts({ disposition: null, value: 'x', headers: ['Content-Type: text/plain'] }), 400, /no Content-Disposition: form-data header/],
    ['a part whose Content-Disposition is not form-data', parts({ disposition: 'attachment; name="title"', value: 'x' }), 400, /no Content-Disposition: form-data header/],
    ['a part whose Content-Disposition cannot be read', parts({ disposition: 'form-data; name="title"x"; filename="a.txt"', value: 'x' }), 400, /no Content-Disposition: form-data header/],
    ['a base64 part', parts({ name: 'title', value: 'aGVsbG8=', headers: ['Content-Transfer-Encoding: base64'] }), 400, /"title" has Content-Transfer-Encoding base64/],
    ['a body over the size limit', parts({ name: 'pad', value: 'x'.repeat(260 * 1024) }), 413, /too large/],
  ];
  it.each(cases)('%s: a 4xx in the surface\'s shape, nothing created', async (_name, build, status, message) => {
    const before = await meetingCount();
    const { body, contentType } = build(goodParts(surface));
    expectRefused(surface, await raw(surface, body, contentType), status, message);
    expect(await meetingCount()).toBe(before);
  });

  it('a good multipart body (UTF-8, and for Livebox jQuery nesting) is read as the same form would be', async () => {
    const name = `café au lait ${surface} multipart`;
    const fields: Part[] = surface === 'liveminutes' ? [{ name: 'hostid', value: 'h' }, { name: 'meetingKey', value: name }]
      : [...fieldParts(lbCreds()), ...fieldParts({ action: 'Add', name, Authentication: 'true' }), { name: 'AllowSignup[Preset]', value: 'Preset-1' }];
    const { body, contentType } = multipartBody(fields);
    const r = await raw(surface, body, contentType);
    expect(r.status, r.text).toBeLessThan(300);
    const m = (await native<{ data: Json[] }>('GET', '/meetings?limit=100')).body.data.find((x) => x.key === name);
    expect(m).toBeDefined();
    if (surface === 'livebox') expect(m!.access).toMatchObject({ mode: 'restricted', signupPreset: 'Preset-1' });
    await native('DELETE', `/meetings/${m!.id}`);
  });

  it('a type it does not read is a 415 that names multipart/form-data among the types it does', async () => {
    expectRefused(surface, await raw(surface, Buffer.from([0, 1, 2]), 'application/octet-stream'), 415,
      /^unsupported content type "application\/octet-stream"; send application\/json, text\/json, application\/x-www-form-urlencoded or multipart\/form-data$/);
  });
});

describe('native API: multipart/form-data', () => {
  it('is refused with 415 in the native shape, even for plain text fields, and nothing is created', async () => {
    const before = await meetingCount();
    const { body, contentType } = multipartBody(goodParts('native'));
    const r = await raw('native', body, contentType);
    expectRefused('native', r, 415, /^unsupported content type "multipart\/form-data; boundary=.*"; send application\/json, text\/json or application\/x-www-form-urlencoded$/);
    expect(r.body.error.code).toBe('unsupported_media_type');
    // As fetch sends a FormData, too.
    const viaFetch = await post<Json>(`${t.url}/api/v1/meetings`, { title: 'formed' }, 'multipart', bearer(acc.apiToken));
    expectRefused('native', viaFetch, 415, /unsupported content type "multipart\/form-data/);
    expect(await meetingCount()).toBe(before);
  });
});

describe('control characters in keys and ids: a 4xx before any query', () => {
  const NUL = 'a\u0000b';

  it.each(['json', 'form'] as Style[])('LiveMinutes meetingKey (%s)', async (style) => {
    for (const method of ['getMeetingStatus', 'getMeetingUrl', 'cancelMeeting', 'addParticipant', 'getParticipantStatus', 'cancelParticipant']) {
      const r = await post<Json>(`${t.url}/${method}`, { meetingKey: NUL, puid: 'p' }, style, basic(acc.accountSid, acc.authToken));
      expectRefused('liveminutes', r, 400, /^meetingKey must not contain control characters$/);
    }
    const puid = await post<Json>(`${t.url}/getParticipantStatus`, { meetingKey: 'known', puid: `p\u0000` }, style, basic(acc.accountSid, acc.authToken));
    expectRefused('liveminutes', puid, 400, /^puid must not contain control characters$/);
    expect((await native('GET', `/meetings/${meetingId}`)).body.cancelledAt).toBeNull();
  });

  it('LiveMinutes: an AccountSid with a NUL is wrong credentials (401)', async () => {
    for (const sid of [`${acc.accountSid}\u0000`, '\u0000', `AC\u0001x`]) {
      const r = await post<Json>(`${t.url}/getMeetingStatus`, { meetingKey: 'known' }, 'form', basic(sid, acc.authToken));
      expectRefused('liveminutes', r, 401, /wrong AccountSid or AuthToken/);
    }
  });

  it.each(['json', 'form', 'text/json'] as Style[])('Livebox conference names (%s)', async (style) => {
    const lb = (op: string, data: Record<string, unknown>) => post<Json>(`${t.url}${LB}/${op}`, { ...lbCreds(), ...data }, style);
    for (const action of ['changeConferenceMode', 'changeConferenceSettings', 'Remove']) {
      expectRefused('livebox', await lb('videoConfSettings', { action, name: NUL, conferenceMode: 'on' }), 400, /^name must not contain control characters$/);
    }
    expectRefused('livebox', await lb('getEmbedCodeofConference', { name: NUL }), 400, /^name must not contain control characters$/);
    expectRefused('livebox', await lb('changeSchedulingMode', { conferenceName: NUL, SchedulingMode: 'off' }), 400, /^conferenceName must not contain control characters$/);
    expectRefused('livebox', await lb('videoConfSettings', { action: 'changeConferenceSettings', name: 'conf', selectPreset: `Preset-1\u0000` }), 400, /^selectPreset must not contain control characters$/);
    expectRefused('livebox', await lb('videoConfSettings', { action: 'get', username: `${acc.apiUsername}\u0000` }), 401, /wrong username or key/);
  });

  it('native path ids and preset names', async () => {
    const pid = (await native('GET', `/meetings/${meetingId}/participants`)).body.data[0].id as string;
    const cases: [string, string, unknown, string][] = [
      ['GET', '/meetings/%00', undefined, 'id'],
      ['PATCH', '/meetings/mtg%00', { title: 'x' }, 'id'],
      ['DELETE', '/meetings/%01', undefined, 'id'],
      ['POST', '/meetings/%00/end', undefined, 'id'],
      ['GET', `/meetings/${meetingId}/participants/%00`, undefined, 'pid'],
      ['DELETE', `/meetings/${meetingId}/participants/par%00`, undefined, 'pid'],
      ['GET', '/presets/%00', undefined, 'id'],
      ['PATCH', '/presets/%00', { chat: false }, 'id'],
      ['GET', '/users/%00', undefined, 'id'],
      ['DELETE', '/users/%00', undefined, 'id'],
      ['POST', `/meetings/${meetingId}/participants`, { externalId: 'x', preset: `Preset-1\u0000` }, 'preset'],
    ];
    for (const [method, path, body, field] of cases) {
      expectRefused('native', await native(method, path, body), 400, /must not contain control characters/, field);
    }
    expect((await native('GET', `/meetings/${meetingId}/participants/${pid}`)).status).toBe(200);
    expectRefused('native', await native('GET', '/admin/accounts/%00', undefined, t.adminToken), 400, /^id must not contain control characters$/, 'id');
    expectRefused('native', await native('GET', '/admin/accounts/%00/users', undefined, t.adminToken), 400, /^id must not contain control characters$/, 'id');
    expectRefused('native', await native('PATCH', `/admin/accounts/${acc.accountId}/users/%00`, { apiPermission: true }, t.adminToken), 400, /^userId must not contain control characters$/, 'userId');
  });

  it('link pages with a control character are simply not found', async () => {
    for (const path of ['/%00', '/ABCD%00EF', '/e/%00', '/embed/%00', '/lbmeeting/?key=%00']) {
      const r = await send(`${t.url}${path}`, {});
      expect(r.status, path).toBe(404);
    }
  });
});

describe('JSON types the documents do not allow', () => {
  const lm = (method: string, data: Record<string, unknown>, style: Style = 'json') =>
    post<Json>(`${t.url}/${method}`, data, style, basic(acc.accountSid, acc.authToken));
  const lb = (data: Record<string, unknown>, style: Style = 'json') => post<Json>(`${t.url}${LB}/videoConfSettings`, { ...lbCreds(), ...data }, style);

  it.each([
    ['duration true', { duration: true }, /^duration must be a number of hours/],
    ['duration false', { duration: false }, /^duration must be a number of hours/],
    ['duration null', { duration: null }, /^duration must be a number of hours/],
    ['hostid true', { hostid: true }, /^hostid must be a string$/],
    ['meetingKey null', { meetingKey: null }, /^meetingKey must be a string$/],
    ['title false', { title: false }, /^title must be a string$/],
    ['meetingKey as an array', { meetingKey: ['a'] }, /^meetingKey must be a string$/],
  ])('LiveMinutes createMeeting refuses %s', async (_name, fields, message) => {
    const before = await meetingCount();
    for (const style of ['json', 'text/json'] as Style[]) {
      expectRefused('liveminutes', await lm('createMeeting', { hostid: 'h', meetingKey: 'typed', ...fields }, style), 400, message);
    }
    expect(await meetingCount()).toBe(before);
  });

  it('LiveMinutes still reads JSON numbers as text and forms as text', async () => {
    const numbers = await lm('createMeeting', { hostid: 42, meetingKey: 7, duration: 1.5 });
    expect(numbers.body, numbers.text).toMatchObject({ resultcode: 1, meetingKey: '7' });
    const m = (await native<{ data: Json[] }>('GET', '/meetings?limit=100')).body.data.find((x) => x.key === '7');
    expect(m!.hostExternalId).toBe('42');
    expect(Date.parse(m!.endsAt) - Date.parse(m!.createdAt)).toBeGreaterThan(5300_000); // 1.5 h from now
    const form = await lm('createMeeting', { hostid: 'h', meetingKey: 'form-typed', duration: '2' }, 'form');
    expect(form.body.resultcode).toBe(1);
  });

  it.each([
    ['pinnumber null', { pinnumber: null }, /^pinnumber must be "true" or "false"$/],
    ['Authentication null', { Authentication: null }, /^Authentication must be "true" or "false"$/],
    ['username_password 1', { username_password: 1 }, /^username_password must be "true" or "false"$/],
    ['selectPreset false', { selectPreset: false }, /^selectPreset must be a string$/],
    ['AllowSignup null', { AllowSignup: null }, /^AllowSignup must be "true", "false" or \{"Preset": "<preset name>"\}$/],
    ['name true', { name: true }, /^name must be a string$/],
    ['conferenceMode false', { action: 'changeConferenceMode', name: 'conf', conferenceMode: false }, /^conferenceMode must be a string$/],
  ])('Livebox videoConfSettings refuses %s', async (_name, fields, message) => {
    const before = await meetingCount();
    expectRefused('livebox', await lb({ action: 'Add', name: 'typed', ...fields }), 400, message);
    expect(await meetingCount()).toBe(before);
  });

  it('Livebox still takes JSON booleans for flags, numbers as text, and form text', async () => {
    const added = await lb({ action: 'Add', name: 12345, Authentication: true, pinnumber: true, pin: 4321 });
    expect(added.body, added.text).toMatchObject({ name: '12345', status: 'Added' });
    const m = (await native<{ data: Json[] }>('GET', '/meetings?limit=100')).body.data.find((x) => x.key === '12345');
    expect(m!.access).toMatchObject({ mode: 'restricted', pin: true });
    const form = await lb({ action: 'changeConferenceSettings', name: '12345', pinnumber: 'false', username_password: 'true' }, 'form');
    expect(form.text).toBe('Changed');
  });

  it('the native API takes no coercion, from JSON or forms', async () => {
    expectRefused('native', await native('POST', '/meetings', { enabled: 'true' }), 400, /^enabled must be a boolean$/, 'enabled');
    expectRefused('native', await native('POST', '/meetings', { title: 5 }), 400, /^title must be a string$/, 'title');
    expectRefused('native', await native('POST', '/meetings', { maxParticipants: '5' }), 400, /maxParticipants/, 'maxParticipants');
    expectRefused('native', await raw('native', 'enabled=true', 'application/x-www-form-urlencoded'), 400, /^enabled must be a boolean$/, 'enabled');
  });
});
