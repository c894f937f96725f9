import type { AttemptOutcome, DueDelivery } from '../core/index.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export type Send = (job: DueDelivery, timeoutMs: number) => Promise<AttemptOutcome>;

/** Why a request got no answer, in words for the deliveries list (never the secret or the body). */
function failure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code) return `${code}: ${(e.cause?.message ?? '').slice(0, 200)}`;
  return (e?.cause?.message ?? e?.message ?? String(error)).slice(0, 200);
}

/**
 * One signed POST of a delivery's body. Any 2xx is delivered; redirects are not followed (the
 * endpoint's URL is the one to call); the answer's body is not read.
 */
export const sendWebhook: Send = async (job, timeoutMs) => {
  const started = performance.now();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Parley-Webhooks/1',
    [SIGNATURE_HEADER]: signatureHeader(job.secret, job.body, Math.floor(Date.now() / 1000)),
    'Parley-Event-Id': job.delivery.eventId,
    'Parley-Event-Type': job.delivery.eventType,
    'Parley-Delivery-Id': job.delivery.id,
  };
  try {
    const res = await fetch(job.url, { method: 'POST', body: job.body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    const redirect = res.status >= 300 && res.status < 400;
    return { statusCode: res.status, error: redirect ? 'redirects are not followed: give the final URL' : null, durationMs: performance.now() - started };
  } catch (error) {
    return { statusCode: null, error: failure(error, timeoutMs), durationMs: performance.now() - started };
  }
};
