/**
 * The LiveMinutes document's own client code against a started server: its Python example
 * (urllib2 in the document; here Python 3's urllib.request, which raises HTTPError on any 4xx
 * just as urllib2 did) must read `resultcode`, also when the AuthToken is wrong.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, post } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

// The document's example: a Request, its Basic header built with base64, then urlopen. Python 3
// has no base64.encodestring (it was encodebytes, which also wraps long lines): b64encode writes
// the same text on one line.
const EXAMPLE = `
import base64, json, sys
import urllib.parse, urllib.request

url, username, password, meeting_key = sys.argv[1:5]
req = urllib.request.Request(url + "/getMeetingStatus", data=urllib.parse.urlencode({"meetingKey": meeting_key}).encode())
base64string = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
req.add_header("Authorization", "Basic %s" % base64string)
response = urllib.request.urlopen(req)
result = json.loads(response.read())
print(json.dumps({"http": response.status, "resultcode": result["resultcode"], "message": result.get("message")}))
`;

let t: TestServer;
let acc: AccountCredentials;
beforeAll(async () => {
  t = await startTestServer();
  acc = await t.newAccount('python');
  const created = await post<{ resultcode: number }>(`${t.url}/createMeeting`, { meetingKey: 'py', hostid: 'h' }, 'form', basic(acc.accountSid, acc.authToken));
  expect(created.body.resultcode).toBe(1);
});
afterAll(async () => { await t?.close(); });

async function python(token: string, meetingKey = 'py'): Promise<{ http: number; resultcode: number; message: string | null }> {
  const { stdout } = await run('python3', ['-c', EXAMPLE, t.url, acc.accountSid, token, meetingKey], { timeout: 20_000 });
  return JSON.parse(stdout) as { http: number; resultcode: number; message: string | null };
}

describe("the document's Python urllib example", () => {
  it('reads resultcode 0 and the message on a wrong AuthToken, instead of raising HTTPError', async () => {
    expect(await python(`${acc.authToken}x`)).toEqual({ http: 200, resultcode: 0, message: 'wrong AccountSid or AuthToken' });
  });

  it('reads resultcode 0 for an unknown meeting, and 1 with the right credentials', async () => {
    expect(await python(acc.authToken, 'nope')).toMatchObject({ http: 200, resultcode: 0, message: expect.stringMatching(/no meeting/) });
    expect(await python(acc.authToken)).toEqual({ http: 200, resultcode: 1, message: null });
  });
});
