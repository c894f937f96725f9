// Entry point of a media worker thread. Everything RTP lives here; the main thread only sends
// requests (SDP, candidates, control) and receives events.
import { readFileSync } from 'node:fs';
// First: it must wrap dgram before werift opens a socket.
import { closeAllUdpSockets } from './udp-sockets.js';
import { parentPort, workerData } from 'node:worker_threads';
import type { MainToWorker, RequestName, WorkerEvent, WorkerRequests, WorkerSettings, WorkerToMain } from '../protocol.js';
import { MediaError } from '../types.js';
import { createGatherLock, type WorkerContext } from './context.js';
import { LoopStalls } from './loop-stalls.js';
import { resendCounts } from './werift-nack-limit.js';
import { fileSink } from './recorder.js';
import { SfuRoom } from './room.js';

if (!parentPort) throw new Error('media worker entry must run in a worker thread');
const port = parentPort;
const settings = (workerData as { settings: WorkerSettings }).settings;

function post(message: WorkerToMain): void {
  port.postMessage(message);
}

const ctx: WorkerContext = {
  settings,
  emit: (event: WorkerEvent) => post({ t: 'ev', ...event }),
  log: (level, msg, data = {}) => post({ t: 'ev', ev: 'log', level, msg, data: { worker: settings.index, ...data } }),
  counters: { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, packetsLost: 0, packetsLate: 0 },
  gather: createGatherLock(settings.portRange !== undefined),
};

// werift leaves some promises unhandled on teardown (transactions of a closed ICE agent);
// Node would kill the thread for them, and with it every room on this worker.
process.on('unhandledRejection', (reason) => {
  ctx.log('warn', 'unhandled rejection in media worker', {
    error: reason instanceof Error ? reason.stack : String(reason),
  });
});

// A thrown error nobody caught leaves the thread in an unknown state: it ends, and the host
// respawns it. Node would end it at once, with its UDP sockets open, and a datagram reaching one
// of them then aborts the whole process (see udp-sockets.ts): close them first.
process.on('uncaughtException', (error) => {
  ctx.log('error', 'media worker crashed', { error: error.stack ?? String(error) });
  void closeAllUdpSockets().finally(() => process.exit(1));
});

const rooms = new Map<string, SfuRoom>();
const stalls = new LoopStalls();

// Test-only code is not even loaded by a production worker.
const testHooks = settings.testHooks ? await import('./test-hooks.js') : undefined;

/** This thread's own CPU time: process.cpuUsage() covers the whole process. Linux only. */
function threadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ ticks
  } catch {
    return undefined;
  }
}

function room(roomId: string): SfuRoom {
  const r = rooms.get(roomId);
  if (!r) throw new MediaError('not_found', `no room ${roomId}`);
  return r;
}

type Handlers = {
  [K in RequestName]: (params: WorkerRequests[K][0]) => WorkerRequests[K][1] | Promise<WorkerRequests[K][1]>;
};

const handlers: Handlers = {
  configure({ announcedAddresses }) {
    settings.announcedAddresses = [...announcedAddresses];
  },
  openRoom({ roomId }) {
    if (!rooms.has(roomId)) rooms.set(roomId, new SfuRoom(ctx, roomId));
  },
  async closeRoom({ roomId, reason }) {
    const r = rooms.get(roomId);
    if (!r) return;
    rooms.delete(roomId);
    await r.close(reason);
  },
  addPeer({ roomId, peerId, canPublish, held }) {
    room(roomId).addPeer(peerId, canPublish, held);
  },
  async closePeer({ roomId, peerId, reason }) {
    await rooms.get(roomId)?.closePeer(peerId, reason);
  },
  publish({ roomId, peerId, sdp, sources }) {
    return room(roomId).getPeer(peerId).publish(sdp, sources);
  },
  subscriberAnswer({ roomId, peerId, sdp }) {
    return room(roomId).getPeer(peerId).subscriberAnswer(sdp);
  },
  addIceCandidate({ roomId, peerId, transport, candidate }) {
    return room(roomId).getPeer(peerId).addIceCandidate(transport, candidate);
  },
  setCanPublish({ roomId, peerId, canPublish }) {
    room(roomId).getPeer(peerId).setCanPublish(canPublish);
  },
  setHeld({ roomId, peerId, held }) {
    room(roomId).getPeer(peerId).setHeld(held);
  },
  requestSubscriberOffer({ roomId, peerId, iceRestart }) {
    room(roomId).getPeer(peerId).requestSubscriberOffer(iceRestart === true);
  },
  setVideoSizes({ roomId, peerId, sizes }) {
    room(roomId).getPeer(peerId).subscriber.setVideoSizes(sizes);
  },
  peerStats({ roomId, peerId }) {
    return room(roomId).getPeer(peerId).stats();
  },
  workerStats() {
    let peers = 0;
    let tracksPublished = 0;
    let tracksForwarded = 0;
    for (const r of rooms.values()) {
      peers += r.peers.size;
      for (const peer of r.peers.values()) {
        const counts = peer.trackCounts();
        tracksPublished += counts.published;
        tracksForwarded += counts.forwarded;
      }
    }
    // A stall that just ended is counted now, not at the next tick (this answer may come first).
    stalls.check();
    return {
      rooms: rooms.size, peers, tracksPublished, tracksForwarded, ...ctx.counters, cpuSeconds: threadCpuSeconds(),
      loopStalls: stalls.count, loopStalledSeconds: stalls.seconds,
      packetsResent: resendCounts.resent, resendsMissing: resendCounts.missing,
    };
  },
  async closeAll({ reason }) {
    const all = [...rooms.values()];
    rooms.clear();
    await Promise.allSettled(all.map((r) => r.close(reason)));
  },
  async closeSockets() {
    const left = await closeAllUdpSockets();
    if (left > 0) ctx.log('info', 'closed UDP sockets still open before the thread ends', { sockets: left });
  },
  startRecording({ roomId, recordingId, dir }) {
    return room(roomId).startRecording(recordingId, dir, testHooks?.recordingSink(fileSink) ?? fileSink);
  },
  stopRecording({ roomId, recordingId }) {
    return room(roomId).stopRecording(recordingId);
  },
  testFailRecordingWrites({ afterBytes }) {
    if (!testHooks) throw new MediaError('invalid_state', 'test hooks are off in this worker');
    testHooks.failRecordingWrites(afterBytes);
  },
  testCrash() {
    if (!testHooks) throw new MediaError('invalid_state', 'test hooks are off in this worker');
    setImmediate(() => {
      throw new Error('a crash asked for by a test');
    });
  },
  testStall({ ms }) {
    if (!testHooks) throw new MediaError('invalid_state', 'test hooks are off in this worker');
    // Blocks the thread without spinning: packets wait in the sockets meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
  async testProbe({ roomId, peerId, paddingBps }) {
    if (!testHooks) throw new MediaError('invalid_state', 'test hooks are off in this worker');
    const outcome = await room(roomId).getPeer(peerId).subscriber.probeForTest(paddingBps);
    return { verdict: outcome.verdict, ...outcome.summary };
  },
  testPacketLoss({ roomId, peerId, direction, percent }) {
    if (!testHooks) throw new MediaError('invalid_state', 'test hooks are off in this worker');
    testHooks.setPacketLoss(room(roomId).getPeer(peerId), direction, percent);
  },
};

port.on('message', (message: MainToWorker) => {
  if (message.t !== 'req') return;
  const { id, op, params } = message;
  // The mapped type cannot follow the correlation between op and params through a union.
  const handler = handlers[op] as (p: typeof params) => unknown;
  Promise.resolve()
    .then(() => handler(params))
    .then(
      (value) => post({ t: 'res', id, ok: true, value }),
      (error: unknown) => {
        if (error instanceof MediaError) {
          post({ t: 'res', id, ok: false, code: error.code, message: error.message });
        } else {
          ctx.log('error', `media worker ${op} failed`, {
            error: error instanceof Error ? error.stack : String(error),
          });
          post({ t: 'res', id, ok: false, code: 'invalid', message: error instanceof Error ? error.message : String(error) });
        }
      },
    );
});

post({ t: 'ev', ev: 'ready' });
