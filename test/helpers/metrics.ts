import { bearer, send } from './http.js';

/** One sample of Prometheus' text format: name{labels} value. */
export interface PromSample { name: string; labels: Record<string, string>; value: number }

export function parseMetrics(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Scrapes `url`/metrics and sums each metric over its label sets (or those matching `where`). */
export async function scrape(url: string, token?: string) {
  const res = await send(`${url}/metrics`, { headers: token ? bearer(token) : {} });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.text}`);
  const samples = parseMetrics(res.text);
  return {
    text: res.text,
    samples,
    sum(name: string, where: Record<string, string> = {}): number {
      return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
        .reduce((total, s) => total + s.value, 0);
    },
  };
}
