import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { loadAssets, type Assets } from '../http/assets.js';

// The same path from src/api/console (tests) and dist/api/console (built): <root>/dist/console.
const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

/** The console's page and assets are ours alone: no framing, no inline script, no other origin. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/** Where the console is served, and its hashed assets (vite.config.ts builds them there). */
export const CONSOLE_PATH = '/admin';

/**
 * The operator console (Preact, built by Vite from src/console into dist/console): one page at
 * /admin that calls the admin API (/api/v1/admin) with its session cookie.
 */
export class ConsoleApp {
  private constructor(private readonly page: Buffer, private readonly assets: Assets) {}

  /** undefined when the console has not been built (`npm run build`). */
  static load(dir = CONSOLE_DIR): ConsoleApp | undefined {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) return undefined;
    return new ConsoleApp(readFileSync(index), loadAssets(join(dir, 'assets')));
  }

  register(app: FastifyInstance): void {
    const secure = (reply: FastifyReply) => reply
      .header('Content-Security-Policy', CSP)
      .header('X-Frame-Options', 'DENY')
      .header('Referrer-Policy', 'no-referrer')
      .header('X-Content-Type-Options', 'nosniff');
    for (const path of [CONSOLE_PATH, `${CONSOLE_PATH}/`]) {
      app.get(path, async (_request, reply) => secure(reply).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(this.page));
    }
    app.get<{ Params: { '*': string } }>(`${CONSOLE_PATH}/assets/*`, async (request, reply) => {
      const asset = this.assets.get(request.params['*']);
      if (!asset) return secure(reply).status(404).type('text/plain').send('not found');
      return secure(reply).type(asset.type).header('Cache-Control', 'public, max-age=31536000, immutable').send(asset.body);
    });
  }
}
