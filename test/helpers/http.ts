/** Small HTTP helpers that send bodies the way integrators do: form, JSON, text/json. */

export type Style = 'form' | 'json' | 'text/json';
export const STYLES: Style[] = ['form', 'json', 'text/json'];

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

export async function post<T = unknown>(url: string, data: Record<string, unknown> | undefined, style: Style, headers: Record<string, string> = {}): Promise<Answer<T>> {
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
