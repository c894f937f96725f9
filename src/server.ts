import type { FastifyInstance } from 'fastify';
import { isIP } from 'node:net';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import type pino from 'pino';
import { buildApp } from './api/http/app.js';
import { ConsoleApp } from './api/console/app.js';
import { RoomApp } from './api/pages/room.js';
import { addressDetector, loadConfig, loadSecret, type Config } from './config.js';
import { Core, type AccountCredentials } from './core/index.js';
import { MediaService, type MediaLogger } from './media/index.js';
import { MediaControl } from './signaling/media-control.js';
import { SignalingServer } from './signaling/server.js';
import { roomRoutes } from './api/room/routes.js';
import { openStore, type Store } from './store/index.js';
import { WebhookWorker, type Clock } from './webhooks/worker.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Composer } from './recording/composer.js';
import { createLogger, logFormat } from './logging.js';
import { joinCluster, type ClusterNode } from './cluster/index.js';
import type { Coordination } from './core/index.js';
import { Metrics } from './metrics/registry.js';
import { clusterSources, coreSources, mediaSources, signalingSources, webhookSources } from './metrics/sources.js';

export interface RunningServer {
  app: FastifyInstance;
  log: pino.Logger;
  core: Core;
  store: Store;
  /** Sends webhook deliveries from the outbox. */
  webhooks: WebhookWorker;
  /** Composes recordings with ffmpeg. */
  composer: Composer;
  /** Absent when MEDIA_WORKERS=0. */
  media?: { service: MediaService; control: MediaControl; signaling: SignalingServer };
  /** This node's part in a cluster (REDIS_URL); absent for a single node. */
  cluster?: ClusterNode;
  /** GET /metrics; a later module adds its own with metrics.registerGaugeSource / registerCounterSource. */
  metrics: Metrics;
  config: Config;
  /** The address the server listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Secrets this start created, to be shown once: the admin token when none existed yet, the
   * demo account's credentials when there was no account yet (each may exist already: the CLI
   * can create an account or rotate the admin token before the first serve).
   */
  firstStart?: { demo?: AccountCredentials; adminToken?: string };
  /**
   * Stops the server. `restart`: it is coming back (SIGTERM): joins stop, the people in its rooms
   * are handed tokens to take their seats again on the next process, and nobody is recorded as
   * having left; without it everyone's session ends here.
   */
  close(opts?: { restart?: boolean }): Promise<void>;
  /**
   * A cluster's node stops taking new meetings (the others are told at once) and resolves once
   * nobody is in its rooms ('empty') or when `cut` aborts ('cut': a grace period's end, a second
   * signal). With one node it resolves at once: there is nowhere else for meetings to go.
   */
  drain(cut: AbortSignal): Promise<'empty' | 'cut'>;
}

/** A shutdown step that takes longer than this is logged, again each time this passes. */
const SLOW_STEP_MS = 5000;

/** How often a draining node looks whether its rooms are empty. */
const DRAIN_LOOK_MS = 500;

export interface ServerOptions {
  config?: Config;
  /** pino options, or false for silence (tests). */
  logger?: boolean | { level: string };
  env?: NodeJS.ProcessEnv;
  /** The webhook worker's clock (tests move it forward instead of waiting for retries). */
  webhookClock?: Clock;
  /** The clock TURN credentials expire by (tests). */
  turnClock?: () => Date;
  /** The clock recording download links expire by (tests move it forward). */
  recordingClock?: () => number;
  /** Builds the media plane (tests pass a TestMediaService for fault injection). */
  mediaService?: (config: ConstructorParameters<typeof MediaService>[0], logger: ConstructorParameters<typeof MediaService>[1]) => MediaService;
}

/** Builds the core over the configured store (shared by the server and the CLI). */
export async function openCore(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  onError?: (error: unknown, where: string) => void,
  extras: { turnClock?: () => Date; recordingClock?: () => number; coordination?: Coordination } = {},
) {
  const { turnClock, recordingClock, coordination } = extras;
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, onError: (error) => onError?.(error, 'the database pool') });
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
    joinTokenTtlMs: config.joinTokenTtlMs,
    webhooks: { retry: { baseMs: config.webhooks.retryBaseMs } },
    recordingsDir: join(config.dataDir, 'recordings'),
    recordingClock,
    corsOrigins: config.corsOrigins,
    rateLimitPerMinute: config.rateLimitPerMinute,
    turn: config.turn,
    turnClock,
    coordination,
    onError,
  });
  return { store, core };
}

/**
 * TRUST_PROXY: which X-Forwarded-For entries to believe. Each proxy appends the address it saw,
 * so only the right-most entries written by one's own proxies are true; everything to their left
 * is whatever the client sent. A number is how many proxies stand in front (the address that
 * many hops from the server is the client's); a list names the proxies (addresses, CIDRs, or
 * proxy-addr's `loopback`, `linklocal`, `uniquelocal`). `true` believes the left-most entry,
 * which the client chooses: per-address limits then mean nothing. A hop count cannot check who
 * the peer is: use it only when clients cannot reach the server but through the proxies.
 */
export function parseTrustProxy(value: string | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 32) throw new Error(`TRUST_PROXY: ${v} proxies in a row is not believable; give a hop count up to 32`);
    // proxy-addr walks from the socket's peer (hop 0) leftwards through X-Forwarded-For; the
    // first untrusted hop is the client. (Fastify's own numeric setting trusts no hop at all.)
    return (_address, hop) => hop < hops;
  }
  return v.split(',').map((entry) => {
    const e = entry.trim();
    if (e === 'loopback' || e === 'linklocal' || e === 'uniquelocal') return e;
    const [address, prefix, ...rest] = e.split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || rest.length > 0) {
      throw new Error(`TRUST_PROXY: "${e}" is not a proxy address or CIDR; use a hop count (e.g. 1), a comma-separated list of addresses/CIDRs, true or false`);
    }
    return e;
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(env);
  const log = options.logger === false
    ? createLogger('silent', 'json')
    : createLogger(typeof options.logger === 'object' ? options.logger.level : config.logLevel, logFormat(config.logFormat));
  const metrics = new Metrics();

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (trustProxy === true) {
    log.warn('TRUST_PROXY=true believes the left-most X-Forwarded-For address, which any client can write: '
      + 'per-address limits (wrong PINs, passwords, joins) can be dodged. Set the number of proxies (e.g. TRUST_PROXY=1) or their addresses instead.');
  }

  let app: FastifyInstance | undefined;
  let media: RunningServer['media'];
  const onError = (error: unknown, where: string) => log.error({ err: error }, `error in ${where}`);
  const cluster = config.cluster
    ? await joinCluster(config.cluster, config.cluster.nodePublicUrl ?? config.publicUrl, (error) => onError(error, 'the Redis connection'),
      (draining) => log.info(draining ? 'draining: no new meetings here; the running ones go on until they end' : 'drain taken back: this node takes new meetings again'))
    : undefined;
  const { store, core } = await openCore(config, env, onError, { turnClock: options.turnClock, recordingClock: options.recordingClock, coordination: cluster?.coordination });
  const { timeoutMs, concurrency, pollMs } = config.webhooks;
  const webhooks = new WebhookWorker(core, { timeoutMs, concurrency, pollMs, clock: options.webhookClock, onError });
  const composer = new Composer(core, { ...config.recordings, filesHereOnly: config.cluster !== undefined, onError });
  try {
    await core.start();
    await cluster?.relay(core);
    const adminToken = await core.admin.ensureToken();
    let demo: AccountCredentials | undefined;
    if ((await core.accounts.list()).length === 0) {
      // The operator's own account: it may control the service.
      demo = (await core.accounts.create({ name: 'Demo', serviceControl: true })).credentials;
    }
    const firstStart: RunningServer['firstStart'] = adminToken || demo ? { adminToken, demo } : undefined;
    app = await buildApp({
      core, bodyLimit: config.bodyLimit, log, trustProxy,
      room: RoomApp.load(), console: ConsoleApp.load(), liveMinutesHttpErrors: config.liveMinutesHttpErrors,
      ...(config.metricsOff ? {} : { metrics, metricsToken: config.metricsToken }),
    });
    coreSources(metrics, core);
    if (cluster) clusterSources(metrics, core, { nodes: () => cluster.registry.list(), placements: (ids) => cluster.placement.all(ids) });
    webhookSources(metrics, core, webhooks);
    metrics.registerCounterSource('parley_recording_compositions_total', 'Recording compositions this node began (ffmpeg runs, retries included)', () => composer.compositionsBegun);
    if (config.mediaWorkers > 0) {
      // The SFU gets STUN only, never TURN: it answers on its announced address, which browsers
      // (or the relay for those behind a UDP-blocking firewall) reach directly.
      const mediaConfig = {
        workers: config.mediaWorkers, listenIp: config.rtcListenIp, announcedAddresses: core.service.addresses,
        rtcMinPort: config.rtcMinPort, rtcMaxPort: config.rtcMaxPort, iceServers: config.iceServers, lastN: config.lastN,
      };
      const mediaLog: MediaLogger = {
        debug: (o, m) => log.debug(o, m), trace: (o, m) => log.trace(o, m), isLevelEnabled: (level) => log.isLevelEnabled(level),
        info: (o, m) => log.info(o, m), warn: (o, m) => log.warn(o, m), error: (o, m) => log.error(o, m),
      };
      const service = options.mediaService?.(mediaConfig, mediaLog) ?? new MediaService(mediaConfig, mediaLog);
      const signaling = new SignalingServer({ core, media: service, log, iceServers: config.iceServers, idleTimeoutMs: config.idleTimeoutMs, resumeWindowMs: config.resumeWindowMs });
      // In its own scope: the WebSocket plugin hooks every request of the scope it is in.
      await app.register(async (rtc) => {
        await rtc.register(websocket, { options: { maxPayload: 512 * 1024 } });
        roomRoutes(rtc, core);
        signaling.register(rtc);
      });
      const control = new MediaControl(core, service, signaling, log);
      await control.start();
      media = { service, control, signaling };
      mediaSources(metrics, service);
      signalingSources(metrics, signaling);
    }
    await app.listen({ port: config.port, host: config.host });
    log.info({ address: app.server.address() }, 'listening');
    webhooks.start();
    composer.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    if (config.publicUrlFromPort) core.links.rebase(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    const running = app;
    if (cluster) {
      if (!config.cluster?.nodePublicUrl) cluster.registry.self.url = config.publicUrlFromPort ? `http://${host.includes(":") ? `[${host}]` : host}:${port}` : config.publicUrl;
      const signaling = media?.signaling;
      const service = media?.service;
      await cluster.start(async () => {
        const stats = service ? await service.stats() : [];
        return {
          participants: signaling?.counts().seated ?? 0,
          streams: stats.reduce((n, w) => n + (w.tracksForwarded ?? 0), 0),
          eventLoop: stats.reduce((n, w) => Math.max(n, w.recentEventLoopUtilization ?? 0), 0),
        };
      });
      log.info({ node: config.cluster?.nodeId, url: cluster.registry.self.url }, 'joined the cluster');
    }
    return {
      app: running, log, core, store, config, firstStart, media, webhooks, composer, metrics, cluster,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      async drain(cut) {
        if (!cluster) return 'empty';
        await cluster.registry.drainHere();
        const busy = () => {
          const counts = media?.signaling.counts();
          return counts !== undefined && counts.seated + counts.waiting > 0;
        };
        // Looks again every half second until the rooms empty or the cut comes.
        while (busy()) {
          if (cut.aborted) return 'cut';
          await sleep(DRAIN_LOOK_MS, undefined, { signal: cut }).catch(() => undefined);
        }
        return 'empty';
      },
      async close(opts = {}) {
        // A step that hangs is named in the log (a service manager's kill comes without a reason).
        let step = 'the rooms';
        const slow = setInterval(() => log.warn(`shutting down: still waiting for ${step}`), SLOW_STEP_MS);
        try {
          if (opts.restart) await media?.signaling.restart(config.rejoinWindowMs);
          else await media?.signaling.close();
          step = 'the media workers';
          await media?.control.close();
          step = 'open HTTP connections';
          await running.close();
          step = 'the recording composer';
          await composer.stop(); // what it was composing is composed again on the next start
          step = 'webhook deliveries in flight';
          await webhooks.stop(); // requests in flight finish and are recorded
          step = 'the core';
          await core.stop();
          step = 'the cluster';
          await cluster?.close(true);
          step = 'the database';
          await store.close();
        } finally {
          clearInterval(slow);
        }
      },
    };
  } catch (error) {
    await media?.control.close();
    await app?.close();
    await composer.stop();
    await webhooks.stop();
    await core.stop();
    await cluster?.close(true);
    await store.close();
    throw error;
  }
}
