import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

export type Assets = Map<string, { body: Buffer; type: string }>;

/** A Vite build's hashed files under `dir` (by path relative to it), held in memory. */
export function loadAssets(dir: string): Assets {
  const assets: Assets = new Map();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name.split('\\').join('/'), { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}
