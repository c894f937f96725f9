import { delivered, type Core, type DueDelivery } from '../core/index.js';
import { sendWebhook, type Send } from './sender.js';

/** The worker's idea of now: due times and retries follow it (tests move it forward). */
export interface Clock {
  now(): Date;
}

export interface WorkerOptions {
  /** Requests in flight at most. */
  concurrency: number;
  /** Per request. */
  timeoutMs: number;
  /** How often the outbox is read when nothing woke the worker (other nodes', retries coming due). */
  pollMs: number;
  clock?: Clock;
  send?: Send;
  onError?: (error: unknown, where: string) => void;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/**
 * Sends what the core says is due, with bounded concurrency, and reports every attempt back to
 * the core (which decides on retries). Woken by new events, and polls for retries. `stop` takes
 * nothing new and waits for the requests in flight.
 */
export class WebhookWorker {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly send: Send;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private looking = false;
  private lookAgain = false;
  private stopped = true;
  /** Attempts sent by this process, by how they ended (metrics). */
  readonly attempts = { delivered: 0, failed: 0 };

  constructor(private readonly core: Core, private readonly options: WorkerOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.send = options.send ?? sendWebhook;
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.core.events.on('webhooks.queued', () => this.kick());
    this.kick();
  }

  /** Look at the outbox now (new events, or a clock moved forward). */
  kick(): void {
    if (this.stopped) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    void this.look();
  }

  /** Deliveries being sent now. */
  get busy(): number {
    return this.inFlight.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private async look(): Promise<void> {
    this.looking = true;
    try {
      do {
        this.lookAgain = false;
        const free = this.options.concurrency - this.inFlight.size;
        // Held past the request's timeout: if this process dies mid-request, it is due again then.
        const jobs = await this.core.webhooks.dispatch.claimDue(this.clock.now(), free, this.options.timeoutMs + 60_000);
        for (const job of jobs) this.run(job);
      } while (this.lookAgain && !this.stopped);
    } catch (error) {
      this.options.onError?.(error, 'webhook outbox');
    } finally {
      this.looking = false;
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), this.options.pollMs);
        this.timer.unref();
      }
    }
  }

  private run(job: DueDelivery): void {
    const task = (async () => {
      const outcome = await this.send(job, this.options.timeoutMs);
      if (delivered(outcome)) this.attempts.delivered++;
      else this.attempts.failed++;
      await this.core.webhooks.dispatch.record(job, outcome, this.clock.now());
    })()
      .catch((error: unknown) => this.options.onError?.(error, `webhook delivery ${job.delivery.id}`))
      .finally(() => {
        this.inFlight.delete(task);
        this.kick(); // a slot is free
      });
    this.inFlight.add(task);
  }
}
