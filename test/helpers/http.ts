/** Small HTTP helpers that send bodies the way integrators do: form, JSON, text/json, multipart. */

export type Style = 'form' | 'json' | 'text/json' | 'multipart';
/** Multipart is what PHP's curl sends for an array in CURLOPT_POSTFIELDS, and fetch for a FormData. */
export const STYLES: Style[] = ['form', 'json', 'text/json', 'multipart'];

export interface Answer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Form encoding with jQuery's nesting: { a: { b: 'c' } } → a[b]=c. */
export function formEncode(data: Record<string, unknown>, prefix = ''): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    const name = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') parts.push(formEncode(v as Record<string, unknown>, name));
    else if (v !== undefined) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`);
  }
  return parts.filter(Boolean).join('&');
}

/** The same fields as multipart/form-data text parts, names nested jQuery-style as formEncode does. */
export function multipartEncode(data: Record<string, unknown>, form = new FormData(), prefix = ''): FormData {
  for (const [k, v] of Object.entries(data)) {
    const name = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') multipartEncode(v as Record<string, unknown>, form, name);
    else if (v !== undefined) form.append(name, String(v));
  }
  return form;
}

/**
 * One part of a hand-written multipart body; `headers` are extra header lines such as a
 * Content-Type; `disposition` replaces the Content-Disposition built from name and filename
 * (null: no Content-Disposition at all).
 */
export interface Part { name?: string; value: string | Buffer; filename?: string; headers?: string[]; disposition?: string | null }

/** PHP's curl (libcurl) writes a boundary like this one and no Content-Type on text parts. */
export const CURL_BOUNDARY = '------------------------d74496d66958873e';

/** A multipart/form-data body written byte by byte, as PHP's curl sends an array given to CURLOPT_POSTFIELDS. */
export function multipartBody(parts: Part[], boundary = CURL_BOUNDARY): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.disposition !== undefined ? p.disposition
      : ['form-data', ...(p.name !== undefined ? [`name="${p.name}"`] : []), ...(p.filename !== undefined ? [`filename="${p.filename}"`] : [])].join('; ');
    const headers = [...(disposition !== null ? [`Content-Disposition: ${disposition}`] : []), ...(p.headers ?? [])];
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`));
    chunks.push(typeof p.value === 'string' ? Buffer.from(p.value) : p.value, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Text fields as hand-written parts, names nested jQuery-style (`AllowSignup[Preset]`). */
export function fieldParts(data: Record<string, unknown>, prefix = ''): Part[] {
  const parts: Part[] = [];
  for (const [k, v] of Object.entries(data)) {
    const name = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') parts.push(...fieldParts(v as Record<string, unknown>, name));
    else if (v !== undefined) parts.push({ name, value: String(v) });
  }
  return parts;
}

export async function post<T = unknown>(url: string, data: Record<string, unknown> | undefined, style: Style, headers: Record<string, string> = {}): Promise<Answer<T>> {
  if (style === 'multipart') {
    // fetch writes the Content-Type with its boundary.
    return send<T>(url, { method: 'POST', headers, body: data === undefined ? undefined : multipartEncode(data) });
  }
  const contentType = style === 'form' ? 'application/x-www-form-urlencoded' : style === 'json' ? 'application/json' : 'text/json';
  const body = data === undefined ? undefined : style === 'form' ? formEncode(data) : JSON.stringify(data);
  return send<T>(url, { method: 'POST', headers: { ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers }, body });
}

export async function send<T = unknown>(url: string, init: RequestInit): Promise<Answer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: res.status, body: body as T, text, headers: res.headers };
}

export const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions

/**
 * The native API as one account calls it: `api('POST', '/meetings', body)`. The server's URL and
 * the token are read at each call (tests set them in beforeAll).
 */
export function nativeApi(server: () => { url: string }, token: () => string) {
  return (method: string, path: string, body?: unknown) => send<Json>(`${server().url}/api/v1${path}`, {
    method, headers: { ...bearer(token()), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
