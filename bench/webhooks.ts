/**
 * Webhook throughput, for npm run bench:api: events delivered per second from Parley's outbox to
 * a local receiver (this process, 127.0.0.1). Events are `ping`s queued through the API: each goes
 * through the same outbox, claim, signed POST and recorded attempt as a meeting's events.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface WebhookRow { events: number; seconds: number; perSecond: number; queueSeconds: number }

export async function webhookThroughput(parleyUrl: string, apiToken: string, events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000)): Promise<WebhookRow> {
  let received = 0;
  let allIn: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { allIn = resolve; });
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204).end();
      if (++received === events) allIn();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
  try {
    const created = await fetch(`${parleyUrl}/api/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook` }) });
    if (!created.ok) throw new Error(`webhook setup failed: ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    const started = performance.now();
    // Queued 20 at a time: the API answers once the event is in the outbox.
    for (let sent = 0; sent < events; sent += 20) {
      await Promise.all(Array.from({ length: Math.min(20, events - sent) }, async () => {
        const r = await fetch(`${parleyUrl}/api/v1/webhooks/${id}/ping`, { method: 'POST', headers: { authorization: headers.authorization } });
        if (r.status !== 202) throw new Error(`ping refused: ${r.status} ${await r.text()}`);
      }));
    }
    const queued = performance.now();
    const timeout = setTimeout(() => allIn(), 120_000);
    await done;
    clearTimeout(timeout);
    const seconds = (performance.now() - started) / 1000;
    if (received < events) throw new Error(`only ${received} of ${events} webhook events arrived within 2 minutes`);
    return { events, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(events / seconds), queueSeconds: Math.round((queued - started) / 10) / 100 };
  } finally {
    receiver.close();
  }
}

/**
 * What webhooks and metrics leave on a server's request path: a webhook endpoint registered (a
 * local receiver) and metrics on. Events are not generated during the measurement (their cost is
 * the throughput row's), and scrapes are timed apart (scrapeMs): a scrape every second inside a
 * 10 s round would charge a whole scrape to a few seconds of requests.
 */
export async function registerEndpoint(parleyUrl: string, apiToken: string): Promise<() => void> {
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  const created = await fetch(`${parleyUrl}/api/v1/webhooks`, {
    method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: `http://127.0.0.1:${port}/extras` }),
  });
  if (!created.ok) throw new Error(`webhook setup failed: ${await created.text()}`);
  return () => receiver.close();
}

/** The median time of `n` scrapes of /metrics, in ms, as a client sees it. */
export async function scrapeMs(parleyUrl: string, n = 15): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await (await fetch(`${parleyUrl}/metrics`)).text();
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(n / 2)]! * 10) / 10;
}
