import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the event as parsed JSON, read in assertions
  event: Record<string, any>;
  /** Whether Parley-Signature matched the body under `secret` (checked as docs/webhooks.md shows). */
  verified: boolean;
}

/** Checks a Parley-Signature header the way a receiver would, independently of the server's code. */
export function verify(secret: string, body: string, header: string | undefined, toleranceSeconds = 300): boolean {
  const fields = new Map((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(fields.get('t'));
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(fields.get('v1') ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A webhook receiver on 127.0.0.1; `status` decides each answer (default 200). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  secret = '';
  status: (r: Received) => number = () => 200;
  private server?: Server;

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['parley-signature'];
        const r: Received = { headers: req.headers, body, event: JSON.parse(body), verified: verify(this.secret, body, typeof header === 'string' ? header : undefined) };
        this.received.push(r);
        res.writeHead(this.status(r)).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.event.type === type);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
