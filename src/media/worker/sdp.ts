// Small SDP helpers: the few facts the SFU needs from a client's SDP, and the candidate
// filter. werift parses the SDP itself; these never rewrite anything but candidate lines.
import { isIP } from 'node:net';
import type { TrackKind } from '../types.js';

export interface MediaSection {
  index: number;
  kind: 'audio' | 'video' | 'application' | string;
  port: number;
  mid: string | undefined;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** the a=simulcast line is present */
  simulcast: boolean;
  /** the rids it sends, in the offer's order (`a=simulcast:send q;h;f`; our room lists the lowest first) */
  sendRids: string[];
  /** `a=bundle-only`: port 0 then means "only over the BUNDLE transport", not "rejected" */
  bundleOnly: boolean;
}

/**
 * A rejected (stopped) m-line: port 0 without `a=bundle-only`. An offerer that bundles its
 * m-lines may also give them port 0 with `a=bundle-only` (RFC 8843 §6, JSEP §5.2.1; Firefox
 * does so for every m-line after the first); those are live and carry media.
 */
export function isRejected(m: MediaSection): boolean {
  return m.port === 0 && !m.bundleOnly;
}

export function parseMediaSections(sdp: string): MediaSection[] {
  const out: MediaSection[] = [];
  let cur: MediaSection | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind = '', port = '0'] = line.slice(2).split(' ');
      cur = { index: out.length, kind, port: Number(port), mid: undefined, direction: 'sendrecv', simulcast: false, sendRids: [], bundleOnly: false };
      out.push(cur);
    } else if (cur) {
      if (line.startsWith('a=mid:')) cur.mid = line.slice(6);
      else if (line === 'a=sendrecv' || line === 'a=sendonly' || line === 'a=recvonly' || line === 'a=inactive') {
        cur.direction = line.slice(2) as MediaSection['direction'];
      } else if (line.startsWith('a=simulcast:')) {
        cur.simulcast = true;
        // RFC 8853: `send q;h;f` (alternatives after commas, `~` for a paused stream).
        const send = /\bsend\s+(\S+)/.exec(line.slice(12))?.[1];
        if (send) cur.sendRids = send.split(';').map((alt) => alt.split(',')[0]!.replace(/^~/, ''));
      } else if (line === 'a=bundle-only') cur.bundleOnly = true;
    }
  }
  return out;
}

/** An m-line on which the remote sends media we can forward. */
export function isSending(m: MediaSection): m is MediaSection & { kind: TrackKind; mid: string } {
  return (
    (m.kind === 'audio' || m.kind === 'video') &&
    !isRejected(m) &&
    m.mid !== undefined &&
    (m.direction === 'sendonly' || m.direction === 'sendrecv')
  );
}

/**
 * Whether a remote ICE candidate may be used: UDP and an IP literal. mDNS names (`*.local`)
 * and other host names are refused so that nothing is ever resolved (werift would start an
 * mDNS query for `.local`); TCP candidates are useless since werift listens on UDP only.
 */
export function isAcceptableCandidate(candidate: string): boolean {
  const text = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
  if (!text.startsWith('candidate:')) return false;
  const parts = text.slice('candidate:'.length).trim().split(/\s+/);
  // foundation component transport priority address port "typ" type ...
  if (parts.length < 8 || parts[6] !== 'typ') return false;
  const transport = parts[2].toLowerCase();
  const address = parts[4];
  if (transport !== 'udp') return false;
  if (address.toLowerCase().endsWith('.local')) return false;
  return isIP(address) !== 0;
}

/**
 * Prepares a client SDP for werift: drops unacceptable `a=candidate` lines, and, unless
 * `transportCc` (publisher transports, werift-twcc.ts), the `transport-cc` feedback: werift
 * echoes every rtcp-fb of a codec it accepts and would run its transport-cc receiver; and the
 * `a=ssrc` lines of a simulcast m-line (see below).
 * Only werift's view changes: the client keeps the SDP it made.
 */
export function sanitizeRemoteSdp(sdp: string, opts: { transportCc?: boolean } = {}): { sdp: string; dropped: number } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  let dropped = 0;
  let simulcastSection = false;
  const lines = sdp.split(/\r?\n/).filter((line, i, all) => {
    if (line.startsWith('m=')) simulcastSection = sectionSendsSimulcast(all, i);
    // A simulcast m-line is routed by rid. Firefox also lists its streams' SSRCs, and werift then
    // ties the first one to a track of its own: once Firefox stops sending the rid (after our
    // first receiver report), its lowest layer went to that track and never reached us.
    if (simulcastSection && /^a=ssrc(-group)?:/.test(line)) return false;
    if (!opts.transportCc && /^a=rtcp-fb:\S+ transport-cc\s*$/.test(line)) return false;
    if (!line.startsWith('a=candidate:')) return true;
    if (isAcceptableCandidate(line)) return true;
    dropped++;
    return false;
  });
  return { sdp: lines.join(eol), dropped };
}

/** Whether the m-line starting at `lines[start]` sends simulcast (an `a=simulcast:send` line). */
function sectionSendsSimulcast(lines: readonly string[], start: number): boolean {
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('m='); i++) {
    if (lines[i]!.startsWith('a=simulcast:send ')) return true;
  }
  return false;
}

/**
 * werift writes port 0 for an inactive transceiver, which a browser takes as "stopped": that
 * m-line could never carry media again and would stay in every later offer. With port 9 it is
 * merely inactive, and the next track of the same kind can reuse it (see SubscriberTransport.negotiate).
 * Its RTX SSRC goes (its `a=ssrc` line and the FID group): werift writes no `a=msid` there, and
 * Chrome takes two SSRCs without one for two tracks, which Unified Plan refuses (the whole offer
 * fails). The media SSRC stays, so the m-line keeps it when a track reuses it.
 */
export function keepInactiveSectionsAlive(sdp: string): string {
  return sdp
    .split(/(?=^m=)/m)
    .map((section) => {
      if (!section.startsWith('m=') || !/^a=inactive\r?$/m.test(section)) return section;
      const repairs = [...section.matchAll(/^a=ssrc-group:FID \d+ (\d+)/gm)].map((m) => m[1]);
      return section
        .replace(/^m=(audio|video) 0 /, 'm=$1 9 ')
        .split(/(?<=\n)/)
        .filter((line) => !line.startsWith('a=ssrc-group:FID ') && !repairs.some((ssrc) => line.startsWith(`a=ssrc:${ssrc} `)))
        .join('');
    })
    .join('');
}

/**
 * Makes werift's answer to a publisher offer acceptable to browsers (JSEP):
 * - an m-line the offer rejected (port 0 without bundle-only: a stopped transceiver) stays
 *   rejected and leaves the answer's BUNDLE group (Chrome refuses an answer that bundles a
 *   rejected MID); a bundle-only one is accepted like any other (Firefox would otherwise take
 *   its camera's m-line as refused and send nothing on it);
 * - an m-line the offer keeps but made inactive is answered inactive with a live port (werift
 *   writes 0, which the browser would take as "stopped" for good).
 */
export function fitAnswerToOffer(offerSdp: string, answerSdp: string): string {
  const offered = parseMediaSections(offerSdp);
  const eol = answerSdp.includes('\r\n') ? '\r\n' : '\n';
  const [session, ...sections] = answerSdp.split(/(?=^m=)/m);
  const rejected = new Set<string>();
  const fitted = sections.map((section, i) => {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const m = offered[i];
    if (m && isRejected(m)) {
      if (mid) rejected.add(mid);
      return section.replace(/^m=(\S+) \d+ /, 'm=$1 0 ');
    }
    return section.replace(/^m=(audio|video) 0 /, 'm=$1 9 ');
  });
  const fittedSession = session.replace(/^a=group:BUNDLE (.*)$/m, (_line, mids: string) =>
    `a=group:BUNDLE ${mids.split(/\s+/).filter((m) => m && !rejected.has(m)).join(' ')}`.trimEnd());
  return [fittedSession, ...fitted].join('').replace(/\r?\n/g, eol);
}
