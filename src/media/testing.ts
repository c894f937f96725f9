// Test-only entry of the media plane: not exported from index.ts, imported by tests and
// benchmarks only. Its workers accept fault-injection requests that a MediaService's refuse.
import { MediaService } from './service.js';
import type { MediaPeer } from './peer.js';
import type { WorkerRequests } from './protocol.js';

export class TestMediaService extends MediaService {
  protected override readonly testHooks = true;

  /**
   * Drops `percent` % of the video RTP sent to `peer` ('downlink', first transmissions only:
   * werift's retransmissions pass) or received from it ('uplink', before werift's receiver:
   * the publisher's retransmissions pass). 0 stops it. See worker/test-hooks.ts.
   */
  setPacketLoss(peer: MediaPeer, direction: 'uplink' | 'downlink', percent: number): Promise<void> {
    return this.requestRoomWorker(peer.roomId, 'testPacketLoss', { roomId: peer.roomId, peerId: peer.id, direction, percent });
  }

  /** The room's worker throws an error nobody catches, as a bug would (it ends, and is respawned). */
  crashWorker(roomId: string): Promise<void> {
    return this.requestRoomWorker(roomId, 'testCrash', {});
  }

  /** The room's worker thread stops for `ms` (no packet read meanwhile), as in a long garbage collection. */
  stallWorker(roomId: string, ms: number): Promise<void> {
    return this.requestRoomWorker(roomId, 'testStall', { ms });
  }

  /** The media peer of a participant (its id), in whichever open room it is. */
  peerOf(participantId: string): MediaPeer | undefined {
    for (const room of this.rooms.values()) {
      const peer = room.peers.find((p) => p.id === participantId);
      if (peer) return peer;
    }
    return undefined;
  }

  /**
   * Sends `peer`'s browser a probe cluster of `paddingBps` (numbered padding, worker/probe-cluster.ts)
   * and resolves with its verdict and how many of the packets its transport-cc feedback answered.
   */
  probeSubscriber(peer: MediaPeer, paddingBps: number): Promise<WorkerRequests['testProbe'][1]> {
    return this.requestRoomWorker(peer.roomId, 'testProbe', { roomId: peer.roomId, peerId: peer.id, paddingBps });
  }

  /** The recordings of the room's worker fail their writes (ENOSPC) once `afterBytes` more are written. */
  failRecordingWrites(roomId: string, afterBytes: number): Promise<void> {
    return this.requestRoomWorker(roomId, 'testFailRecordingWrites', { afterBytes });
  }
}
