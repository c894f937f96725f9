import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Two network namespaces made by the test (MEDIA-NOTES "Shaping links in tests"): the server's
 * and a participant's, joined by one veth pair with addresses chosen here. Each namespace is
 * held by a `sleep` started under `unshare -n`; programs enter it with `nsenter --net`. Nothing
 * is added to the namespace the test runs in: its only way in is a Unix socket (a file, not
 * network) that a small forwarder inside the server's namespace connects to the server.
 */
export const SERVER_IP = '10.77.0.1';
export const CLIENT_IP = '10.77.0.2';
/** The participant's address after `changeAddress`. */
export const CLIENT_IP_2 = '10.77.0.3';
const SERVER_DEV = 'vpserver';
const CLIENT_DEV = 'vpclient';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** A fresh network namespace with lo up, alive as long as its holder process. */
async function holder(): Promise<ChildProcess> {
  const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && echo ready && exec sleep 3600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`unshare -n exited ${code}: ${err}`)));
  });
  return child;
}

export interface LinkLimit { kbit: number; queueMs: number }

export interface NetLab {
  /** Command prefix that runs a program in the server's / the participant's namespace. */
  inServer: string[];
  inClient: string[];
  /** An executable that starts Chromium in the participant's (or the server's) namespace. */
  chromiumIn(where: 'client' | 'server', chromium: string): string;
  /** The participant's link goes down (a total outage for it) or comes back. */
  linkDown(): Promise<void>;
  linkUp(): Promise<void>;
  /** The participant's network changes: a new address on its link, the old one removed. */
  changeAddress(): Promise<void>;
  /**
   * The participant's downlink (server → participant) carries at most `kbit` kbit/s; what
   * exceeds it waits in a queue of up to `queueMs`, then is dropped (tbf: the kernel here has
   * no netem). `undefined`: no limit again.
   */
  limitDownlink(limit: LinkLimit | undefined): Promise<void>;
  /** The same for the participant's uplink (participant → server). */
  limitUplink(limit: LinkLimit | undefined): Promise<void>;
  /**
   * This share (percent) of the UDP packets reaching the participant is dropped at random
   * (nftables numgen: the kernel here has no netem); 0: none.
   */
  loseDownlink(percent: number): Promise<void>;
  /** An http://127.0.0.1:PORT in the test's own namespace that reaches `port` on SERVER_IP. */
  forward(port: number): Promise<string>;
  /**
   * Firefox in the participant's namespace: a wrapper to launch as its executable, and the port
   * its WebDriver BiDi listens on (pass it as puppeteer's `debuggingPort`): 127.0.0.1 of that
   * namespace, reached from the test's own 127.0.0.1 at the same port through a forwarder.
   */
  firefoxInClient(firefox: string): Promise<{ executablePath: string; debuggingPort: number }>;
  close(): Promise<void>;
}

export async function makeNetLab(): Promise<NetLab> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-netlab-'));
  const holders: ChildProcess[] = [];
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const s of servers) s.close();
    for (const c of [...children, ...holders]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [server, client] = [await holder(), await holder()];
    holders.push(server, client);
    const inServer = ['nsenter', `--net=/proc/${server.pid}/ns/net`, '--'];
    const inClient = ['nsenter', `--net=/proc/${client.pid}/ns/net`, '--'];
    const ns = (where: string[], ...args: string[]) => run(where[0]!, [...where.slice(1), ...args]);
    /** What leaves `dev` (in `where`) is held to the limit by a tbf, or no longer limited. */
    const shape = async (where: string[], dev: string, limit: LinkLimit | undefined) => {
      await ns(where, 'tc', 'qdisc', 'del', 'dev', dev, 'root').catch(() => undefined);
      if (limit) await ns(where, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${limit.kbit}kbit`, 'burst', '16kb', 'latency', `${limit.queueMs}ms`);
    };
    await ns(inServer, 'ip', 'link', 'add', SERVER_DEV, 'type', 'veth', 'peer', 'name', CLIENT_DEV, 'netns', String(client.pid));
    await ns(inServer, 'ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', SERVER_DEV);
    await ns(inServer, 'ip', 'link', 'set', SERVER_DEV, 'up');
    // Removing an interface's primary address removes its secondaries in the same subnet too,
    // unless they are promoted (the new address of `changeAddress` is one of those).
    await ns(inClient, 'sysctl', '-q', '-w', `net.ipv4.conf.${CLIENT_DEV}.promote_secondaries=1`);
    await ns(inClient, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', CLIENT_DEV);
    await ns(inClient, 'ip', 'link', 'set', CLIENT_DEV, 'up');
    /**
     * Connections to 127.0.0.1:`localPort` here (0: any) reach `host`:`port` inside a namespace:
     * through a Unix socket (a file, not network) that a forwarder inside listens on.
     */
    const forwardInto = async (where: string[], host: string, port: number, localPort: number): Promise<number> => {
      const sock = join(dir, `fwd-${children.length}.sock`);
      const script = `const net=require('node:net');net.createServer((c)=>{const u=net.connect(${port},'${host}');c.pipe(u).pipe(c);u.on('error',()=>c.destroy());c.on('error',()=>u.destroy());}).listen(${JSON.stringify(sock)},()=>console.log('ready'));`;
      const fwd = spawn(where[0]!, [...where.slice(1), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(fwd);
      await new Promise<void>((resolve, reject) => {
        fwd.stdout!.once('data', () => resolve());
        fwd.once('exit', (code) => reject(new Error(`forwarder exited ${code}`)));
      });
      const local = createServer((c) => {
        const u = createConnection(sock);
        c.pipe(u).pipe(c);
        u.on('error', () => c.destroy());
        c.on('error', () => u.destroy());
      });
      servers.push(local);
      await new Promise<void>((resolve) => local.listen(localPort, '127.0.0.1', resolve));
      const address = local.address();
      if (!address || typeof address === 'string') throw new Error('no forwarder address');
      return address.port;
    };
    return {
      inServer,
      inClient,
      chromiumIn(where, chromium) {
        const file = join(dir, `chromium-${where}.sh`);
        const prefix = (where === 'client' ? inClient : inServer).join(' ');
        writeFileSync(file, `#!/bin/sh\nexec ${prefix} ${chromium} "$@"\n`);
        chmodSync(file, 0o755);
        return file;
      },
      linkDown: async () => { await ns(inClient, 'ip', 'link', 'set', CLIENT_DEV, 'down'); },
      linkUp: async () => { await ns(inClient, 'ip', 'link', 'set', CLIENT_DEV, 'up'); },
      async changeAddress() {
        await ns(inClient, 'ip', 'addr', 'add', `${CLIENT_IP_2}/24`, 'dev', CLIENT_DEV);
        await ns(inClient, 'ip', 'addr', 'del', `${CLIENT_IP}/24`, 'dev', CLIENT_DEV);
      },
      limitDownlink: (limit) => shape(inServer, SERVER_DEV, limit),
      limitUplink: (limit) => shape(inClient, CLIENT_DEV, limit),
      async loseDownlink(percent) {
        await ns(inClient, 'nft', 'delete', 'table', 'inet', 'netlab').catch(() => undefined);
        if (percent <= 0) return;
        const rules = join(dir, 'loss.nft');
        writeFileSync(rules, `table inet netlab {\n  chain lossy {\n    type filter hook input priority 0; policy accept;\n    iifname "${CLIENT_DEV}" meta l4proto udp numgen random mod 100 < ${Math.round(percent)} drop\n  }\n}\n`);
        await ns(inClient, 'nft', '-f', rules);
      },
      async forward(port) {
        return `http://127.0.0.1:${await forwardInto(inServer, SERVER_IP, port, 0)}`;
      },
      async firefoxInClient(firefox) {
        const file = join(dir, 'firefox-client.sh');
        writeFileSync(file, `#!/bin/sh\nexec ${inClient.join(' ')} ${firefox} "$@"\n`);
        chmodSync(file, 0o755);
        // A port free here; the participant's namespace is new, every port is free there.
        const probe = createServer();
        await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
        const port = (probe.address() as { port: number }).port;
        await new Promise<void>((resolve) => probe.close(() => resolve()));
        await forwardInto(inClient, '127.0.0.1', port, port);
        return { executablePath: file, debuggingPort: port };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
