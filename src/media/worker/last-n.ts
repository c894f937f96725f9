// Last-N: in a big meeting each subscriber receives the cameras of the N people who spoke most
// recently; everyone's audio always flows. Pure bookkeeping, unit-tested.

/**
 * Who spoke last, most recent first. People who have not spoken yet follow in the order they
 * arrived, so a meeting's first minutes show its first N arrivals rather than nobody.
 */
export class SpeakerRecency {
  private readonly order: string[] = [];

  /** A new participant: ranked after everyone who is already here. */
  arrived(peerId: string): void {
    if (!this.order.includes(peerId)) this.order.push(peerId);
  }

  left(peerId: string): void {
    const at = this.order.indexOf(peerId);
    if (at >= 0) this.order.splice(at, 1);
  }

  /** They are the active speaker now: first in line. False if they were first already. */
  spoke(peerId: string): boolean {
    const at = this.order.indexOf(peerId);
    if (at === 0) return false;
    if (at > 0) this.order.splice(at, 1);
    this.order.unshift(peerId);
    return true;
  }

  get ranking(): readonly string[] {
    return this.order;
  }
}

/**
 * The publishers whose camera `subscriber` receives: the first `lastN` of `ranking` that publish
 * a camera, never the subscriber itself. `lastN` 0 means no limit.
 */
export function camerasForwarded(ranking: readonly string[], subscriber: string, withCamera: ReadonlySet<string>, lastN: number): Set<string> {
  const chosen = new Set<string>();
  for (const peerId of ranking) {
    if (lastN > 0 && chosen.size >= lastN) break;
    if (peerId !== subscriber && withCamera.has(peerId)) chosen.add(peerId);
  }
  return chosen;
}
