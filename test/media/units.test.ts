// Pure pieces of the media plane, no sockets.
import { describe, expect, it } from 'vitest';
import { RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { MediaError, MediaService } from '../../src/media/index.js';
import { ActiveSpeakerDetector } from '../../src/media/worker/active-speaker.js';
import type { WorkerContext } from '../../src/media/worker/context.js';
import { DownTrack, SeqTsRewriter } from '../../src/media/worker/down-track.js';
import { rtxPayloadTypeFor } from '../../src/media/worker/codecs.js';
import type { PublishedTrack } from '../../src/media/worker/published-track.js';
import { KeyframeRequestLimiter, PLI_INTERVAL_MS, type Clock } from '../../src/media/worker/keyframe-limiter.js';
import { fitAnswerToOffer, isAcceptableCandidate, isRejected, isSending, keepInactiveSectionsAlive, parseMediaSections, sanitizeRemoteSdp } from '../../src/media/worker/sdp.js';
import { ReportedLoss, SequenceLoss } from '../../src/media/worker/loss.js';
import { isVp8KeyframeStart } from '../../src/media/worker/vp8.js';

describe('VP8 keyframe detection', () => {
  it('finds the first packet of a keyframe with and without extended fields', () => {
    // S=1 PID=0, no X; payload header P=0 (keyframe)
    expect(isVp8KeyframeStart(Uint8Array.from([0x10, 0x00, 0x9d, 0x01, 0x2a]))).toBe(true);
    // X=1, I=1 with a 15-bit picture id, then the payload header
    expect(isVp8KeyframeStart(Uint8Array.from([0x90, 0x80, 0x81, 0x23, 0x00]))).toBe(true);
    // X=1, I, L, T all present
    expect(isVp8KeyframeStart(Uint8Array.from([0x90, 0xe0, 0x05, 0x11, 0x22, 0x00]))).toBe(true);
  });

  it('rejects interframes, continuation packets and empty payloads', () => {
    expect(isVp8KeyframeStart(Uint8Array.from([0x10, 0x01]))).toBe(false); // P=1
    expect(isVp8KeyframeStart(Uint8Array.from([0x00, 0x00]))).toBe(false); // S=0
    expect(isVp8KeyframeStart(Uint8Array.from([0x11, 0x00]))).toBe(false); // PID=1
    expect(isVp8KeyframeStart(new Uint8Array(0))).toBe(false);
    expect(isVp8KeyframeStart(Uint8Array.from([0x90, 0x80]))).toBe(false); // truncated
  });
});

describe('incoming loss', () => {
  it('counts skipped sequence numbers, takes back late ones, and starts over on a new SSRC', () => {
    const loss = new SequenceLoss();
    const run = (ssrc: number, seqs: number[]) => seqs.map((s) => loss.observe(ssrc, s));
    expect(run(1, [100, 101, 102])).toEqual([0, 0, 0]);
    expect(run(1, [105])).toEqual([2]); // 103 and 104 skipped
    expect(run(1, [103, 104, 104, 99])).toEqual([-1, -1, 0, 0]); // late twice, then nothing missing
    expect(run(1, [105, 106])).toEqual([0, 0]); // a duplicate, then in order
    expect(run(1, [20000, 40000, 60000, 65534])).toEqual([0, 0, 0, 0]); // restart-sized jumps are not loss
    expect(run(1, [1])).toEqual([2]); // across the wrap: 65535 and 0 skipped
    expect(run(2, [5000, 5002])).toEqual([0, 1]); // a new source
    expect(run(2, [5001, 4990])).toEqual([-1, 0]);
  });

  it('takes back reported losses that retransmissions recovered, and skips a sample where a stream left', () => {
    const loss = new ReportedLoss();
    expect(loss.sample(100, 0)).toBe(0);
    expect(loss.sample(200, 20)).toBeCloseTo(0.2); // 20 of 100
    expect(loss.sample(300, 12)).toBeCloseTo(0.06); // 8 taken back: 12 of 200
    expect(loss.sample(250, 12)).toBeCloseTo(0.06); // a stream left the sums: no sample
    expect(loss.sample(350, 12)).toBeCloseTo(0.04); // 12 of 300
  });
});

describe('sequence/timestamp rewriting', () => {
  it('keeps one continuous stream across a source change', () => {
    const r = new SeqTsRewriter(90_000);
    r.start(1111, 500, 1_000_000, 0);
    const first = r.map(500, 1_000_000, 0);
    const second = r.map(501, 1_003_000, 33);
    expect((second.seq - first.seq) & 0xffff).toBe(1);
    expect((second.ts - first.ts) >>> 0).toBe(3000);
    // The publisher restarts with a new SSRC and unrelated numbers, 100 ms later.
    expect(r.isNewSource(2222)).toBe(true);
    r.start(2222, 40_000, 7, 133);
    const third = r.map(40_000, 7, 133);
    expect((third.seq - second.seq) & 0xffff).toBe(1);
    expect((third.ts - second.ts) >>> 0).toBe(9000); // 100 ms at 90 kHz
  });

  it('wraps sequence numbers and timestamps and keeps late packets in place', () => {
    const r = new SeqTsRewriter(48_000);
    r.start(1, 0xfffe, 0xffffff00, 0);
    const a = r.map(0xfffe, 0xffffff00, 0);
    const c = r.map(0x0000, 0x000001c0, 40); // crosses both wraps
    const b = r.map(0xffff, 0xffffff00 + 960, 20); // arrives late
    expect((c.seq - a.seq) & 0xffff).toBe(2);
    expect((b.seq - a.seq) & 0xffff).toBe(1);
    expect((c.ts - a.ts) >>> 0).toBe(0x1c0 + 0x100);
    // A restart continues after the newest packet, not after the late one.
    r.start(2, 10, 10, 60);
    expect((r.map(10, 10, 60).seq - c.seq) & 0xffff).toBe(1);
  });

  it('takes a dropped packet out of the numbering and makes room for inserted ones; a late packet keeps its number', () => {
    const r = new SeqTsRewriter(90_000);
    r.start(1, 0xfffe, 1000, 0);
    const a = r.map(0xfffe, 1000, 0);
    r.drop(0xffff); // the publisher's padding, across the wrap
    const b = r.map(0x0000, 4000, 33);
    expect((b.seq - a.seq) & 0xffff).toBe(1);
    r.drop(0x0001);
    r.drop(0x0002);
    const c = r.map(0x0003, 7000, 66);
    expect((c.seq - b.seq) & 0xffff).toBe(1);
    // Retransmissions of packets numbered before the drops.
    expect(r.map(0xfffe, 1000, 70).seq).toBe(a.seq);
    expect(r.map(0x0000, 4000, 70).seq).toBe(b.seq);
    // A drop out of order leaves its gap rather than renumbering what was sent.
    r.drop(0x0007);
    const d = r.map(0x0004, 10_000, 99);
    expect((d.seq - c.seq) & 0xffff).toBe(1);
    // Room for three packets of our own right after the newest one, at its timestamp.
    const ours = r.insert(3)!;
    expect(ours).toEqual({ firstSeq: (d.seq + 1) & 0xffff, ts: d.ts });
    expect((r.map(0x0005, 13_000, 120).seq - d.seq) & 0xffff).toBe(4);
    expect(r.map(0x0004, 10_000, 130).seq).toBe(d.seq); // a retransmission from before the insert
    expect(new SeqTsRewriter(90_000).insert(1)).toBeUndefined();
  });
});

/** A clock that moves only when the test says so; timers fire in order as it passes them. */
class FakeClock implements Clock {
  private t = 1000;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

describe('keyframe request (PLI) rate limit', () => {
  const setup = (canSend = () => true) => {
    const clock = new FakeClock();
    const sentAt: number[] = [];
    const limiter = new KeyframeRequestLimiter(() => canSend() && sentAt.push(clock.now()) > 0, PLI_INTERVAL_MS, clock);
    return { clock, sentAt, limiter };
  };

  it('sends the first request at once and coalesces the ones inside the interval into one, sent when it ends', () => {
    const { clock, sentAt, limiter } = setup();
    limiter.request();
    expect(sentAt).toEqual([1000]);
    clock.advance(100);
    limiter.request();
    clock.advance(100);
    limiter.request();
    expect(sentAt).toEqual([1000]);
    expect(clock.pending).toBe(1);
    clock.advance(299);
    expect(sentAt).toEqual([1000]);
    clock.advance(1);
    expect(sentAt).toEqual([1000, 1500]);
    // Nothing more was asked for: nothing more is sent.
    clock.advance(5000);
    expect(sentAt).toEqual([1000, 1500]);
    expect(clock.pending).toBe(0);
    // Long after the last one: at once again.
    limiter.request();
    expect(sentAt).toEqual([1000, 1500, 6500]);
  });

  it('does not count a request it could not send, and sends nothing after close', () => {
    let ready = false;
    const { clock, sentAt, limiter } = setup(() => ready);
    limiter.request(); // no SSRC known yet
    ready = true;
    limiter.request();
    expect(sentAt).toEqual([1000]);
    clock.advance(10);
    limiter.request();
    limiter.close();
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    limiter.request();
    expect(sentAt).toEqual([1000]);
  });
});

describe('DownTrack', () => {
  /** A subscriber m-line on a connected transport that records what it is given to send. */
  function downTrack(subscriberCodecs = [{ payloadType: 96, mimeType: 'video/VP8' }, { payloadType: 108, mimeType: 'video/H264' }], layers = 1) {
    const sent: RtpPacket[] = [];
    let keyframeRequests = 0;
    const requestedLayers: (number | undefined)[] = [];
    const none = { subscribe: () => ({ unSubscribe: () => undefined }) };
    // Only the members DownTrack touches; the casts stand in for werift's and our classes.
    const transceiver = {
      mid: '1',
      headerExtensions: [],
      codecs: subscriberCodecs,
      sender: {
        ssrc: 4242,
        codec: subscriberCodecs[0],
        dtlsTransport: { state: 'connected' },
        onPictureLossIndication: none,
        onGenericNack: none,
        collectStats: () => [],
        sendRtp: (packet: RtpPacket) => (sent.push({ ...packet, codec: transceiver.sender.codec?.mimeType } as unknown as RtpPacket), Promise.resolve()),
      },
    } as unknown as RTCRtpTransceiver;
    const track = {
      kind: 'video',
      addDownTrack: () => undefined,
      removeDownTrack: () => undefined,
      layers: Array.from({ length: layers }, () => ({})),
      requestKeyframe: (layer?: number) => void (keyframeRequests++, requestedLayers.push(layer)),
      // the publisher's payload types: 96 VP8, 102 H.264
      codecOf: (pt: number) => (pt === 96 ? 'vp8' : pt === 102 ? 'h264' : undefined),
    } as unknown as PublishedTrack;
    const ctx = { counters: { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 }, settings: { debugLog: false } } as unknown as WorkerContext;
    const down = new DownTrack(ctx, track, transceiver, new SeqTsRewriter(90_000));
    return { down, sent, requests: () => keyframeRequests, requestedLayers };
  }
  const codecOf = (pt: number) => (pt === 96 ? 'vp8' : pt === 102 ? 'h264' : undefined);
  /** One packet from simulcast layer `layer`, as PublishedTrack hands it over. */
  const give = (down: DownTrack, packet: RtpPacket, layer = 0) => down.forward(packet, undefined, layer, codecOf(packet.header.payloadType), 0);
  const vp8 = (seq: number, keyframeStart: boolean) => {
    const header = new RtpHeader();
    header.ssrc = 1111;
    header.sequenceNumber = seq;
    header.timestamp = seq * 3000;
    header.payloadType = 96;
    // VP8 descriptor S=1 PID=0, then P=0 (keyframe) or P=1 (interframe)
    return new RtpPacket(header, Buffer.from([0x10, keyframeStart ? 0x00 : 0x01, 0x9d, 0x01, 0x2a]));
  };

  it('starts a video stream on a keyframe, asking for one meanwhile, then forwards in one numbering', () => {
    const { down, sent, requests } = downTrack();
    const before = requests(); // the constructor asks once on a connected transport
    give(down, vp8(100, false));
    give(down, vp8(101, false));
    expect(sent).toEqual([]);
    expect(requests() - before).toBe(2);
    give(down, vp8(102, true));
    give(down, vp8(103, false));
    expect(sent).toHaveLength(2);
    expect((sent[1]!.header.sequenceNumber - sent[0]!.header.sequenceNumber) & 0xffff).toBe(1);
    expect(requests() - before).toBe(2);
  });

  it('asks a keyframe when a packet stays lost after its resends, at most once a second, not while paused', () => {
    const { down, requests } = downTrack();
    give(down, vp8(100, true));
    const before = requests();
    down.onLostForGood(10_000);
    expect(requests() - before).toBe(1);
    down.onLostForGood(10_999);
    expect(requests() - before).toBe(1);
    down.onLostForGood(11_000);
    expect(requests() - before).toBe(2);
    down.setPaused(true);
    down.onLostForGood(20_000);
    expect(requests() - before).toBe(2);
    expect(down.stats().keyframesForLoss).toBe(2);
  });

  it('holds video that comes before DTLS is up, from a keyframe on, and sends it as soon as it is', () => {
    const { down, sent, requests } = downTrack();
    const dtls = (down.transceiver.sender as unknown as { dtlsTransport: { state: string } }).dtlsTransport;
    dtls.state = 'connecting';
    const before = requests();
    give(down, vp8(100, false)); // not a keyframe: asked for one now, while DTLS shakes hands
    expect(requests() - before).toBe(1);
    give(down, vp8(101, true));
    give(down, vp8(102, false));
    expect(sent).toEqual([]);
    dtls.state = 'connected';
    down.transportUp();
    expect(sent.map((p) => p.header.sequenceNumber - sent[0]!.header.sequenceNumber)).toEqual([0, 1]);
    expect(requests() - before).toBe(1); // the held keyframe needs no other
    give(down, vp8(103, false));
    expect(sent).toHaveLength(3);
    expect((sent[2]!.header.sequenceNumber - sent[1]!.header.sequenceNumber) & 0xffff).toBe(1);
    // Up again after a drop, with a stream running: a fresh keyframe is asked for.
    down.transportUp();
    expect(requests() - before).toBe(2);
  });

  it('sends what it held before the next packet when that comes before the transport says it is up', () => {
    const { down, sent } = downTrack();
    const dtls = (down.transceiver.sender as unknown as { dtlsTransport: { state: string } }).dtlsTransport;
    dtls.state = 'connecting';
    give(down, vp8(10, true));
    dtls.state = 'connected';
    give(down, vp8(11, false));
    expect(sent.map((p) => p.header.sequenceNumber - sent[0]!.header.sequenceNumber)).toEqual([0, 1]);
    down.transportUp(); // nothing held any more: a keyframe for the running stream
    expect(sent).toHaveLength(2);
  });

  it('holds at most ~1 s of video before DTLS is up, then starts again from the next keyframe', () => {
    const { down, sent } = downTrack();
    const dtls = (down.transceiver.sender as unknown as { dtlsTransport: { state: string } }).dtlsTransport;
    dtls.state = 'connecting';
    give(down, vp8(1, true));
    for (let seq = 2; seq <= 400; seq++) give(down, vp8(seq, false));
    give(down, vp8(401, true));
    give(down, vp8(402, false));
    dtls.state = 'connected';
    down.transportUp();
    // What is sent starts on a keyframe (401), not on the interframes of the dropped stretch.
    expect(sent.length).toBeLessThanOrEqual(150);
    expect(sent[0]!.payload[1]).toBe(0x00);
    expect(sent.at(-1)!.payload[1]).toBe(0x01);
  });

  it('drops what it held before DTLS was up when the video is paused meanwhile (last-N)', () => {
    const { down, sent } = downTrack();
    const dtls = (down.transceiver.sender as unknown as { dtlsTransport: { state: string } }).dtlsTransport;
    dtls.state = 'connecting';
    give(down, vp8(1, true));
    give(down, vp8(2, false));
    down.setPaused(true);
    dtls.state = 'connected';
    down.setPaused(false);
    give(down, vp8(3, false)); // not a keyframe: the resumed stream waits for one
    expect(sent).toEqual([]);
    give(down, vp8(4, true));
    expect(sent.map((p) => p.payload[1])).toEqual([0x00]);
  });

  it('drops audio that comes before DTLS is up (it would be stale)', () => {
    const { down, sent } = downTrack();
    (down.track as unknown as { kind: string }).kind = 'audio';
    (down.transceiver.sender as unknown as { dtlsTransport: { state: string } }).dtlsTransport.state = 'connecting';
    give(down, vp8(1, true));
    expect(sent).toEqual([]);
  });

  const h264 = (seq: number, keyframeStart: boolean) => {
    const header = new RtpHeader();
    header.ssrc = 1111;
    header.sequenceNumber = seq;
    header.timestamp = seq * 3000;
    header.payloadType = 102;
    // STAP-A with SPS (7) and PPS (8), or a non-IDR slice (1)
    return new RtpPacket(header, Buffer.from(keyframeStart ? [0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce] : [0x41, 0x9a]));
  };
  const codecOfSent = (p: RtpPacket) => (p as unknown as { codec: string }).codec;

  it('forwards H.264 under the subscriber\'s H.264 payload type, from an SPS/IDR on', () => {
    const { down, sent } = downTrack();
    give(down, h264(10, false));
    expect(sent).toEqual([]);
    give(down, h264(11, true));
    give(down, h264(12, false));
    expect(sent.map(codecOfSent)).toEqual(['video/H264', 'video/H264']);
    expect(down.stats()).toMatchObject({ codec: 'video/H264', undecodable: 0 });
  });

  it('forwards nothing of a codec the subscriber did not accept, and counts it', () => {
    const { down, sent } = downTrack([{ payloadType: 120, mimeType: 'video/VP8' }]);
    give(down, h264(10, true));
    give(down, h264(11, false));
    expect(sent).toEqual([]);
    expect(down.stats().undecodable).toBe(2);
  });

  /** A VP8 packet of simulcast layer `layer` (its own SSRC, sequence and timestamp spaces). */
  const layered = (layer: number, seq: number, keyframeStart: boolean) => {
    const packet = vp8(seq, keyframeStart);
    packet.header.ssrc = 5000 + layer;
    packet.header.sequenceNumber = (layer * 20_000 + seq) & 0xffff;
    packet.header.timestamp = layer * 7_000_000 + seq * 3000;
    return packet;
  };

  it('forwards one simulcast layer, the top one first, and moves to another at that layer\'s keyframe, in one numbering', () => {
    const { down, sent, requestedLayers } = downTrack(undefined, 3);
    const all = (seq: number, keyframe: boolean) => [0, 1, 2].forEach((layer) => give(down, layered(layer, seq, keyframe), layer));
    all(1, true);
    all(2, false);
    expect(sent.map((p) => p.payload)).toHaveLength(2); // layer 2 only
    requestedLayers.length = 0;
    down.setLayer(0);
    expect(requestedLayers).toEqual([0]); // a keyframe on the new layer, asked for at once
    all(3, false); // no keyframe on layer 0 yet: layer 2 still flows
    all(4, true); // layer 0's keyframe: the switch
    all(5, false);
    expect(sent).toHaveLength(5);
    expect(down.layer).toEqual({ current: 0, target: 0 });
    const seqs = sent.map((p) => p.header.sequenceNumber);
    for (let i = 1; i < seqs.length; i++) expect((seqs[i]! - seqs[i - 1]!) & 0xffff).toBe(1);
    const ts = sent.map((p) => p.header.timestamp);
    for (let i = 1; i < ts.length; i++) expect(((ts[i]! - ts[i - 1]!) >>> 0) < 90_000).toBe(true); // no jump across layers
  });

  it('continues the VP8 picture IDs and TL0PICIDX across a layer switch (each layer has its own)', () => {
    const { down, sent } = downTrack(undefined, 3);
    /** Layer `layer`'s picture `n`: its own picture ID and TL0PICIDX sequences, temporal pattern 0-2-1-2. */
    const picture = (layer: number, n: number, keyframe: boolean) => {
      const packet = layered(layer, n, keyframe);
      const id = (layer * 9000 + n) & 0x7fff;
      const tl0 = (layer * 100 + (n >> 2)) & 0xff;
      packet.payload = Buffer.from([0x90, 0xe0, 0x80 | (id >> 8), id & 0xff, tl0, [0, 2, 1, 2][n % 4]! << 6, keyframe ? 0x00 : 0x01, 0x9d, 0x01, 0x2a]);
      return packet;
    };
    for (let n = 1; n <= 6; n++) for (const layer of [0, 1, 2]) give(down, picture(layer, n, n === 1), layer);
    down.setLayer(0);
    for (let n = 7; n <= 12; n++) for (const layer of [0, 1, 2]) give(down, picture(layer, n, n === 8), layer);
    const ids = sent.map((p) => ((p.payload[2]! & 0x7f) << 8) | p.payload[3]!);
    const tl0s = sent.map((p) => p.payload[4]!);
    // layer 2 for pictures 1-7, layer 0 from its keyframe (picture 8) on
    expect(ids).toEqual([18001, 18002, 18003, 18004, 18005, 18006, 18007, 18008, 18009, 18010, 18011, 18012]);
    expect(tl0s).toEqual([200, 200, 200, 201, 201, 201, 201, 202, 202, 202, 202, 203]);
  });

  it('drops padding-only packets of layers it does not forward, without asking for keyframes', () => {
    const { down, sent, requestedLayers } = downTrack(undefined, 3);
    give(down, layered(2, 1, true), 2);
    requestedLayers.length = 0;
    const padding = layered(1, 2, false);
    padding.payload = Buffer.alloc(0);
    give(down, padding, 1);
    expect(sent).toHaveLength(1);
    expect(requestedLayers).toEqual([]);
  });

  it('takes the publisher\'s padding out of the stream it forwards, and sends its own only between frames', () => {
    const { down, sent } = downTrack();
    const key = vp8(10, true);
    key.header.padding = true; // werift took the padding bytes off the payload: no P bit goes out
    key.header.paddingSize = 4;
    give(down, key);
    const padding = vp8(11, false);
    padding.payload = Buffer.alloc(0);
    give(down, padding);
    give(down, vp8(12, false));
    expect(sent).toHaveLength(2);
    expect(sent.map((p) => p.header.padding)).toEqual([false, false]);
    expect((sent[1]!.header.sequenceNumber - sent[0]!.header.sequenceNumber) & 0xffff).toBe(1);
    expect(down.sendPadding(2)).toBe(0); // packet 12 did not end its frame
    const end = vp8(13, false);
    end.header.marker = true;
    give(down, end);
    expect(down.sendPadding(2)).toBe(2);
    give(down, vp8(14, false));
    const late = vp8(13, false);
    late.header.marker = true;
    give(down, late); // a retransmission of the end of an earlier frame: 14's frame is not over
    expect(down.sendPadding(1)).toBe(0);
    sent.pop();
    const seqs = sent.map((p) => p.header.sequenceNumber);
    for (let i = 1; i < seqs.length; i++) expect((seqs[i]! - seqs[i - 1]!) & 0xffff).toBe(1);
    const ours = sent.slice(3, 5);
    expect(ours.map((p) => [p.header.padding, p.header.marker, p.header.timestamp, p.payload.length, p.payload.at(-1)])).toEqual([
      [true, false, sent[2]!.header.timestamp, 255, 255],
      [true, false, sent[2]!.header.timestamp, 255, 255],
    ]);
  });

  it('leaves out the losses the subscriber reports in the first 2.5 s after a resume', () => {
    const { down } = downTrack();
    const sender = down.transceiver.sender as unknown as { remotePacketsLost: number };
    give(down, vp8(10, true));
    give(down, vp8(11, false));
    sender.remotePacketsLost = 1;
    expect(down.sentAndLost(performance.now())).toEqual({ sent: 2, lost: 1 });
    down.setPaused(true);
    down.setPaused(false);
    const resumed = performance.now();
    sender.remotePacketsLost = 4; // the tail lost before the pause, counted once newer packets arrive
    give(down, vp8(12, true));
    expect(down.sentAndLost(resumed + 1000)).toEqual({ sent: 2, lost: 1 });
    expect(down.sentAndLost(resumed + 3000)).toEqual({ sent: 2, lost: 1 });
    sender.remotePacketsLost = 6;
    give(down, vp8(13, false));
    expect(down.sentAndLost(resumed + 3500)).toEqual({ sent: 3, lost: 3 });
  });

  it('restarts the stream on a keyframe when the publisher switches codec', () => {
    const { down, sent } = downTrack();
    give(down, h264(10, true));
    give(down, vp8(11, false)); // VP8 interframe: cannot start the new codec
    expect(sent).toHaveLength(1);
    give(down, vp8(12, true));
    expect(sent.map(codecOfSent)).toEqual(['video/H264', 'video/VP8']);
    expect((sent[1]!.header.sequenceNumber - sent[0]!.header.sequenceNumber) & 0xffff).toBe(1);
  });
});

describe('active speaker', () => {
  const talk = (d: ActiveSpeakerDetector, peer: string, level: number, packets = 10) => {
    for (let i = 0; i < packets; i++) d.addLevel(peer, level);
  };

  it('picks the loudest, ignores silence and switches with hysteresis and a minimum interval', () => {
    const d = new ActiveSpeakerDetector();
    let t = 0;
    const step = (a: number, b: number) => {
      talk(d, 'a', a);
      talk(d, 'b', b);
      t += 200;
      return d.tick(t);
    };
    expect(step(127, 127)).toBeUndefined(); // silence: nobody
    expect(step(30, 127)).toBe('a');
    // b gets a bit louder than a at once, but not before 1.5 s
    const changes: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) changes.push(step(127, 25));
    expect(changes.filter(Boolean)).toEqual([]);
    const later: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) later.push(step(127, 25));
    expect(later.filter(Boolean)).toEqual(['b']);
    // silence keeps the last speaker
    for (let i = 0; i < 20; i++) expect(step(127, 127)).toBeUndefined();
    expect(d.current).toBe('b');
    expect(d.removePeer('b')).toBeNull();
    expect(d.current).toBeNull();
  });

  it('does not flap between two similar voices', () => {
    const d = new ActiveSpeakerDetector();
    let switches = 0;
    for (let i = 1; i <= 50; i++) {
      talk(d, 'a', 30 + (i % 2));
      talk(d, 'b', 30 + ((i + 1) % 2));
      if (d.tick(i * 200) !== undefined) switches++;
    }
    expect(switches).toBe(1);
  });
});

describe('SDP helpers', () => {
  it('accepts UDP candidates with IP literals only', () => {
    expect(isAcceptableCandidate('candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host')).toBe(true);
    expect(isAcceptableCandidate('a=candidate:1 1 UDP 2122260223 ::1 50000 typ host')).toBe(true);
    expect(isAcceptableCandidate('candidate:1 1 udp 2122260223 6b0c1e5a-1b2c-4d5e-8f90-123456789abc.local 50000 typ host')).toBe(false);
    expect(isAcceptableCandidate('candidate:1 1 udp 2122260223 example.com 50000 typ host')).toBe(false);
    expect(isAcceptableCandidate('candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active')).toBe(false);
    expect(isAcceptableCandidate('garbage')).toBe(false);
  });

  it('drops the SSRC lines of a simulcast m-line only (it is routed by rid)', () => {
    const sdp = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 109',
      'a=mid:0',
      'a=ssrc:11 cname:{x}',
      'm=video 9 UDP/TLS/RTP/SAVPF 120',
      'a=mid:1',
      'a=rid:q send',
      'a=simulcast:send q;h;f',
      'a=ssrc:21 cname:{x}',
      'a=ssrc:22 cname:{x}',
      'a=ssrc-group:FID 21 22',
      'm=video 9 UDP/TLS/RTP/SAVPF 120',
      'a=mid:2',
      'a=ssrc:31 cname:{x}',
      '',
    ].join('\r\n');
    const out = sanitizeRemoteSdp(sdp, { transportCc: true }).sdp;
    expect(out.match(/^a=ssrc[^\r]*/gm)).toEqual(['a=ssrc:11 cname:{x}', 'a=ssrc:31 cname:{x}']);
    expect(out).toContain('a=simulcast:send q;h;f');
  });

  it('drops mDNS candidates and transport-cc from a remote SDP and parses m-lines', () => {
    const sdp = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:0',
      'a=sendonly',
      'a=candidate:1 1 udp 2122260223 abcd.local 50000 typ host',
      'a=candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host',
      'a=rtcp-fb:111 transport-cc',
      'm=video 0 UDP/TLS/RTP/SAVPF 96',
      'a=mid:1',
      'a=inactive',
      '',
    ].join('\r\n');
    const out = sanitizeRemoteSdp(sdp);
    expect(out.dropped).toBe(1);
    expect(out.sdp).not.toContain('.local');
    expect(out.sdp).not.toContain('transport-cc');
    expect(out.sdp).toContain('127.0.0.1 50001');
    expect(out.sdp.endsWith('\r\n')).toBe(true);
    const m = parseMediaSections(sdp);
    expect(m.map((x) => [x.kind, x.mid, x.direction, x.port])).toEqual([
      ['audio', '0', 'sendonly', 9],
      ['video', '1', 'inactive', 0],
    ]);
  });

  it('finds the RTX payload type that repairs a codec, if the answer kept one', () => {
    const codec = (payloadType: number, mimeType: string, parameters?: string) => new RTCRtpCodecParameters({ payloadType, mimeType, clockRate: 90000, parameters });
    const codecs = [codec(97, 'video/VP8'), codec(98, 'video/rtx', 'apt=97'), codec(99, 'video/H264', 'packetization-mode=1'), codec(100, 'video/rtx', 'apt=99')];
    expect(rtxPayloadTypeFor(codecs, 97)).toBe(98);
    expect(rtxPayloadTypeFor(codecs, 99)).toBe(100);
    expect(rtxPayloadTypeFor(codecs.slice(0, 1), 97)).toBeUndefined();
    expect(rtxPayloadTypeFor([codec(96, 'video/rtx', 'apt=970')], 97)).toBeUndefined();
  });

  it('keeps our inactive m-lines alive (port 9) without their RTX SSRC, and leaves the sending ones as they are', () => {
    const offer = [
      'v=0',
      'm=video 0 UDP/TLS/RTP/SAVPF 97 98', 'a=mid:1', 'a=inactive', 'a=ssrc-group:FID 5 6', 'a=ssrc:5 cname:x', 'a=ssrc:6 cname:x', 'a=rtcp-mux',
      'm=video 9 UDP/TLS/RTP/SAVPF 97 98', 'a=mid:2', 'a=sendonly', 'a=msid:p t', 'a=ssrc-group:FID 7 8', 'a=ssrc:7 cname:x', 'a=ssrc:8 cname:x',
      '',
    ].join('\r\n');
    const [inactive, sending] = keepInactiveSectionsAlive(offer).split(/(?=^m=)/m).slice(1);
    expect(inactive).toBe(['m=video 9 UDP/TLS/RTP/SAVPF 97 98', 'a=mid:1', 'a=inactive', 'a=ssrc:5 cname:x', 'a=rtcp-mux', ''].join('\r\n'));
    expect(sending).toBe(offer.split(/(?=^m=)/m)[2]);
  });

  it('reads the simulcast rids an offer sends, in its order, without paused marks or alternatives', () => {
    const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=sendonly', 'a=rid:q send', 'a=rid:h send', 'a=rid:f send', 'a=simulcast:send q;~h;f,f2', ''].join('\r\n');
    const [m] = parseMediaSections(sdp);
    expect(m).toMatchObject({ simulcast: true, sendRids: ['q', 'h', 'f'] });
    expect(parseMediaSections(sdp.replace(/a=simulcast.*\r\n/, ''))[0]).toMatchObject({ simulcast: false, sendRids: [] });
  });

  it('fits a publisher answer to the offer: rejected m-lines leave BUNDLE, inactive ones keep a port', () => {
    // The browser stopped mid 2 (port 0, out of its BUNDLE group) and made mid 1 inactive.
    const offer = [
      'v=0', 'a=group:BUNDLE 0 1',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=sendonly',
      'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=inactive',
      'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=inactive', '',
    ].join('\r\n');
    // What werift answers: every mid bundled, inactive sections on port 0.
    const answer = [
      'v=0', 'a=group:BUNDLE 0 1 2',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=recvonly',
      'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=inactive',
      'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=inactive', '',
    ].join('\r\n');
    const fitted = fitAnswerToOffer(offer, answer);
    expect(fitted).toContain('a=group:BUNDLE 0 1\r\n');
    expect(parseMediaSections(fitted).map((x) => [x.mid, x.port])).toEqual([['0', 9], ['1', 9], ['2', 0]]);
    expect(fitted.endsWith('\r\n')).toBe(true);
  });

  it('takes a bundle-only m-line (port 0, as Firefox offers its camera) as live, not rejected', () => {
    // Firefox's publisher offer (firefox-esr 153), trimmed: only the first m-line has a port.
    const offer = [
      'v=0', 'a=group:BUNDLE 0 1',
      'm=audio 48851 UDP/TLS/RTP/SAVPF 109', 'a=sendonly', 'a=mid:0',
      'm=video 0 UDP/TLS/RTP/SAVPF 120 124', 'a=bundle-only', 'a=sendonly', 'a=mid:1',
      'm=video 0 UDP/TLS/RTP/SAVPF 120', 'a=inactive', 'a=mid:2', '',
    ].join('\r\n');
    const sections = parseMediaSections(offer);
    expect(sections.map((m) => [m.mid, isRejected(m), isSending(m)])).toEqual([['0', false, true], ['1', false, true], ['2', true, false]]);
    const answer = [
      'v=0', 'a=group:BUNDLE 0 1 2',
      'm=audio 9 UDP/TLS/RTP/SAVPF 109', 'a=mid:0', 'a=recvonly',
      'm=video 9 UDP/TLS/RTP/SAVPF 120', 'a=mid:1', 'a=recvonly',
      'm=video 0 UDP/TLS/RTP/SAVPF 120', 'a=mid:2', 'a=inactive', '',
    ].join('\r\n');
    const fitted = fitAnswerToOffer(offer, answer);
    expect(fitted).toContain('a=group:BUNDLE 0 1\r\n');
    expect(parseMediaSections(fitted).map((x) => [x.mid, x.port])).toEqual([['0', 9], ['1', 9], ['2', 0]]);
  });
});

describe('MediaService configuration', () => {
  it('rejects bad settings before starting anything', () => {
    const base = { listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'] };
    expect(() => new MediaService({ ...base, workers: 0 })).toThrow(MediaError);
    expect(() => new MediaService({ ...base, listenIp: 'localhost' })).toThrow(/listenIp/);
    expect(() => new MediaService({ ...base, announcedAddresses: ['media.example.com'] })).toThrow(/not an IP/);
    expect(() => new MediaService({ ...base, workers: 2, rtcMinPort: 40000, rtcMaxPort: 40002 })).toThrow(/too small/);
    expect(() => new MediaService({ ...base, rtcMinPort: 40000 })).toThrow(/together/);
    const svc = new MediaService({ ...base, workers: 1 });
    expect(svc.running).toBe(false);
    expect(() => svc.setAnnouncedAddresses(['nope'])).toThrow(MediaError);
    return expect(svc.openRoom('x')).rejects.toMatchObject({ code: 'not_running' });
  });
});
