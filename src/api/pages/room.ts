import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { EMBED_SCRIPT_PATH, type RoomBootstrap } from '../../protocol/messages.js';
import { loadAssets, type Assets } from '../http/assets.js';
import { escapeHtml } from '../http/html.js';

// The same path from src/api/pages (tests) and dist/api/pages (built): <root>/dist/web.
const WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));
const PLACEHOLDER = '<!--PARLEY_BOOTSTRAP-->';

/** The built meeting room (Vite → dist/web): its page template and hashed assets, held in memory. */
export class RoomApp {
  /** The room's built stylesheets (hashed paths under /room-assets/): the link pages wear them too. */
  readonly stylesheets: readonly string[];

  private constructor(
    private readonly template: string,
    private readonly assets: Assets,
    private readonly embedScript: Buffer | undefined,
  ) {
    this.stylesheets = [...template.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*>/g)]
      .map((tag) => /\bhref="([^"]+)"/.exec(tag[0])?.[1])
      .filter((href): href is string => href !== undefined);
  }

  /** undefined when the room has not been built (`npm run build`). */
  static load(dir = WEB_DIR): RoomApp | undefined {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) return undefined;
    const template = readFileSync(index, 'utf8');
    if (!template.includes(PLACEHOLDER)) throw new Error(`${index} lacks the ${PLACEHOLDER} placeholder`);
    const assets = loadAssets(join(dir, 'room-assets'));
    const embed = join(dir, 'parley-embed.js');
    return new RoomApp(template, assets, existsSync(embed) ? readFileSync(embed) : undefined);
  }

  /** The room page for one link, with what the app needs to start. */
  page(bootstrap: RoomBootstrap): string {
    // JSON inside <script>: `<` escaped so no text can close the element.
    const json = JSON.stringify(bootstrap).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
    // Replacer functions: a replacement string would read `$&`, `$'`, `$$`… in a title or a name.
    const script = `<script type="application/json" id="parley-bootstrap">${json}</script>`;
    const title = `<title>${escapeHtml(bootstrap.meeting.title)} · Parley</title>`;
    return this.template.replace(PLACEHOLDER, () => script).replace(/<title>[^<]*<\/title>/, () => title);
  }

  register(app: FastifyInstance): void {
    const script = this.embedScript;
    if (script) {
      // Loaded by <script src> from integrators' pages; not hashed, so cached briefly.
      app.get(EMBED_SCRIPT_PATH, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(script));
    }
    app.get<{ Params: { '*': string } }>('/room-assets/*', async (request, reply) => {
      const asset = this.assets.get(request.params['*']);
      if (!asset) return reply.status(404).type('text/plain').send('not found');
      return reply.type(asset.type).header('Cache-Control', 'public, max-age=31536000, immutable').send(asset.body);
    });
  }
}
