import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort, startPostgres, startRedis, type Engine } from '../helpers/engines.js';
import { bearer, send } from '../helpers/http.js';
import { BotHost, type MeetingBot } from '../helpers/meeting-bot.js';
import { spawnListening, stopSpawned, type Spawned } from '../helpers/spawn.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions

const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

export interface TestNode extends Spawned {
  id: string;
}

/**
 * Parley nodes as processes (`parley serve`) on loopback ports, sharing one PostgreSQL and one
 * Redis that this starts, and one secret. Heartbeats are short (NODE_TTL_SECONDS) so that a dead
 * node is noticed within seconds.
 */
export class TestCluster {
  readonly nodes: TestNode[] = [];
  /** The demo account's native API token (printed by the first start). */
  token = '';
  /** The admin API's token (printed by the first start). */
  adminToken = '';
  private dirs: string[] = [];
  private readonly secret = randomBytes(32).toString('hex');

  private constructor(readonly redis: Engine, readonly postgres: Engine, private readonly extraEnv: Record<string, string>) {}

  static async start(count: number, env: Record<string, string> = {}): Promise<TestCluster> {
    const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    const cluster = new TestCluster(redis, postgres, env);
    try {
      // The first alone: it migrates the database and creates the demo account.
      const first = await cluster.add('node-1');
      cluster.token = /Bearer:\s+(\S+)/.exec(first.output())![1];
      cluster.adminToken = /Admin token[^:]*:\s+(\S+)/.exec(first.output())![1];
      await Promise.all(Array.from({ length: count - 1 }, (_, i) => cluster.add(`node-${i + 2}`)));
      // They come up in any order; tests address them by position (nodes[1] is node-2).
      cluster.nodes.sort((a, b) => Number(a.id.slice(5)) - Number(b.id.slice(5)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `env`: this node's own settings over the cluster's. */
  async add(id: string, env: Record<string, string> = {}): Promise<TestNode> {
    const dataDir = mkdtempSync(join(tmpdir(), `parley-${id}-`));
    this.dirs.push(dataDir);
    // Each node its own address; the links name the cluster's one address (here node-1's, as a
    // reverse proxy's would be the same for all).
    const port = await freePort();
    const own = `http://127.0.0.1:${port}`;
    const s = await spawnListening([BIN, 'serve'], {
      DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), NODE_PUBLIC_URL: own, PUBLIC_URL: this.nodes[0]?.url ?? own, LOG_LEVEL: 'warn', MEDIA_WORKERS: '1',
      RTC_LISTEN_IP: '127.0.0.1', ANNOUNCED_IP: '127.0.0.1', PARLEY_SECRET: this.secret,
      DATABASE_URL: this.postgres.url, REDIS_URL: this.redis.url, NODE_ID: id, NODE_TTL_SECONDS: '2',
      ...this.extraEnv, ...env,
    });
    const node = Object.assign(s, { id });
    this.nodes.push(node);
    return node;
  }

  /** The node whose address a join answer named. */
  nodeAt(url: string | undefined): TestNode | undefined {
    return this.nodes.find((n) => n.url === url);
  }

  async kill(node: TestNode): Promise<void> {
    await stopSpawned(node, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopSpawned(n, 'SIGKILL')));
    await Promise.all([this.redis.stop(), this.postgres.stop()]);
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A file's cluster of `count` nodes and its bot host: started before the file's tests (`use`
 * receives them), stopped after them with every bot the tests put in `bots`.
 */
export function clusterForTests(count: number, env: Record<string, string>, use: (cluster: TestCluster, host: BotHost) => void, bots: MeetingBot[] = []): void {
  let cluster: TestCluster | undefined;
  let host: BotHost | undefined;
  beforeAll(async () => {
    cluster = await TestCluster.start(count, env);
    host = new BotHost();
    use(cluster, host);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await host?.quit();
    await cluster?.stop();
  });
}

/** The native API through one node: as the demo account, or with `token`. */
export function clusterApi(cluster: () => TestCluster) {
  return (node: TestNode, method: string, path: string, body?: unknown, token = cluster().token) => send<Json>(`${node.url}/api/v1${path}`, {
    method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
