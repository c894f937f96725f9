import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Network namespaces made by a test (see ../shared/MEDIA-NOTES.md): each is held by a `sleep`
 * started with `unshare -n`, and entered with `nsenter --net=/proc/PID/ns/net`. Nothing is done
 * in the test process's own namespace: veth pairs are made inside them and moved between them,
 * with addresses the test chose. Needs root, util-linux, iproute2 (and nftables for filters).
 */
export class Namespace {
  private constructor(private readonly holder: ChildProcess, readonly name: string) {}

  /** A new, empty network namespace (loopback up), held for at most `maxSeconds`. */
  static async create(name: string, maxSeconds = 600): Promise<Namespace> {
    const holder = spawn('unshare', ['-n', '--', 'sleep', String(maxSeconds)], { stdio: 'ignore' });
    const ns = new Namespace(holder, name);
    const own = readlinkSync('/proc/self/ns/net');
    // unshare execs sleep in the same process once the namespace exists: wait for that (bounded).
    for (let i = 0; i < 200; i++) {
      try {
        if (holder.exitCode !== null) break;
        if (readlinkSync(ns.path) !== own) {
          ns.run('ip link set lo up');
          return ns;
        }
      } catch {
        // /proc/PID not there yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    holder.kill('SIGKILL');
    throw new Error(`namespace ${name}: unshare -n did not start`);
  }

  get pid(): number {
    return this.holder.pid!;
  }

  get path(): string {
    return `/proc/${this.pid}/ns/net`;
  }

  /** Runs a shell script inside the namespace; throws with its output when it fails. */
  run(script: string): string {
    const r = spawnSync('nsenter', [`--net=${this.path}`, 'sh', '-ec', script], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`${this.name}: ${script}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Starts a program inside the namespace. */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('nsenter', [`--net=${this.path}`, command, ...args], options);
  }

  /** A script in `dir` that runs `executable` inside the namespace (for drivers that start a browser themselves). */
  wrapper(dir: string, executable: string): string {
    const file = join(dir, `${this.name}-${executable.split('/').pop()}`);
    writeFileSync(file, `#!/bin/sh\nexec nsenter --net=${this.path} ${executable} "$@"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  /**
   * Like `wrapper`, for a browser whose driver connects to a port the browser opens on its
   * loopback (Firefox's WebDriver BiDi, announced on stderr as ws://127.0.0.1:PORT): that port is
   * carried out of the namespace through a Unix socket to a port on the test's own loopback, and
   * the announcement rewritten to it (the same port number when it is free here: Firefox checks
   * the port in the Host header).
   */
  bridgedWrapper(dir: string, executable: string): string {
    const file = join(dir, `${this.name}-bridged-${executable.split('/').pop()}.cjs`);
    const sock = join(dir, `${this.name}-bidi.sock`);
    writeFileSync(file, `#!${process.execPath}
const { spawn } = require('node:child_process');
const { existsSync, rmSync } = require('node:fs');
const net = require('node:net');
const ns = ${JSON.stringify(`--net=${this.path}`)};
const sock = ${JSON.stringify(sock)};
const browser = spawn('nsenter', [ns, ${JSON.stringify(executable)}, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'pipe'] });
let inner;
let outer;
browser.stderr.on('data', (chunk) => {
  const text = chunk.toString();
  const m = /ws:[/][/]127[.]0[.]0[.]1:([0-9]+)/.exec(text);
  if (!m || inner) return process.stderr.write(text);
  // Inside the namespace: the Unix socket to the browser's port.
  rmSync(sock, { force: true });
  inner = spawn('nsenter', [ns, process.execPath, '-e', \`const net = require('node:net');
    net.createServer((c) => { const u = net.connect(\${m[1]}, '127.0.0.1'); c.pipe(u).pipe(c);
      c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(\${JSON.stringify(sock)});\`], { stdio: 'ignore' });
  // Outside: a loopback port to the Unix socket.
  outer = net.createServer((c) => { const u = net.connect(sock); c.pipe(u).pipe(c);
    c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); });
  // The same port number outside: Firefox refuses a Host header with another port (HTTP 400).
  const announce = () => {
    let tries = 0;
    const ready = () => {
      if (!existsSync(sock) && tries++ < 500) return setTimeout(ready, 10);
      process.stderr.write(text.replace(m[0], 'ws://127.0.0.1:' + outer.address().port));
    };
    ready();
  };
  outer.once('error', () => outer.listen(0, '127.0.0.1', announce));
  outer.listen(Number(m[1]), '127.0.0.1', announce);
});
const stop = () => { inner?.kill(); outer?.close(); };
browser.on('exit', (code) => { stop(); process.exit(code ?? 0); });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => { stop(); browser.kill(signal); });
`);
    chmodSync(file, 0o755);
    return file;
  }

  /** A veth pair from this namespace to `other`, addressed (CIDR) on both ends, IPv6 off on both. */
  link(other: Namespace, here: { dev: string; cidr: string }, there: { dev: string; cidr: string }): void {
    this.run(`ip link add ${here.dev} type veth peer name ${there.dev}; ip link set ${there.dev} netns ${other.pid}`);
    for (const [ns, end] of [[this, here], [other, there]] as const) {
      ns.run(`sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip addr add ${end.cidr} dev ${end.dev}; ip link set ${end.dev} up`);
    }
  }

  close(): void {
    this.holder.kill('SIGKILL');
  }
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const tool of ['unshare', 'nsenter', 'ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing (util-linux, iproute2, nftables)`;
  }
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return 'unshare -n is not permitted here';
  return undefined;
}
