// werift PeerConnection settings shared by both transports of every peer.
import {
  RTCPeerConnection,
  useAudioLevelIndication,
  useFIR,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useH264,
  useSdesMid,
  useVP8,
} from 'werift';
import type { WorkerSettings } from '../protocol.js';
import type { TransportState } from '../types.js';
import { patchWeriftIce } from './werift-ice.js';

// Before any PeerConnection exists: no implicit STUN server, no mDNS/DNS for remote candidates.
patchWeriftIce();

export function createPeerConnection(settings: WorkerSettings): RTCPeerConnection {
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
      // offers), with NACK and PLI (werift's RTCRtpSender answers NACKs from its 128-packet
      // history; its receiver sends NACKs upstream). No RTX: see src/media/README.md.
      // Subscriber offers list both on every video m-line; a DownTrack picks the publisher's.
      video: [
        useVP8({ rtcpFeedback: [useNACK(), usePLI(), useFIR(), useREMB()] }),
        useH264({
          mimeType: 'video/H264', // werift writes `h264`, which browsers then report as such
          rtcpFeedback: [useNACK(), usePLI(), useFIR(), useREMB()],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
    },
    headerExtensions: {
      // audio-level must be listed or werift drops the extmap from the answer.
      audio: [useSdesMid(), useAudioLevelIndication()],
      video: [useSdesMid()],
    },
  });
}

/**
 * Calls `onState` when the transport enters a state callers act on (`TransportState`); werift
 * repeats some states, those repeats are dropped.
 */
export function reportedStateChanges(pc: RTCPeerConnection, onState: (state: TransportState) => void): void {
  let last: string = 'new';
  pc.connectionStateChange.subscribe((state) => {
    if (state === last) return;
    last = state;
    if (state === 'connected' || state === 'disconnected' || state === 'failed') onState(state);
  });
}
