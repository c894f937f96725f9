// Test-only fault injection, loaded by entry.ts only when the worker was started with
// `testHooks` (src/media/testing.ts). Nothing here is reachable from the public API.
import type { RTCDtlsTransport } from 'werift';
import type { SfuPeer } from './peer.js';
import type { SinkFactory } from './recorder.js';

export type LossDirection = 'uplink' | 'downlink';

interface Loss {
  uplink: number;
  downlink: number;
}

const lossOf = new WeakMap<SfuPeer, Loss>();
const hooked = new WeakSet<RTCDtlsTransport>();

/** Drops a packet the first time its (ssrc, seq) is seen, `percent` % of the time; lets a repeat through. */
function dropper(): (ssrc: number, seq: number, percent: number) => boolean {
  const dropped = new Set<number>();
  return (ssrc, seq, percent) => {
    const key = ssrc * 0x10000 + seq;
    if (dropped.delete(key)) return false; // a retransmission
    if (Math.random() * 100 >= percent) return false;
    dropped.add(key);
    if (dropped.size > 10_000) dropped.clear();
    return true;
  };
}

/**
 * Drops `percent` % of the video RTP on one transport of `peer`, to observe NACK handling end to
 * end. 'downlink': first transmissions towards this subscriber (werift's retransmissions pass),
 * also on its DTLS transports created later. 'uplink': packets arriving from this publisher,
 * before werift's receiver sees them (the publisher's retransmissions, a second arrival of the
 * same number, pass); applies to the publisher's current transports.
 */
export function setPacketLoss(peer: SfuPeer, direction: LossDirection, percent: number): void {
  let loss = lossOf.get(peer);
  if (!loss) {
    const created: Loss = { uplink: 0, downlink: 0 };
    lossOf.set(peer, created);
    peer.subscriber.on('dtlsTransport', (transport) => {
      if (created.downlink > 0) hookDownlink(peer, transport, created);
    });
    loss = created;
  }
  loss[direction] = percent;
  if (direction === 'downlink') {
    for (const transport of peer.subscriber.dtlsTransports) hookDownlink(peer, transport, loss);
  } else {
    for (const transport of peer.publisher.dtlsTransports) hookUplink(peer, transport, loss);
  }
}

function hookDownlink(peer: SfuPeer, transport: RTCDtlsTransport, loss: Loss): void {
  if (hooked.has(transport)) return;
  hooked.add(transport);
  const send = transport.sendRtp.bind(transport);
  const drop = dropper();
  transport.sendRtp = (payload, header) => {
    if (loss.downlink > 0 && peer.subscriber.kindOfSenderSsrc(header.ssrc) === 'video') {
      if (drop(header.ssrc, header.sequenceNumber, loss.downlink)) return Promise.resolve(0);
    }
    return send(payload, header);
  };
}

function hookUplink(peer: SfuPeer, transport: RTCDtlsTransport, loss: Loss): void {
  if (hooked.has(transport)) return;
  hooked.add(transport);
  const deliver = transport.onRtp.execute;
  const drop = dropper();
  transport.onRtp.execute = (rtp) => {
    const { ssrc, sequenceNumber } = rtp.header;
    const video = peer.publisher.tracks().some((t) => t.kind === 'video' && t.ssrc === ssrc);
    if (loss.uplink > 0 && video && drop(ssrc, sequenceNumber, loss.uplink)) return;
    deliver(rtp);
  };
}

/** Bytes a recording may still write before its writes fail like a full disk (undefined: no limit). */
let recordingBudget: number | undefined;

/** Arms the full-disk fault for the recordings written from now on. */
export function failRecordingWrites(afterBytes: number): void {
  recordingBudget = afterBytes;
}

/** Wraps the recording sink so that an armed fault fails its writes with ENOSPC. */
export function recordingSink(base: SinkFactory): SinkFactory {
  return async (path) => {
    const sink = await base(path);
    return {
      ...sink,
      async write(chunk, position) {
        if (recordingBudget !== undefined) {
          if (recordingBudget < chunk.length) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
          recordingBudget -= chunk.length;
        }
        await sink.write(chunk, position);
      },
    };
  };
}
