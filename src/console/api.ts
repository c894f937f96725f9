/** The admin JSON API (/api/v1/admin) as the console calls it: session cookie, CSRF header on changes. */

const BASE = '/api/v1/admin';

/** An answer other than 2xx, with the native error object's code and message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onSignedOut: () => void = () => undefined;

/** What the console does when the session ends under it (expired, signed out elsewhere, restart). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) {
    const error = new ApiError(res.status, json.error?.code ?? 'internal', json.error?.message ?? `the server answered ${res.status}`);
    if (res.status === 401 && path !== '/session') {
      csrfToken = undefined;
      onSignedOut();
    }
    throw error;
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
};

interface SessionState { csrfToken: string; expiresAt: string }

/** Is this browser signed in? (A reload keeps the cookie; the CSRF token is asked for again.) */
export async function resumeSession(): Promise<boolean> {
  try {
    csrfToken = (await call<SessionState>('GET', '/session')).csrfToken;
    return true;
  } catch {
    return false;
  }
}

export async function signIn(token: string): Promise<void> {
  csrfToken = (await call<SessionState>('POST', '/session', { token })).csrfToken;
}

export async function signOut(): Promise<void> {
  await call<void>('DELETE', '/session').catch(() => undefined);
  csrfToken = undefined;
}

/** The message to show for a failed call. */
export const failure = (error: unknown) => (error instanceof Error ? error.message : String(error));
