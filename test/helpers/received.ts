import type { Page } from 'playwright-core';

// What a room page receives, from its subscriber transport's stats: per remote camera (by
// participant) and the audio; `over` turns two readings into rates over a window.

/** One remote camera's counters so far: frames decoded, seconds frozen, width now, packets, NACKs… */
export interface VideoCounts { frames: number; frozen: number; width: number; received: number; lost: number; bytes: number; framesReceived: number; framesDropped: number; nacks: number; plis: number; resent: number }
const NO_VIDEO: VideoCounts = { frames: 0, frozen: 0, width: 0, received: 0, lost: 0, bytes: 0, framesReceived: 0, framesDropped: 0, nacks: 0, plis: 0, resent: 0 };

export interface Received {
  /** per remote camera, by participant */
  videos: Record<string, VideoCounts>;
  audio: { samples: number; concealed: number; received: number; lost: number; bytes: number };
}

/** What a page receives so far, from its subscriber transport's stats. */
export const receivedBy = (page: Page): Promise<Received> => page.evaluate(async () => {
  type Stat = { type: string; kind?: string; id: string; trackIdentifier?: string; framesDecoded?: number; totalFreezesDuration?: number; frameWidth?: number; totalSamplesReceived?: number; concealedSamples?: number; packetsReceived?: number; packetsLost?: number; bytesReceived?: number; framesReceived?: number; framesDropped?: number; nackCount?: number; pliCount?: number; retransmittedPacketsReceived?: number };
  const hooks = (globalThis as unknown as { __parley: {
    subscriber(): { getStats(): Promise<{ forEach(cb: (s: Stat) => void): void }> } | undefined;
    remoteSources(): { participantId: string; trackId: string }[];
  } }).__parley;
  const pc = hooks.subscriber();
  const owner = new Map(hooks.remoteSources().map((r) => [r.trackId, r.participantId]));
  const out: Received = { videos: {}, audio: { samples: 0, concealed: 0, received: 0, lost: 0, bytes: 0 } };
  (await pc?.getStats())?.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video' && (s.framesDecoded ?? 0) > 0) {
      out.videos[owner.get(s.trackIdentifier ?? '') ?? s.id] = {
        frames: s.framesDecoded ?? 0, frozen: s.totalFreezesDuration ?? 0, width: s.frameWidth ?? 0, received: s.packetsReceived ?? 0, lost: s.packetsLost ?? 0,
        bytes: s.bytesReceived ?? 0, framesReceived: s.framesReceived ?? 0, framesDropped: s.framesDropped ?? 0, nacks: s.nackCount ?? 0, plis: s.pliCount ?? 0,
        resent: s.retransmittedPacketsReceived ?? 0,
      };
    }
    if (s.kind === 'audio') {
      out.audio.samples += s.totalSamplesReceived ?? 0;
      out.audio.concealed += s.concealedSamples ?? 0;
      out.audio.received += s.packetsReceived ?? 0;
      out.audio.lost += s.packetsLost ?? 0;
      out.audio.bytes += s.bytesReceived ?? 0;
    }
  });
  return out;
});

/** Per camera over a window: frames per second and the share of the time frozen; audio concealed. */
export function over(before: Received, after: Received, ms: number) {
  const cameras = Object.entries(after.videos).map(([id, v]) => {
    const b = before.videos[id] ?? NO_VIDEO;
    const packets = v.received - b.received + v.lost - b.lost;
    return {
      id,
      fps: ((v.frames - b.frames) * 1000) / ms, frozen: ((v.frozen - b.frozen) * 1000) / ms, width: v.width,
      lost: packets > 0 ? (v.lost - b.lost) / packets : 0, kbps: ((v.bytes - b.bytes) * 8) / ms,
      // for a reader of a failure: frames that arrived whole, dropped before display, NACKs and PLIs sent
      receivedFps: ((v.framesReceived - b.framesReceived) * 1000) / ms, dropped: v.framesDropped - b.framesDropped, nacks: v.nacks - b.nacks, plis: v.plis - b.plis,
      resent: v.resent - b.resent,
    };
  });
  const samples = after.audio.samples - before.audio.samples;
  const a = after.audio;
  const b = before.audio;
  const audioPackets = a.received - b.received + a.lost - b.lost;
  return {
    cameras, concealed: samples > 0 ? (a.concealed - b.concealed) / samples : 1,
    audioLost: audioPackets > 0 ? (a.lost - b.lost) / audioPackets : 0, audioKbps: ((a.bytes - b.bytes) * 8) / ms,
  };
}

/** A window (or anything) as JSON with numbers rounded to two places, for a failed assertion's message. */
export const fmt = (o: unknown) => JSON.stringify(o, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v));
