// Active-speaker detection from the RTP audio-level header extension (RFC 6464).
// `level` is −dBov: 0 is the loudest, 127 silence. The `v` (voice activity) flag is set by
// Chrome on every packet, silent ones too, so it is ignored (MEDIA-NOTES).

export interface ActiveSpeakerOptions {
  /** length of the loudness window */
  windowMs: number;
  /** minimum time between two switches */
  minSwitchMs: number;
  /** levels at or above this (quieter than −level dBov) count as silence */
  silenceLevel: number;
  /** a challenger must be this many times louder than the current speaker */
  hysteresis: number;
  /** window average below which a peer is not speaking */
  minScore: number;
  /** packets per second one voice sends (Opus 20 ms frames) */
  packetsPerSecond: number;
}

const DEFAULTS: ActiveSpeakerOptions = {
  windowMs: 1000,
  minSwitchMs: 1500,
  silenceLevel: 70,
  hysteresis: 1.2,
  minScore: 4,
  packetsPerSecond: 50,
};

const BUCKETS = 5;

interface PeerLoudness {
  /** loudness sums, one per window/BUCKETS slice, oldest first */
  buckets: number[];
  current: number;
}

export class ActiveSpeakerDetector {
  private readonly opts: ActiveSpeakerOptions;
  private readonly peers = new Map<string, PeerLoudness>();
  private speaker: string | null = null;
  private lastSwitchAt = -Infinity;
  private lastRotateAt: number | undefined;

  constructor(options: Partial<ActiveSpeakerOptions> = {}) {
    this.opts = { ...DEFAULTS, ...options };
  }

  get current(): string | null {
    return this.speaker;
  }

  addLevel(peerId: string, level: number): void {
    const loudness = Math.max(0, this.opts.silenceLevel - level);
    let p = this.peers.get(peerId);
    if (!p) {
      p = { buckets: new Array<number>(BUCKETS).fill(0), current: 0 };
      this.peers.set(peerId, p);
    }
    p.current += loudness;
  }

  /** Forget a peer (left, or stopped publishing audio). Returns null if it was the speaker. */
  removePeer(peerId: string): null | undefined {
    this.peers.delete(peerId);
    if (this.speaker === peerId) {
      this.speaker = null;
      return null;
    }
    return undefined;
  }

  /**
   * Call every windowMs/5 (200 ms by default). Returns the new speaker when it changed,
   * `undefined` otherwise.
   */
  tick(now: number): string | undefined {
    const slice = this.opts.windowMs / BUCKETS;
    if (this.lastRotateAt !== undefined && now - this.lastRotateAt < slice * 0.5) return undefined;
    this.lastRotateAt = now;
    const expected = (this.opts.packetsPerSecond * this.opts.windowMs) / 1000;
    let best: string | null = null;
    let bestScore = 0;
    const scores = new Map<string, number>();
    for (const [peerId, p] of this.peers) {
      p.buckets.shift();
      p.buckets.push(p.current);
      p.current = 0;
      // Missing packets (DTX, loss) count as silence: divide by what a talker would send.
      const score = p.buckets.reduce((a, b) => a + b, 0) / expected;
      scores.set(peerId, score);
      if (score > bestScore) {
        bestScore = score;
        best = peerId;
      }
    }
    if (best === null || bestScore < this.opts.minScore || best === this.speaker) return undefined;
    if (this.speaker !== null) {
      if (now - this.lastSwitchAt < this.opts.minSwitchMs) return undefined;
      const currentScore = scores.get(this.speaker) ?? 0;
      if (bestScore < currentScore * this.opts.hysteresis) return undefined;
    }
    this.speaker = best;
    this.lastSwitchAt = now;
    return best;
  }
}
