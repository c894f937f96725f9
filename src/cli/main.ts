import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { addressDetector, ConfigError, loadConfig } from '../config.js';
import { CoreError, type RotatableSecret } from '../core/index.js';
import { openCore, startServer } from '../server.js';
import type { UserRecord } from '../store/index.js';
import { coturnConfig, realmOf } from './turn-config.js';

const USAGE = `Parley: self-hosted video meetings with LiveMinutes-, Livebox-compatible and native APIs.

Usage:
  parley serve [--port N] [--host H] [--public-url URL] [--data-dir DIR]
  parley account create --name NAME [--time-zone ZONE] [--service-control] [--json]
  parley account list [--json]
  parley account update --account ID [--name NAME] [--time-zone ZONE] [--max-meetings N|default]
                        [--max-users N|default] [--service-control on|off]
                        [--rate-limit N|default] [--cors-origins ORIGIN,…|none] [--json]
  parley account rotate --account ID --secret auth-token|server-key|native-app-key|api-key|api-token [--json]
  parley user list --account ID [--json]
  parley user api-permission --account ID --user USERNAME on|off [--json]
  parley admin rotate-token
  parley turn-config             a coturn turnserver.conf matching TURN_URLS, TURN_SECRET, PUBLIC_URL
                                 and the media's addresses (a new secret when TURN_SECRET is unset)
  parley drain [--node ID] [--off]   (a cluster: NODE_ID's node, or --node, takes no new meetings)
  parley help | --help | -h      (also after any command: parley serve --help)

Configuration comes from the environment (PORT, HOST, PUBLIC_URL, DATA_DIR, DATABASE_URL,
TIME_ZONE, QUOTA_MAX_MEETINGS, QUOTA_MAX_USERS, LOG_LEVEL, LOG_FORMAT=json|pretty,
METRICS_TOKEN, TURN_URLS, TURN_SECRET, …; see docs/operations.md). The account
commands work on DATA_DIR's database, also while the server runs.`;

const SECRETS: RotatableSecret[] = ['auth-token', 'server-key', 'native-app-key', 'api-key', 'api-token'];

class UsageError extends Error {}

function flags(args: string[], options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

function quota(name: string, v: string | boolean | undefined): number | null | undefined {
  if (typeof v !== 'string') return undefined;
  if (v === 'default') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number or "default"`);
  return n;
}

/** --cors-origins: origins separated by commas, or "none" for an empty list. */
function origins(v: string | boolean | undefined): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  return v === 'none' ? [] : v.split(',').map((o) => o.trim()).filter(Boolean);
}

/** A shutdown (after any drain) that takes longer than this ends the process anyway. */
const SHUTDOWN_LIMIT_MS = 30_000;

async function serve(args: string[]) {
  const f = flags(args, { port: { type: 'string' }, host: { type: 'string' }, 'public-url': { type: 'string' }, 'data-dir': { type: 'string' } });
  const config = loadConfig(process.env, { port: str(f.port), host: str(f.host), 'public-url': str(f['public-url']), 'data-dir': str(f['data-dir']) });
  const server = await startServer({ config });
  if (server.firstStart) {
    const { demo, adminToken } = server.firstStart;
    // Printed once, whichever of them this start created: the database keeps only hashes.
    process.stdout.write([
      '',
      '================ Parley: first start ================',
      'Save these now; they are not shown again.',
      ...(adminToken ? [`Admin token (native API /api/v1/admin):   ${adminToken}`] : []),
      ...(demo ? [
        'Demo account (it may control the media service):',
        `  LiveMinutes  AccountSid: ${demo.accountSid}`,
        `               AuthToken:  ${demo.authToken}`,
        `  Livebox      username:   ${demo.apiUsername}`,
        `               key:        ${demo.apiKey}`,
        `               Serverkey:  ${demo.serverKey}`,
        `               Nativeappkey: ${demo.nativeAppKey}`,
        `  Native API   Bearer:     ${demo.apiToken}`,
      ] : []),
      '=====================================================',
      '',
    ].join('\n') + '\n');
  }
  process.stdout.write(`Parley is listening on ${server.url} (public URL ${server.core.links.base}); API reference at ${server.core.links.base}/docs\n`);
  let closing = false;
  const cut = new AbortController();
  const shutdown = async (signal: string) => {
    if (closing) {
      cut.abort(); // a second signal while draining: stop now
      return;
    }
    closing = true;
    const cluster = server.config.cluster;
    if (cluster && signal === 'SIGTERM') {
      // In a cluster SIGTERM drains: no new meetings here, the running ones may end first.
      server.log.info(`SIGTERM: draining; stopping once the meetings here end, at most in ${cluster.drainGraceMs / 1000} s (another SIGTERM stops now)`);
      const how = await server.drain(AbortSignal.any([cut.signal, AbortSignal.timeout(cluster.drainGraceMs)]));
      server.log.info(how === 'empty' ? 'drained: nobody is in a meeting here; stopping' : 'drain cut short: stopping with people in meetings here (their pages join again on another node)');
    }
    // A signal is how service managers restart a process: the people in its rooms wait for it.
    server.log.info(`${signal}: shutting down; the people in its rooms may take their seats again for ${server.config.rejoinWindowMs / 1000} s`);
    // The people waiting to rejoin count on a new process soon: a stuck step does not hold it up.
    setTimeout(() => {
      server.log.error(`shutdown took over ${SHUTDOWN_LIMIT_MS / 1000} s: exiting now`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    await server.close({ restart: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function account(args: string[]) {
  const [sub, ...rest] = args;
  const config = loadConfig();
  const { core, store } = await openCore(config);
  try {
    switch (sub) {
      case 'create': {
        const f = flags(rest, {
          name: { type: 'string' }, 'time-zone': { type: 'string' }, 'service-control': { type: 'boolean' },
          'no-service-control': { type: 'boolean' }, json: { type: 'boolean' }, // --no-service-control: the default, still accepted
        });
        if (!str(f.name)) throw new UsageError('account create needs --name');
        if (f['service-control'] && f['no-service-control']) throw new UsageError('give --service-control or --no-service-control, not both');
        const { account, credentials } = await core.accounts.create({ name: str(f.name) as string, timeZone: str(f['time-zone']), serviceControl: f['service-control'] === true });
        if (f.json) {
          const { accountId, accountSid, authToken, apiUsername, apiKey, serverKey, nativeAppKey, apiToken } = credentials;
          process.stdout.write(JSON.stringify({ accountId, accountSid, authToken, apiUsername, apiKey, serverKey, nativeAppKey, apiToken }) + '\n');
        } else {
          process.stdout.write(`Account ${account.name} (${account.id}) created. Save these secrets now; they are not shown again:\n`);
          for (const [k, v] of Object.entries(credentials)) process.stdout.write(`  ${k.padEnd(13)} ${v}\n`);
        }
        return;
      }
      case 'list': {
        const f = flags(rest, { json: { type: 'boolean' } });
        const accounts = await core.accounts.list();
        if (f.json) {
          process.stdout.write(JSON.stringify(accounts.map((a) => ({ id: a.id, name: a.name, accountSid: a.accountSid, timeZone: a.timeZone, ...core.accounts.quotas(a), serviceControl: a.serviceControl, createdAt: a.createdAt }))) + '\n');
          return;
        }
        for (const a of accounts) process.stdout.write(`${a.id}  ${a.accountSid}  ${a.timeZone.padEnd(16)} ${a.name}\n`);
        if (accounts.length === 0) process.stdout.write('no accounts\n');
        return;
      }
      case 'update': {
        const f = flags(rest, {
          account: { type: 'string' }, name: { type: 'string' }, 'time-zone': { type: 'string' }, 'max-meetings': { type: 'string' },
          'max-users': { type: 'string' }, 'service-control': { type: 'string' }, 'rate-limit': { type: 'string' },
          'cors-origins': { type: 'string' }, json: { type: 'boolean' },
        });
        if (!str(f.account)) throw new UsageError('account update needs --account ID');
        const sc = str(f['service-control']);
        if (sc !== undefined && sc !== 'on' && sc !== 'off') throw new UsageError('--service-control must be on or off');
        const updated = await core.accounts.update(str(f.account) as string, {
          name: str(f.name), timeZone: str(f['time-zone']), maxMeetings: quota('max-meetings', f['max-meetings']),
          maxUsers: quota('max-users', f['max-users']), serviceControl: sc === undefined ? undefined : sc === 'on',
          rateLimitPerMinute: quota('rate-limit', f['rate-limit']), corsOrigins: origins(f['cors-origins']),
        });
        const view = {
          id: updated.id, name: updated.name, timeZone: updated.timeZone, ...core.accounts.quotas(updated), serviceControl: updated.serviceControl,
          rateLimitPerMinute: core.rateLimits.limitOf(updated), corsOrigins: updated.corsOrigins,
        };
        process.stdout.write(f.json ? JSON.stringify(view) + '\n' : `Account ${updated.id} updated.\n`);
        return;
      }
      case 'rotate': {
        const f = flags(rest, { account: { type: 'string' }, secret: { type: 'string' }, json: { type: 'boolean' } });
        const which = str(f.secret) as RotatableSecret | undefined;
        if (!str(f.account) || !which || !SECRETS.includes(which)) throw new UsageError(`account rotate needs --account ID and --secret ${SECRETS.join('|')}`);
        const secret = await core.accounts.rotate(str(f.account) as string, which);
        process.stdout.write(f.json ? JSON.stringify({ secret: which, value: secret }) + '\n' : `New ${which}: ${secret}\nThe old one no longer works.\n`);
        return;
      }
      default:
        throw new UsageError(`unknown account command "${sub ?? ''}"`);
    }
  } finally {
    await store.close();
  }
}

async function user(args: string[]) {
  const [sub, ...rest] = args;
  const { core, store } = await openCore(loadConfig());
  try {
    switch (sub) {
      case 'list': {
        const f = flags(rest, { account: { type: 'string' }, json: { type: 'boolean' } });
        if (!str(f.account)) throw new UsageError('user list needs --account ID');
        const account = await core.accounts.get(str(f.account) as string);
        const users: UserRecord[] = [];
        // Pages of 100; an account's users are bounded by what an operator could create.
        for (let after: string | undefined, pages = 0; pages < 100_000; pages++) {
          const page = await core.users.list(account, { limit: 100, after });
          users.push(...page);
          if (page.length < 100) break;
          after = page[page.length - 1].id;
        }
        if (f.json) {
          process.stdout.write(JSON.stringify(users.map((u) => ({
            id: u.id, username: u.username, displayName: u.displayName, email: u.email,
            apiPermission: u.apiPermission, hasApiKey: u.apiKeyHash !== null, hasPassword: u.passwordHash !== null,
          }))) + '\n');
          return;
        }
        for (const u of users) process.stdout.write(`${u.id}  ${u.username.padEnd(20)} API permission ${u.apiPermission ? 'on ' : 'off'}  ${u.apiKeyHash ? 'has an API key' : 'no API key'}\n`);
        if (users.length === 0) process.stdout.write('no users\n');
        return;
      }
      case 'api-permission': {
        let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
        try {
          parsed = parseArgs({ args: rest, options: { account: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        const f = parsed.values;
        const [state, ...extra] = parsed.positionals;
        if (!str(f.account) || !str(f.user) || (state !== 'on' && state !== 'off') || extra.length > 0) {
          throw new UsageError('user api-permission needs --account ID --user USERNAME and on or off');
        }
        const updated = await core.accounts.setApiPermission(str(f.account) as string, { username: str(f.user) as string }, state === 'on');
        process.stdout.write(f.json
          ? JSON.stringify({ id: updated.id, username: updated.username, apiPermission: updated.apiPermission }) + '\n'
          : `API permission of ${updated.username} (${updated.id}) is ${updated.apiPermission ? 'on' : 'off'}.\n`);
        return;
      }
      default:
        throw new UsageError(`unknown user command "${sub ?? ''}"`);
    }
  } finally {
    await store.close();
  }
}

async function admin(args: string[]) {
  if (args[0] !== 'rotate-token') throw new UsageError(`unknown admin command "${args[0] ?? ''}"`);
  const { core, store } = await openCore(loadConfig());
  try {
    process.stdout.write(`New admin token: ${await core.admin.rotateToken()}\nThe old one no longer works.\n`);
  } finally {
    await store.close();
  }
}

/** Prints coturn's configuration for this Parley (stdout), and what to set on Parley's side (stderr). */
function turnConfig(args: string[]) {
  flags(args, {});
  const config = loadConfig();
  const realm = realmOf(config.publicUrl);
  const generated = config.turn === undefined;
  const secret = config.turn?.secret ?? randomBytes(32).toString('hex');
  const urls = config.turn?.urls ?? [`turn:${realm}:3478`, `turn:${realm}:3478?transport=tcp`, `turns:${realm}:443?transport=tcp`];
  const mediaAddresses = addressDetector(config)().addresses;
  process.stdout.write(coturnConfig({ realm, secret, urls, mediaAddresses }));
  if (generated) {
    process.stderr.write(`TURN_URLS and TURN_SECRET are not set: this configuration has a new secret. Start Parley with\n  TURN_URLS=${urls.join(',')}\n  TURN_SECRET=<the static-auth-secret above>\n`);
  }
}

/** Asks a node of the cluster to take no new meetings (or again, with --off); through REDIS_URL. */
async function drain(args: string[]) {
  const f = flags(args, { node: { type: 'string' }, off: { type: 'boolean' } });
  const config = loadConfig();
  if (!config.cluster) throw new UsageError('parley drain needs REDIS_URL (the cluster\'s Redis)');
  const node = str(f.node) ?? process.env.NODE_ID;
  if (!node) throw new UsageError('parley drain needs --node ID (or NODE_ID)');
  const { connect, requestDrain } = await import('../cluster/index.js');
  const redis = connect(config.cluster.redisUrl, () => undefined);
  try {
    await requestDrain(redis, node, !f.off);
  } finally {
    redis.disconnect();
  }
  process.stdout.write(f.off
    ? `Node ${node} takes new meetings again.\n`
    : `Node ${node} takes no new meetings from its next heartbeat; its running meetings go on. /metrics shows parley_cluster_node_participants falling to 0.\n`);
}

const HELP = new Set(['help', '--help', '-h']);
/** `help` only as the command (an account may be named "help"); the flags after any command too. */
const asksForHelp = (argv: string[]) => HELP.has(argv[0] ?? '') || argv.includes('--help') || argv.includes('-h');

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  // `parley --help`, `parley help account`, `parley serve --help`: the usage, on stdout, exit 0.
  if (asksForHelp(argv)) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  switch (command) {
    case 'serve': return serve(rest);
    case 'account': return account(rest);
    case 'admin': return admin(rest);
    case 'user': return user(rest);
    case 'turn-config': return turnConfig(rest);
    case 'drain': return drain(rest);
    case undefined:
      process.stdout.write(USAGE + '\n');
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`parley: ${error.message}\n\n${USAGE}\n`);
  else if (error instanceof ConfigError) process.stderr.write(`parley: configuration: ${error.message}\n`);
  else if (error instanceof CoreError) process.stderr.write(`parley: ${error.message}\n`);
  else process.stderr.write(`parley: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(error instanceof UsageError ? 64 : 1);
});
