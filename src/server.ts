import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import pino from 'pino';
import { buildApp } from './api/http/app.js';
import { RoomApp } from './api/pages/room.js';
import { addressDetector, loadConfig, loadSecret, type Config } from './config.js';
import { Core, type AccountCredentials } from './core/index.js';
import { MediaService } from './media/index.js';
import { MediaControl } from './signaling/media-control.js';
import { SignalingServer } from './signaling/server.js';
import { openStore, type Store } from './store/index.js';

export interface RunningServer {
  app: FastifyInstance;
  log: pino.Logger;
  core: Core;
  store: Store;
  /** Absent when MEDIA_WORKERS=0. */
  media?: { service: MediaService; control: MediaControl; signaling: SignalingServer };
  config: Config;
  /** The address the server listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Shown once, on the first start of an empty database. */
  firstStart?: { demo: AccountCredentials; adminToken: string };
  close(): Promise<void>;
}

export interface ServerOptions {
  config?: Config;
  /** pino options, or false for silence (tests). */
  logger?: boolean | { level: string };
  env?: NodeJS.ProcessEnv;
}

/** Builds the core over the configured store (shared by the server and the CLI). */
export async function openCore(config: Config, env: NodeJS.ProcessEnv = process.env, onError?: (error: unknown, where: string) => void) {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const core = new Core({
    store,
    publicUrl: config.publicUrl,
    secret: loadSecret(config, env),
    timeZone: config.timeZone,
    maxMeetings: config.maxMeetings,
    maxUsers: config.maxUsers,
    detectAddresses: addressDetector(config),
    scheduleGraceMs: config.scheduleGraceMs,
    idleTimeoutMs: config.idleTimeoutMs,
    onError,
  });
  return { store, core };
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(env);
  const log = options.logger === false
    ? pino({ level: 'silent' })
    : pino({ level: typeof options.logger === 'object' ? options.logger.level : config.logLevel, redact: ['req.headers.authorization'] });

  let app: FastifyInstance | undefined;
  let media: RunningServer['media'];
  const { store, core } = await openCore(config, env, (error, where) => log.error({ err: error }, `error in ${where}`));
  try {
    await core.start();
    let firstStart: RunningServer['firstStart'];
    const adminToken = await core.admin.ensureToken();
    if ((await core.accounts.list()).length === 0) {
      const { credentials } = await core.accounts.create({ name: 'Demo' });
      if (adminToken) firstStart = { demo: credentials, adminToken };
    }
    app = await buildApp({
      core, bodyLimit: config.bodyLimit, log, trustProxy: env.TRUST_PROXY === 'true' ? true : env.TRUST_PROXY || false,
      room: RoomApp.load(),
    });
    if (config.mediaWorkers > 0) {
      const service = new MediaService({
        workers: config.mediaWorkers, listenIp: config.rtcListenIp, announcedAddresses: core.service.addresses,
        rtcMinPort: config.rtcMinPort, rtcMaxPort: config.rtcMaxPort, iceServers: config.iceServers,
      }, { info: (o, m) => log.info(o, m), warn: (o, m) => log.warn(o, m), error: (o, m) => log.error(o, m) });
      const signaling = new SignalingServer({ core, media: service, log, iceServers: config.iceServers, idleTimeoutMs: config.idleTimeoutMs, resumeWindowMs: config.resumeWindowMs });
      // In its own scope: the WebSocket plugin hooks every request of the scope it is in.
      await app.register(async (rtc) => {
        await rtc.register(websocket, { options: { maxPayload: 512 * 1024 } });
        signaling.register(rtc);
      });
      const control = new MediaControl(core, service, signaling, log);
      await control.start();
      media = { service, control, signaling };
    }
    await app.listen({ port: config.port, host: config.host });
    log.info({ address: app.server.address() }, 'listening');
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    if (config.publicUrlFromPort) core.links.rebase(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    const running = app;
    return {
      app: running, log, core, store, config, firstStart, media,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      async close() {
        await media?.signaling.close();
        await media?.control.close();
        await running.close();
        await core.stop();
        await store.close();
      },
    };
  } catch (error) {
    await media?.control.close();
    await app?.close();
    await core.stop();
    await store.close();
    throw error;
  }
}
