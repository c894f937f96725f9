import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A value read at scrape time: one number, or one number per label set. */
export type Sample = number | { labels: Record<string, string | number>; value: number }[];
export type SampleReader = () => Sample | Promise<Sample>;

/** Seconds: API answers are mostly sub-millisecond (cached reads) to a few hundred ms (argon2, media). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Parley's Prometheus metrics: one prom-client Registry per server (never the global one, so
 * several servers in one process do not clash). Values that live elsewhere (the store, signaling,
 * media workers, webhooks) are read at scrape time through sources registered here; only the
 * API latency histogram is written as requests happen.
 *
 * A later module plugs in with:
 *   metrics.registerGaugeSource('parley_webhook_queue_depth', 'Webhook deliveries waiting', () => outbox.pending());
 *   metrics.registerCounterSource('parley_webhook_delivery_failures_total', 'Failed webhook attempts', () => outbox.failures());
 * A reader may be async and may return labelled samples: `[{ labels: { endpoint: 'e1' }, value: 3 }]`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code' | 'surface'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.httpDuration = new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'API answer time by route pattern (never the raw URL), method, status code and API surface',
      labelNames: ['method', 'route', 'status_code', 'surface'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** A gauge whose value is read from `read` at each scrape. */
  registerGaugeSource(name: string, help: string, read: SampleReader, labelNames: string[] = []): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      async collect() {
        apply(this, await read(), (labels, value) => this.set(labels, value));
      },
    });
  }

  /**
   * A counter whose running total is read from `read` at each scrape (a total kept elsewhere: a
   * worker's packets, failed deliveries in the database). It may restart from 0 when its owner
   * restarts (a respawned worker); Prometheus's rate() treats that as a reset.
   */
  registerCounterSource(name: string, help: string, read: SampleReader, labelNames: string[] = []): void {
    new Counter({
      name, help, labelNames, registers: [this.registry],
      async collect() {
        const sample = await read();
        this.reset();
        apply(this, sample, (labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function apply(metric: Gauge | Counter, sample: Sample, write: (labels: Record<string, string | number>, value: number) => void): void {
  if (typeof sample === 'number') {
    write({}, sample);
    return;
  }
  // Label sets that disappeared (a closed worker) must not linger with their last value.
  metric.reset();
  for (const { labels, value } of sample) write(labels, value);
}
