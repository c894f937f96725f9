// A recorded video after a loss. When the recorder's jitter buffer gives up on a packet (it waits
// 200 ms for a late one or its retransmission), the frame it belonged to is not written, and every
// later frame until the next keyframe refers to a picture the file does not have: written, they
// decode as smeared blocks (ffmpeg: "corrupted macroblock", seen in a clean-clone CI run) until a
// keyframe comes, and a publisher sends one only when asked. The gate keeps those frames out and
// asks for a keyframe: the file shows the last good picture instead, for about one round trip.

export class KeyframeGate {
  private waiting = false;
  /** frames kept out so far (for the recording's log) */
  dropped = 0;

  /** `needKeyframe`: asks the publisher (PublishedTrack's request is already rate-limited). */
  constructor(private readonly needKeyframe: () => void) {}

  /** The jitter buffer gave up on some packets. */
  lost(): void {
    if (this.waiting) return;
    this.waiting = true;
    this.needKeyframe();
  }

  /** Whether a complete frame may be written. */
  pass(isKeyframe: boolean): boolean {
    if (!this.waiting) return true;
    if (isKeyframe) {
      this.waiting = false;
      return true;
    }
    this.dropped++;
    // Asked again for every frame kept out: a lost request would otherwise freeze the file; the
    // publisher's limiter sends at most one per interval.
    this.needKeyframe();
    return false;
  }
}
