// The video codecs the SFU forwards (VP8 and H.264) and the few facts it needs about them:
// which H.264 variants it accepts, and where a keyframe starts. Pure functions, unit-tested.
import { isVp8KeyframeStart } from './vp8.js';

export type VideoCodec = 'vp8' | 'h264';

/** Our codec for a werift/SDP mime type (`video/VP8`, `video/H264`), if we forward it. */
export function videoCodecOf(mimeType: string | undefined): VideoCodec | undefined {
  const mime = mimeType?.toLowerCase();
  return mime === 'video/vp8' ? 'vp8' : mime === 'video/h264' ? 'h264' : undefined;
}

/**
 * The H.264 variant we negotiate: packetization-mode 1 (every browser's; mode 0 allows single
 * NAL units only) and a constrained-baseline profile-level-id (`42e0xx`: profile_idc 0x42 with
 * constraint_set1). Every H.264 WebRTC decoder (Chromium, Safari, Firefox's OpenH264) decodes
 * constrained baseline, whatever level (level-asymmetry-allowed); iOS Safari offers it besides
 * High (`640c1f`), which Debian's Chromium does not list as a decoder, so High is not answered.
 */
export function isAcceptedH264Fmtp(fmtp: string): boolean {
  const params = new Map(
    fmtp.split(';').map((p) => {
      const [k = '', v = ''] = p.trim().split('=');
      return [k.toLowerCase(), v.toLowerCase()] as const;
    }),
  );
  if (params.get('packetization-mode') !== '1') return false;
  const plid = params.get('profile-level-id') ?? '42001f'; // RFC 6184 default: baseline
  if (!/^[0-9a-f]{6}$/.test(plid)) return false;
  const profileIdc = parseInt(plid.slice(0, 2), 16);
  const constraints = parseInt(plid.slice(2, 4), 16);
  return profileIdc === 0x42 && (constraints & 0x40) !== 0;
}

/**
 * Keeps, in the video m-lines of a client offer, only the H.264 payload types we accept (and
 * none when `h264` is false), with the rtx/red/fec payload types that point at removed ones.
 * werift matches codecs by mime type alone and would answer every H.264 variant offered; with
 * the client's order kept, the first codec of our answer is the one the client prefers among
 * those we accept, which is the one it sends (JSEP).
 */
export function filterOfferedVideoCodecs(sdp: string, opts: { h264: boolean }): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const [session = '', ...sections] = sdp.split(/(?=^m=)/m);
  const fitted = sections.map((section) => (section.startsWith('m=video ') ? filterSection(section, opts.h264) : section));
  return [session, ...fitted].join('').replace(/\r?\n/g, eol);
}

/** The payload type a repair format (rtx, apt=PT) repairs, from its fmtp parameters. */
function aptOf(params: string): string | undefined {
  return /(?:^|;)\s*apt=(\d+)/.exec(params)?.[1];
}

/** The RTX payload type (RFC 4588) that repairs `payloadType`, among an m-line's codecs. */
export function rtxPayloadTypeFor(codecs: readonly { mimeType: string; payloadType: number; parameters?: string }[], payloadType: number): number | undefined {
  return codecs.find((c) => c.mimeType.toLowerCase() === 'video/rtx' && aptOf(c.parameters ?? '') === String(payloadType))?.payloadType;
}

function filterSection(section: string, allowH264: boolean): string {
  const lines = section.split(/\r?\n/);
  const rtpmap = new Map<string, string>(); // pt -> encoding name (lower case)
  const fmtp = new Map<string, string>();
  for (const line of lines) {
    let m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    if (m) rtpmap.set(m[1]!, m[2]!.toLowerCase());
    m = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (m) fmtp.set(m[1]!, m[2]!);
  }
  const removed = new Set<string>();
  for (const [pt, name] of rtpmap) {
    if (name === 'h264' && (!allowH264 || !isAcceptedH264Fmtp(fmtp.get(pt) ?? ''))) removed.add(pt);
  }
  if (removed.size === 0) return section;
  // Repair payload types (rtx apt=PT) of removed codecs go too.
  for (const [pt, params] of fmtp) {
    const apt = aptOf(params);
    if (apt && removed.has(apt)) removed.add(pt);
  }
  return lines
    .map((line, i) => {
      if (i === 0) {
        // m=video PORT PROTO PT...
        const [media = '', port = '', proto = '', ...pts] = line.split(' ');
        return [media, port, proto, ...pts.filter((pt) => !removed.has(pt))].join(' ');
      }
      return line;
    })
    .filter((line) => {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+) /.exec(line)?.[1];
      return pt === undefined || !removed.has(pt);
    })
    .join('\n');
}

/**
 * True when `payload` starts an H.264 keyframe (RFC 6184): an SPS or an IDR slice as a single
 * NAL unit, inside a STAP-A, or the first fragment of an FU-A. Browsers send SPS and PPS in front
 * of every IDR. Allocation-free: runs for every video packet while a subscriber waits.
 */
export function isH264KeyframeStart(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    // STAP-A: (16-bit size, NAL unit)*
    let offset = 1;
    while (offset + 2 < payload.length) {
      const size = (payload[offset]! << 8) | payload[offset + 1]!;
      const nal = payload[offset + 2]! & 0x1f;
      if (nal === 5 || nal === 7) return true;
      offset += 2 + size;
    }
    return false;
  }
  if (type === 28) {
    // FU-A: indicator, then header with S bit and the fragmented NAL unit's type
    if (payload.length < 2) return false;
    return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5;
  }
  return false;
}

export function isKeyframeStart(codec: VideoCodec, payload: Uint8Array): boolean {
  return codec === 'h264' ? isH264KeyframeStart(payload) : isVp8KeyframeStart(payload);
}
