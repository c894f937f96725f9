/** A sequence-number jump larger than this is a sender that restarted, not loss. */
const MAX_GAP = 3000;

/**
 * Loss of one incoming stream as a receiver sees it, with integers only (called per packet): a
 * jump of the highest sequence number counts the skipped ones as lost; a packet older than the
 * highest (a retransmission after our NACK, or reordering) counts as late while some are
 * missing. Lost minus late is what never came. A new SSRC starts over.
 */
export class SequenceLoss {
  private ssrc: number | undefined;
  /** Highest sequence number seen from `ssrc`. */
  private highest = 0;
  /** Skipped and not (yet) arrived late: what a late packet may take back. */
  private missing = 0;

  /** How many packets this one shows lost (> 0), −1 when it came late, 0 otherwise. */
  observe(ssrc: number, seq: number): number {
    if (ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.highest = seq;
      this.missing = 0;
      return 0;
    }
    const ahead = (seq - this.highest) & 0xffff;
    if (ahead === 0) return 0;
    if (ahead < 0x8000) {
      this.highest = seq;
      if (ahead === 1 || ahead > MAX_GAP) return 0;
      this.missing += ahead - 1;
      return ahead - 1;
    }
    if (this.missing === 0) return 0;
    this.missing--;
    return -1;
  }
}

/** Samples kept by ReportedLoss (one per allocation tick: about two seconds). */
const REPORTED_WINDOW = 4;
/** Fewer packets than this in the window: too few to say anything (one loss in four is not 25%). */
const REPORTED_MIN_PACKETS = 30;

/**
 * Loss on the way to a subscriber over the last few seconds, from what we sent and the
 * cumulative losses its receiver reports say (RTCP RR). Each report's own "fraction lost" covers
 * whatever few packets of a low-rate stream fell in its interval: seen jumping 0 → 75% → 0.
 */
export class ReportedLoss {
  private readonly samples: { sent: number; lost: number }[] = [];
  private last: { sent: number; lost: number } | undefined;

  /** Totals now: packets sent, and lost as last reported (both cumulative). The share lost lately. */
  sample(sent: number, lost: number): number {
    // Fewer sent than before: a stream left the sums, and this sample means nothing. A report
    // may take losses back (retransmissions that arrived): the window's sum counts that.
    if (this.last && sent >= this.last.sent) {
      this.samples.push({ sent: sent - this.last.sent, lost: lost - this.last.lost });
      if (this.samples.length > REPORTED_WINDOW) this.samples.shift();
    }
    this.last = { sent, lost };
    let totalSent = 0;
    let totalLost = 0;
    for (const s of this.samples) {
      totalSent += s.sent;
      totalLost += s.lost;
    }
    return totalSent < REPORTED_MIN_PACKETS ? 0 : Math.min(1, Math.max(0, totalLost) / totalSent);
  }
}
