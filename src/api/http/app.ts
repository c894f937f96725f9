import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pino from 'pino';
import { LazyRequestLogger } from '../../logging.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Core } from '../../core/index.js';
import type { ConsoleApp } from '../console/app.js';
import { liveboxApi, LIVEBOX_PREFIX } from '../livebox/routes.js';
import { liveMinutesApi, liveMinutesStatus } from '../liveminutes/routes.js';
import { adminRoutes } from '../native/admin.js';
import { accountRoutes, nativeConventions } from '../native/routes.js';
import { recordingFileRoute } from '../native/recordings.js';
import { ErrorResponse } from '../native/schemas.js';
import { linkPages } from '../pages/routes.js';
import type { RoomApp } from '../pages/room.js';
import { renderNotFound } from '../pages/render.js';
import { registerBodyParsers } from './body.js';
import { exposeTo } from './cors.js';
import { corsSurfaceOf, registerPreflight } from './preflight.js';
import { DOCS_THEME } from './docs-theme.js';
import { metricsRoutes } from './metrics.js';
import { redactUrl } from './redact.js';
import type { Metrics } from '../../metrics/registry.js';

export interface AppOptions {
  core: Core;
  bodyLimit: number;
  /** A pino logger. Request lines are written only when it logs at info or below. */
  log: FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
  /** true, a hop count, or proxy addresses/CIDRs (see parseTrustProxy in server.ts). */
  trustProxy?: boolean | string[] | ((address: string, hop: number) => boolean);
  version?: string;
  /** The built meeting room; without it, joinable links show a state page. */
  room?: RoomApp;
  /** The built operator console, served at /admin. */
  console?: ConsoleApp;
  /** LIVEMINUTES_HTTP_ERRORS: LiveMinutes failures with HTTP error statuses instead of 200. */
  liveMinutesHttpErrors?: boolean;
  /** Serves GET /metrics and measures API latency. */
  metrics?: Metrics;
  /** METRICS_TOKEN: a scrape needs it as a Bearer token; without it, only loopback may scrape. */
  metricsToken?: string;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * Every request's id (in its log lines, its audit entry and the X-Request-Id answer header). A
 * proxy's X-Request-Id is kept when the proxy is trusted (TRUST_PROXY) and the id is short and
 * plain, so its logs and ours meet; otherwise it is ours: this process's random prefix and a
 * counter (unique across processes and restarts, and cheaper per request than a UUID each).
 */
function requestIds(trusted: boolean): (req: IncomingMessage) => string {
  const prefix = randomUUID().slice(0, 13).replace('-', '');
  let n = 0;
  return (req) => {
    const given = trusted ? req.headers['x-request-id'] : undefined;
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : `${prefix}-${(++n).toString(36)}`;
  };
}


export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { core } = options;
  const { log } = options;
  const app = Fastify({
    // Each request gets a child of this logger with its reqId (request.log); the auth hooks add
    // the account, the audit hook the meeting. Request lines come from the hook below, only when
    // the level asks for them.
    loggerInstance: log as FastifyBaseLogger, // the app is typed with Fastify's base logger
    logController: new LogController({ disableRequestLogging: true }),
    // A request's logger is made only if the request logs (see LazyRequestLogger).
    childLoggerFactory: (logger, bindings, childOptions) => new LazyRequestLogger(logger as unknown as pino.Logger, bindings, childOptions) as unknown as FastifyBaseLogger,
    genReqId: requestIds(Boolean(options.trustProxy)),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy ?? false,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, verbose: true } },
  });
  registerBodyParsers(app);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  if (options.metrics) metricsRoutes(app, options.metrics, options.metricsToken);
  if (log.isLevelEnabled('info')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info({ req: { method: request.method, url: redactUrl(request.url), ip: request.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
      done();
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley native API',
        version: options.version ?? '1',
        description: 'Resource-oriented JSON API for meetings, participants, presets, users and the media service. '
          + 'Authenticate with `Authorization: Bearer <API token>`. Errors are `{"error": {"code", "message", "details"}}`. '
          + 'Lists are paged with `limit` and `cursor`; creations accept an `Idempotency-Key` header.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'meetings' }, { name: 'participants' },
        { name: 'live', description: 'Who is in a meeting now; mute, remove, admit and decline, as a host in the room' },
        { name: 'presets' }, { name: 'users' },
        { name: 'recordings', description: 'Recordings of meetings: raw tracks as they arrived and one composed MP4 (docs/recording.md)' },
        { name: 'webhooks', description: 'Signed HTTP callbacks for what happens in meetings (docs/webhooks.md), with every delivery attempt visible' },
        { name: 'account' }, { name: 'service' }, { name: 'audit', description: 'Every change made through any API, by whom, with its outcome' }, { name: 'admin', description: 'Operator endpoints: the admin token as a Bearer token, or the console’s session cookie (changes also need its X-CSRF-Token header)' },
      ],
    },
    hideUntagged: true, // the legacy surfaces and pages are documented in docs/, not here
    // Shared schemas (the error object) appear under their $id in components.schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { docExpansion: 'list', deepLinking: true }, ...DOCS_THEME });

  registerPreflight(app, core);
  await app.register(liveMinutesApi, { core, log, httpErrors: options.liveMinutesHttpErrors });
  await app.register(liveboxApi, { core, log, prefix: LIVEBOX_PREFIX });
  await app.register(async (api) => {
    nativeConventions(api, log);
    api.addSchema(ErrorResponse);
    api.get('/openapi.json', async () => app.swagger());
    // The signed link is its own credential: outside the Bearer scope.
    await api.register(async (files) => recordingFileRoute(files, core));
    await api.register(accountRoutes, { core, log });
    await api.register(adminRoutes, { core, log, prefix: '/admin' });
  }, { prefix: '/api/v1' });
  options.console?.register(app);
  await app.register(linkPages, { core, room: options.room });

  app.get('/healthz', async () => ({ status: 'ok' }));
  // Ready: the database answers, and media runs unless the operator stopped it. mediaService is
  // the workers' real state (running, starting, stopping, stopped, failed).
  app.get('/readyz', async (_request, reply) => {
    try {
      await core.ping();
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
    const service = core.service.status();
    const mediaService = service.media?.state ?? (service.enabled ? 'running' : 'stopped');
    const media = service.media ? { media: service.media } : {};
    if (service.enabled && !service.running) {
      const why = service.media?.error ? `: ${service.media.error}` : '';
      return reply.status(503).send({ status: 'unavailable', reason: `the media workers are ${mediaService}${why}`, mediaService, ...media });
    }
    // Started, but every worker crashed and is being respawned: no media until one is back.
    if (service.enabled && service.media?.state === 'running' && service.media.alive === 0) {
      const reason = `no media worker is alive (${service.media.workers} crashed and ${service.media.workers === 1 ? 'is' : 'are'} being restarted)`;
      return reply.status(503).send({ status: 'unavailable', reason, mediaService, ...media });
    }
    return { status: 'ready', mediaService, ...media };
  });

  // Unknown paths answer in the shape of the surface they were aimed at.
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0];
    if (corsSurfaceOf(path)) exposeTo(core, request, reply, undefined);
    if (path.startsWith('/api/')) {
      return reply.status(404).send({ error: { code: 'not_found', message: `no such endpoint: ${request.method} ${path}`, details: {} } });
    }
    if (path.startsWith('/livebox/')) {
      return reply.status(404).send({ status: 'error', code: 'not_found', message: `no such operation: ${path}` });
    }
    if (request.method === 'POST') {
      return reply.status(liveMinutesStatus(options.liveMinutesHttpErrors, 404)).send({ resultcode: 0, message: `no such method: ${path}` });
    }
    return reply.status(404).type('text/html; charset=utf-8').send(renderNotFound({ stylesheets: options.room?.stylesheets ?? [] }));
  });

  return app;
}
