// Janus 1.1.2 (Debian) under bench/sfu.ts: its own configuration in a temporary directory
// (VideoRoom and WebSockets only, bound to 127.0.0.1, no mDNS, IPv4 only), driven with janode.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Janode, { type Session, type VideoRoomHandle } from 'janode';
import VideoRoomPlugin from 'janode/plugins/videoroom';
import type { BotHost } from '../../test/media/helpers/bots.js';
import type { Plan, Target } from './bots.js';

const LIBS = '/usr/lib/x86_64-linux-gnu/janus';
const WS_PORT = 8188;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Why Janus cannot run here, or undefined. */
export function janusMissing(): string | undefined {
  // `janus --help` prints its version first (its exit status says nothing).
  const probe = spawnSync('janus', ['--help'], { encoding: 'utf8' });
  if (probe.error || !/Janus version/.test(probe.stdout)) return 'Janus is not installed: apt-get install -y janus (Debian 1.1.2)';
  if (!existsSync(`${LIBS}/plugins/libjanus_videoroom.so`) || !existsSync(`${LIBS}/transports/libjanus_websockets.so`)) {
    return `Janus's VideoRoom plugin or WebSockets transport is missing under ${LIBS}`;
  }
  if (!/1\.1\.2/.test(probe.stdout)) console.warn(`note: expected Janus 1.1.2, found: ${probe.stdout.split('\n')[0]}`);
  return undefined;
}

export interface JanusTarget extends Target {
  stop(): Promise<void>;
}

/**
 * Starts Janus gathering only on `iface` (the bench's veth holding `ip`: Janus skips loopback
 * interfaces, MEDIA-NOTES). Only the plugin and transport we use are loaded, from folders of
 * links, so no event handler, logger or other transport opens anything.
 */
export async function startJanus(iface: string, roomKbps: number): Promise<JanusTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-janus-'));
  for (const [sub, lib] of [['plugins', 'libjanus_videoroom.so'], ['transports', 'libjanus_websockets.so'], ['empty', '']] as const) {
    mkdirSync(join(dir, sub));
    if (lib) symlinkSync(`${LIBS}/${sub}/${lib}`, join(dir, sub, lib));
  }
  writeFileSync(join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/empty"
  loggers_folder = "${dir}/empty"
  debug_level = 3
}
media: {
  ipv6 = false
  rtp_port_range = "40000-49999"
}
nat: {
  ice_enforce_list = "${iface}"
  ignore_mdns = true
}
`);
  writeFileSync(join(dir, 'janus.transport.websockets.jcfg'), `general: {
  json = "plain"
  ws = true
  ws_port = ${WS_PORT}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`);
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');

  const child: ChildProcess = spawn('janus', ['-C', join(dir, 'janus.jcfg'), '-F', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  // janode retries a refused connection only after 10 s: wait for the port first.
  for (let attempt = 0; !(await listening(WS_PORT)); attempt++) {
    if (attempt >= 60 || child.exitCode !== null) throw new Error(`Janus did not start:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  Janode.Logger.setLevel('error');
  const conn = await Janode.connect({ address: { url: `ws://127.0.0.1:${WS_PORT}/` }, max_retries: 1 });
  let rooms = 0;

  return {
    name: 'janus',
    pid: child.pid!,
    async join(host: BotHost, plan: Plan) {
      const session: Session = await conn.create();
      const admin = await session.attach(VideoRoomPlugin);
      const room = 4000 + ++rooms;
      // Our own room: the demo one caps publishers at 128 kbit/s. `bitrate` is the REMB Janus
      // sends; the publisher's own cap (x-google-max-bitrate) is what holds the rate.
      await admin.create({ room, max_publishers: 100, bitrate: roomKbps * 1000, videocodec: 'vp8', audiocodec: 'opus', notify_joining: false });
      const handles: VideoRoomHandle[] = [admin];
      const feeds = new Map<string, number>();
      for (const [i, name] of plan.publishers.entries()) {
        await host.create(name, { audio: true, video: true });
        const handle = await session.attach(VideoRoomPlugin);
        handles.push(handle);
        const { sdp } = await host.offer(name);
        const feed = i + 1;
        const res = await handle.joinConfigurePublisher({ room, feed, display: name, audio: true, video: true, jsep: { type: 'offer', sdp } });
        if (!res.jsep) throw new Error(`Janus answered ${name}'s publish without SDP`);
        await host.answer(name, res.jsep.sdp);
        feeds.set(name, feed);
      }
      // Janus refuses to subscribe to a feed whose PeerConnection is not up yet (428).
      for (const name of plan.publishers) {
        for (let i = 0; (await host.stats(name)).pub !== 'connected'; i++) {
          if (i >= 60) throw new Error(`${name} never connected to Janus`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      for (const name of plan.subscribers) {
        if (!feeds.has(name)) await host.create(name, { audio: false, video: false });
        const streams = [...feeds].filter(([n]) => n !== name).map(([, feed]) => ({ feed }));
        if (streams.length === 0) continue;
        const handle = await session.attach(VideoRoomPlugin);
        handles.push(handle);
        const res = await handle.joinSubscriber({ room, streams });
        if (!res.jsep) throw new Error(`Janus gave ${name} no subscriber offer`);
        const { sdp } = await host.subOffer(name, res.jsep.sdp);
        await handle.start({ jsep: { type: 'answer', sdp } });
      }
      return {
        async close() {
          for (const n of new Set([...plan.publishers, ...plan.subscribers])) await host.close(n).catch(() => undefined);
          await admin.destroy({ room }).catch(() => undefined);
          await session.destroy().catch(() => undefined);
        },
      };
    },
    async stop() {
      await conn.close().catch(() => undefined);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
