// What the SFU answers to an offer shaped like iOS Safari's (nothing here runs Safari): real
// werift workers, SDP only (no media flows). Safari lists H.264 High (640c1f) first, then
// constrained baseline (42e01f), each in packetization-mode 1 and 0, then VP8, with rtx, red
// and ulpfec; it bundles both m-lines and gives each a port.
import { afterEach, describe, expect, it } from 'vitest';
import { MediaService, type CloseReason, type MediaConfig, type MediaLogger, type MediaPeer, type SubscriberOffer } from '../../src/media/index.js';

const logger: MediaLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LOOPBACK: MediaConfig = { listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [], workers: 1 };
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');

function transport(ufrag: string, setup: 'actpass' | 'active'): string[] {
  return ['c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`, 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`, `a=setup:${setup}`];
}

const SAFARI_OFFER = [
  'v=0', 'o=- 5004046744584030000 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS s1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', ...transport('sfri', 'actpass'), 'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendonly', 'a=msid:s1 a1', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000', 'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1111 cname:safari', 'a=ssrc:1111 msid:s1 a1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 127 125 104 105 106 107 108', ...transport('sfri', 'actpass'), 'a=mid:1',
  'a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=sendonly', 'a=msid:s1 v1', 'a=rtcp-mux', 'a=rtcp-rsize',
  'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 goog-remb', 'a=rtcp-fb:96 transport-cc', 'a=rtcp-fb:96 ccm fir', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
  'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:98 H264/90000', 'a=rtcp-fb:98 goog-remb', 'a=rtcp-fb:98 ccm fir', 'a=rtcp-fb:98 nack', 'a=rtcp-fb:98 nack pli',
  'a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:99 rtx/90000', 'a=fmtp:99 apt=98',
  'a=rtpmap:100 H264/90000', 'a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=640c1f',
  'a=rtpmap:101 rtx/90000', 'a=fmtp:101 apt=100',
  'a=rtpmap:127 H264/90000', 'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:125 rtx/90000', 'a=fmtp:125 apt=127',
  'a=rtpmap:104 VP8/90000', 'a=rtcp-fb:104 goog-remb', 'a=rtcp-fb:104 ccm fir', 'a=rtcp-fb:104 nack', 'a=rtcp-fb:104 nack pli',
  'a=rtpmap:105 rtx/90000', 'a=fmtp:105 apt=104',
  'a=rtpmap:106 red/90000', 'a=rtpmap:107 rtx/90000', 'a=fmtp:107 apt=106', 'a=rtpmap:108 ulpfec/90000',
  'a=ssrc-group:FID 2222 3333', 'a=ssrc:2222 cname:safari', 'a=ssrc:2222 msid:s1 v1', 'a=ssrc:3333 cname:safari', 'a=ssrc:3333 msid:s1 v1',
  '',
].join('\r\n');

/** The video m-line's codecs of an SDP, in order: `H264 profile-level-id=…` or `VP8`. */
function videoCodecs(sdp: string): string[] {
  const video = sdp.split(/(?=^m=)/m).find((s) => s.startsWith('m=video')) ?? '';
  const pts = video.split(/\r?\n/)[0]!.split(' ').slice(3);
  return pts.map((pt) => {
    const name = new RegExp(`^a=rtpmap:${pt} ([^/]+)/`, 'm').exec(video)?.[1] ?? '?';
    const plid = new RegExp(`^a=fmtp:${pt} .*profile-level-id=(\\w+)`, 'm').exec(video)?.[1];
    const mode = new RegExp(`^a=fmtp:${pt} .*packetization-mode=(\\d)`, 'm').exec(video)?.[1];
    return plid ? `${name} ${plid} mode ${mode}` : name;
  });
}

/**
 * A browser's answer to the SFU's subscriber offer that decodes VP8 only (as Debian's Firefox
 * does): every m-line accepted, video m-lines keep only VP8.
 */
function answerWithoutH264(offer: string): string {
  const [, ...sections] = offer.split(/(?=^m=)/m);
  const mids = sections.map((s) => /^a=mid:(\S+)/m.exec(s)?.[1]);
  const out = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=group:BUNDLE ${mids.join(' ')}`];
  for (const [i, section] of sections.entries()) {
    const mline = section.split(/\r?\n/)[0]!;
    if (mline.startsWith('m=application')) {
      out.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', ...transport('fox1', 'active'), `a=mid:${mids[i]}`, 'a=sctp-port:5000');
      continue;
    }
    const kind = mline.slice(2, 7);
    const keep = kind === 'audio' ? /opus/i : /VP8/;
    const pts = mline.split(' ').slice(3).filter((pt) => keep.test(new RegExp(`^a=rtpmap:${pt} (\\S+)`, 'm').exec(section)?.[1] ?? ''));
    out.push(`m=${kind} 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, ...transport('fox1', 'active'), `a=mid:${mids[i]}`, 'a=recvonly', 'a=rtcp-mux');
    for (const pt of pts) out.push(new RegExp(`^a=rtpmap:${pt} .*$`, 'm').exec(section)![0].trim());
  }
  return [...out, ''].join('\r\n');
}

function nextOffer(peer: MediaPeer, has: (offer: SubscriberOffer) => boolean): Promise<SubscriberOffer> {
  const pending = peer.pendingSubscriberOffer;
  if (pending && has(pending)) return Promise.resolve(pending);
  return new Promise((resolve) => {
    const on = (offer: SubscriberOffer) => {
      if (!has(offer)) return;
      peer.off('subscriberOffer', on);
      resolve(offer);
    };
    peer.on('subscriberOffer', on);
  });
}

let svc: MediaService | undefined;
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

const PUBLISH = { canPublish: { audio: true, video: true, screen: false } };

describe('an offer shaped like iOS Safari', () => {
  it('is answered with H.264 constrained baseline, mode 1, first; BUNDLE keeps both m-lines', async () => {
    svc = new MediaService(LOOPBACK, logger);
    await svc.start();
    const room = await svc.openRoom('safari');
    const safari = await room.addPeer('safari', PUBLISH);
    const { sdp, tracks } = await safari.publish(SAFARI_OFFER, { '0': 'microphone', '1': 'camera' });
    expect(videoCodecs(sdp)).toEqual(['H264 42e01f mode 1', 'VP8']);
    expect(sdp).toMatch(/^a=group:BUNDLE 0 1\r?$/m);
    expect(sdp).not.toMatch(/^m=(audio|video) 0 /m);
    expect(tracks.map((t) => [t.source, t.forwarded])).toEqual([['microphone', true], ['camera', true]]);
    // Opus with in-band FEC: werift's answer repeats the offer's Opus parameters, so the sender
    // (which adds FEC when the receiver's SDP asks for it) keeps it; the SFU forwards it as sent.
    expect(sdp).toMatch(/^a=rtpmap:111 opus\/48000\/2\r?$/im);
    expect(sdp).toMatch(/^a=fmtp:111 (.*;)?useinbandfec=1(;.*)?\r?$/m);
    // No transport-wide sequence numbers offered: no transport-cc extension in the answer either.
    expect(sdp).not.toMatch(/transport-wide-cc/);
  });

  it('keeps Opus DTX when the publisher offers it (silence then costs almost nothing; the SFU forwards what comes)', async () => {
    svc = new MediaService(LOOPBACK, logger);
    await svc.start();
    const room = await svc.openRoom('dtx');
    const peer = await room.addPeer('dtx', PUBLISH);
    const { sdp } = await peer.publish(SAFARI_OFFER.replace('useinbandfec=1', 'useinbandfec=1;usedtx=1'), { '0': 'microphone', '1': 'camera' });
    expect(sdp).toMatch(/^a=fmtp:111 (.*;)?usedtx=1(;.*)?\r?$/m);
  });

  it('is moved to VP8 when someone who cannot decode H.264 joins, and then answered VP8', async () => {
    svc = new MediaService(LOOPBACK, logger);
    await svc.start();
    const room = await svc.openRoom('mixed');
    const safari = await room.addPeer('safari', PUBLISH);
    const closed: CloseReason[] = [];
    safari.on('closed', (reason) => closed.push(reason));
    expect(videoCodecs((await safari.publish(SAFARI_OFFER, { '0': 'microphone', '1': 'camera' })).sdp)[0]).toBe('H264 42e01f mode 1');

    const fox = await room.addPeer('fox', PUBLISH);
    const offer = await nextOffer(fox, (o) => o.tracks.some((t) => t.peerId === 'safari' && t.kind === 'video'));
    expect(videoCodecs(offer.sdp)).toEqual(['VP8', 'rtx', 'H264 42e01f mode 1', 'rtx']); // the SFU offers both, each with RTX
    await fox.subscriberAnswer(answerWithoutH264(offer.sdp));
    for (let i = 0; i < 100 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toEqual(['codec-change']);

    // Safari's page publishes again (mediaReset): VP8 now.
    const again = await room.addPeer('safari', PUBLISH);
    expect(videoCodecs((await again.publish(SAFARI_OFFER, { '0': 'microphone', '1': 'camera' })).sdp)).toEqual(['VP8']);
  });
});
