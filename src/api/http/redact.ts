/** Paths whose last segment is a credential (personal links, conference keys): never logged. */
export function redactUrl(url: string): string {
  return url
    .replace(/\/(e|embed)\/[^/?#]+/g, '/$1/[redacted]')
    .replace(/([?&](key|token|resume)=)[^&#]*/g, '$1[redacted]');
}
