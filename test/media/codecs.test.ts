// The video codec rules of the SFU (src/media/worker/codecs.ts): which H.264 variants are
// answered, how a client offer is narrowed, where an H.264 keyframe starts.
import { describe, expect, it } from 'vitest';
import { filterOfferedVideoCodecs, isAcceptedH264Fmtp, isH264KeyframeStart } from '../../src/media/worker/codecs.js';

// Shaped like Chromium's video m-line after setCodecPreferences put H.264 first (trimmed).
const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 102 103 104 105 106 107 96 97', 'a=mid:1',
  'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  'a=rtpmap:104 H264/90000', 'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:105 rtx/90000', 'a=fmtp:105 apt=104',
  'a=rtpmap:106 H264/90000', 'a=rtcp-fb:106 nack', 'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:107 rtx/90000', 'a=fmtp:107 apt=106',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack',
  'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', '',
].join('\r\n');

describe('H.264 variants', () => {
  it('accepts constrained baseline with packetization-mode 1, at any level', () => {
    expect(isAcceptedH264Fmtp('level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f')).toBe(true);
    expect(isAcceptedH264Fmtp('profile-level-id=42E034;packetization-mode=1')).toBe(true);
    expect(isAcceptedH264Fmtp('profile-level-id=42c01f;packetization-mode=1')).toBe(true); // constraint_set1 too
  });

  it('refuses mode 0, baseline without constraints, main and iOS Safari\'s High', () => {
    expect(isAcceptedH264Fmtp('profile-level-id=42e01f;packetization-mode=0')).toBe(false);
    expect(isAcceptedH264Fmtp('profile-level-id=42e01f')).toBe(false); // mode 0 by default
    expect(isAcceptedH264Fmtp('profile-level-id=42001f;packetization-mode=1')).toBe(false);
    expect(isAcceptedH264Fmtp('profile-level-id=4d001f;packetization-mode=1')).toBe(false);
    expect(isAcceptedH264Fmtp('profile-level-id=640c1f;packetization-mode=1')).toBe(false);
    expect(isAcceptedH264Fmtp('profile-level-id=zz;packetization-mode=1')).toBe(false);
  });
});

describe('narrowing an offer', () => {
  it('keeps the accepted H.264 payload type in the client\'s order, drops the others with their rtx', () => {
    const out = filterOfferedVideoCodecs(OFFER, { h264: true });
    expect(out).toContain('m=video 9 UDP/TLS/RTP/SAVPF 106 107 96 97\r\n');
    expect(out).not.toMatch(/a=(rtpmap|fmtp|rtcp-fb):(102|103|104|105) /);
    expect(out).toContain('a=rtcp-fb:106 nack');
    expect(out).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
    expect(out.split('\r\n').every((l, i, all) => i === all.length - 1 || !l.includes('\n'))).toBe(true);
  });

  it('drops every H.264 payload type when the room does not allow it', () => {
    const out = filterOfferedVideoCodecs(OFFER, { h264: false });
    expect(out).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n');
    expect(out).not.toMatch(/H264/);
  });

  it('leaves an offer without H.264 as it was', () => {
    const vp8Only = OFFER.replace(/a=(rtpmap|fmtp|rtcp-fb):10[2-7] [^\r]*\r\n/g, '').replace(' 102 103 104 105 106 107', '');
    expect(filterOfferedVideoCodecs(vp8Only, { h264: true })).toBe(vp8Only);
  });
});

describe('H.264 keyframe detection', () => {
  it('finds SPS and IDR as single NAL units, inside a STAP-A, and an FU-A start of an IDR', () => {
    expect(isH264KeyframeStart(Uint8Array.from([0x67, 0x42]))).toBe(true); // SPS
    expect(isH264KeyframeStart(Uint8Array.from([0x65, 0x88]))).toBe(true); // IDR
    expect(isH264KeyframeStart(Uint8Array.from([0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]))).toBe(true);
    expect(isH264KeyframeStart(Uint8Array.from([0x18, 0x00, 0x01, 0x06, 0x00, 0x02, 0x65, 0x88]))).toBe(true); // SEI, then IDR
    expect(isH264KeyframeStart(Uint8Array.from([0x7c, 0x85, 0x88]))).toBe(true); // FU-A, S=1, IDR
  });

  it('rejects other slices, FU-A continuations, SEI-only aggregates and empty payloads', () => {
    expect(isH264KeyframeStart(Uint8Array.from([0x41, 0x9a]))).toBe(false);
    expect(isH264KeyframeStart(Uint8Array.from([0x7c, 0x05, 0x88]))).toBe(false); // FU-A, S=0
    expect(isH264KeyframeStart(Uint8Array.from([0x7c, 0x81, 0x9a]))).toBe(false); // FU-A start of a non-IDR
    expect(isH264KeyframeStart(Uint8Array.from([0x18, 0x00, 0x01, 0x06]))).toBe(false);
    expect(isH264KeyframeStart(Uint8Array.from([0x18, 0xff, 0xff, 0x01]))).toBe(false); // truncated
    expect(isH264KeyframeStart(new Uint8Array(0))).toBe(false);
  });
});
