// werift PeerConnection settings shared by both transports of every peer.
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  useAbsSendTime,
  useAudioLevelIndication,
  useFIR,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useH264,
  useSdesMid,
  useSdesRTPStreamId,
  useTransportWideCC,
  useTWCC,
  useVP8,
} from 'werift';
import type { WorkerSettings } from '../protocol.js';
import type { TransportState } from '../types.js';
import { patchWeriftCertificate } from './werift-certificate.js';
import { patchWeriftIce } from './werift-ice.js';
import { patchWeriftRtpHeader } from './werift-rtp-header.js';
import { patchWeriftNackLimit } from './werift-nack-limit.js';
import { patchWeriftReceivePath } from './werift-receive-path.js';
import { patchWeriftReceiver } from './werift-receiver.js';
import { patchWeriftRtcp } from './werift-rtcp.js';
import { patchWeriftSender } from './werift-sender.js';
import { patchWeriftSenderBwe } from './werift-sender-bwe.js';
import { patchWeriftSrtp } from './werift-srtp.js';
import { patchWeriftTwcc } from './werift-twcc.js';

// Before any PeerConnection exists: no implicit STUN server, no mDNS/DNS for remote candidates;
// transport-wide feedback that browsers can build a bandwidth estimate on; per-packet SRTP and
// RTP header work without a cipher object, bit strings or array copies per packet (the media
// worker's largest costs in a profile, src/media/README.md "Beside Janus"), and a sender that
// builds less per forwarded packet (werift-sender.ts, werift-sender-bwe.ts); offers built without
// parsing the certificate again for each m-line (werift-certificate.ts); received SRTP taken from
// its socket straight to the RTP router (werift-receive-path.ts).
patchWeriftIce();
patchWeriftTwcc();
patchWeriftRtpHeader();
patchWeriftSrtp();
patchWeriftSender();
patchWeriftNackLimit();
patchWeriftReceiver();
patchWeriftReceivePath();
patchWeriftRtcp();
patchWeriftSenderBwe();
patchWeriftCertificate();

/**
 * `transportCc`: negotiate transport-wide congestion control (publisher transports: the browser
 * sizes its bitrate and simulcast layers from our feedback, werift-twcc.ts). `simulcast`: accept
 * simulcast video (the rid header extension; VP8 without RTX, which werift lacks for simulcast).
 * `absSendTime` (subscriber transports): our send time on each video packet, from which the
 * browser's receive-side estimate (its REMB, what the allocator fits to) is computed. Without it
 * Chrome estimates from the publisher's capture timestamps, and our forwarding jitter looked like
 * congestion to it: its REMB fell to 5 kbit/s on a clean loopback link. `rtx` (subscriber
 * transports): retransmissions go in RTX (RFC 4588) when the browser accepts it, on a stream of
 * their own, as browsers send them; werift's sender wraps them (DownTrack keeps its RTX payload
 * type with the codec).
 */
export function createPeerConnection(
  settings: WorkerSettings,
  opts: { transportCc?: boolean; simulcast?: boolean; absSendTime?: boolean; rtx?: boolean; probes?: boolean } = {},
): RTCPeerConnection {
  const feedback = [useNACK(), usePLI(), useFIR(), useREMB(), ...(opts.transportCc ? [useTWCC()] : [])];
  const announced = settings.announcedAddresses;
  const bindAll = settings.listenIp === '0.0.0.0' || settings.listenIp === '::';
  return new RTCPeerConnection({
    // Only what the operator configured. `iceServers: []` alone is not enough: werift's ICE
    // agent falls back to Google's STUN server by itself (werift-ice.ts removes that fallback).
    iceServers: settings.iceServers,
    // With announced addresses, interface discovery is off (iceUseIpv4: false) and each
    // announced address becomes one host candidate on its own socket bound to listenIp, so a
    // public address behind a 1:1 NAT works and no other interface address leaks.
    iceUseIpv4: announced.length === 0,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: announced.length > 0 ? announced : undefined,
    iceInterfaceAddresses: bindAll ? undefined : { udp4: settings.listenIp },
    icePortRange: settings.portRange,
    bundlePolicy: 'max-bundle',
    codecs: {
      // Opus only: no PCMU fallback to transcode for, every browser has Opus.
      audio: [useOPUS()],
      // VP8 and H.264 (constrained baseline, packetization-mode 1: what iOS Safari encodes in
      // hardware and every WebRTC browser decodes; codecs.ts filters the variants a client
      // offers), with NACK and PLI (werift-nack-limit.ts answers NACKs from a 512-packet
      // history; nack-requester.ts sends them upstream). RTX on subscriber transports only: werift
      // does not receive it with simulcast (src/media/README.md).
      // Subscriber offers list both on every video m-line; a DownTrack picks the publisher's.
      // werift numbers an RTX codec's apt after the codec just before it.
      video: [
        useVP8({ rtcpFeedback: feedback }),
        ...(opts.rtx ? [rtxCodec()] : []),
        useH264({
          mimeType: 'video/H264', // werift writes `h264`, which browsers then report as such
          rtcpFeedback: feedback,
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
        ...(opts.rtx ? [rtxCodec()] : []),
      ],
    },
    headerExtensions: {
      // audio-level must be listed or werift drops the extmap from the answer.
      audio: [useSdesMid(), useAudioLevelIndication(), ...(opts.transportCc ? [useTransportWideCC()] : [])],
      video: [
        useSdesMid(),
        ...(opts.simulcast ? [useSdesRTPStreamId()] : []),
        // `probes`: the sequence numbers only, which probe clusters carry (subscribers).
        ...(opts.transportCc || opts.probes ? [useTransportWideCC()] : []),
        ...(opts.absSendTime ? [useAbsSendTime()] : []),
      ],
    },
  });
}

function rtxCodec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90_000 });
}

/**
 * Nothing received from the browser on a connected transport for this long: it is reported
 * `disconnected` (the others see the person as reconnecting). Browsers check the selected pair
 * every 2.5 s (Chromium, when stable) to 5 s (Firefox's consent checks), and RTCP and media
 * arrive far more often; werift itself only notices after 30 s (consent expiry, then `failed`).
 */
export const SILENT_AFTER_MS = 3_000;
const LIVENESS_CHECK_MS = 500;

/** Packets, checks and check answers received on the transport's selected candidate pair(s). */
function heardCount(pc: RTCPeerConnection): number {
  let n = 0;
  for (const dtls of pc.dtlsTransports) {
    const pair = dtls.iceTransport.connection.nominated;
    if (pair) n += pair.packetsReceived + pair.requestsReceived + pair.responsesReceived;
  }
  return n;
}

/**
 * Calls `onState` when the transport enters a state callers act on (`TransportState`): werift's
 * own states (repeats dropped), and `disconnected` / `connected` again as the browser goes
 * silent for SILENT_AFTER_MS and is heard again (werift stays `connected` through a drop of up
 * to 30 s). Returns a function that stops watching (call it on close).
 */
export function reportedStateChanges(pc: RTCPeerConnection, onState: (state: TransportState) => void): () => void {
  let werift: string = 'new';
  let reported: TransportState | undefined;
  const report = (state: TransportState) => {
    if (state === reported) return;
    reported = state;
    onState(state);
  };
  pc.connectionStateChange.subscribe((state) => {
    if (state === werift) return;
    werift = state;
    if (state === 'connected' || state === 'disconnected' || state === 'failed') report(state);
  });
  let heard = -1;
  let heardAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const count = heardCount(pc);
    if (count !== heard) {
      heard = count;
      heardAt = now;
    }
    if (werift !== 'connected') return;
    report(now - heardAt >= SILENT_AFTER_MS ? 'disconnected' : 'connected');
  }, LIVENESS_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
