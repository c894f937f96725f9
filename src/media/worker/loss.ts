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
