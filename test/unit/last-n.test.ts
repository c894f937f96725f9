import { describe, expect, it } from 'vitest';
import { camerasForwarded, SpeakerRecency } from '../../src/media/worker/last-n.js';

describe('last-N', () => {
  it('ranks by latest speech, then by arrival', () => {
    const r = new SpeakerRecency();
    for (const p of ['a', 'b', 'c', 'd']) r.arrived(p);
    expect(r.ranking).toEqual(['a', 'b', 'c', 'd']);
    expect(r.spoke('c')).toBe(true);
    expect(r.spoke('c')).toBe(false); // already first: nothing to change
    expect(r.ranking).toEqual(['c', 'a', 'b', 'd']);
    r.spoke('d');
    r.left('a');
    r.arrived('e');
    r.arrived('c'); // a known peer keeps its place
    expect(r.ranking).toEqual(['d', 'c', 'b', 'e']);
  });

  it('forwards the first N who publish a camera, never the subscriber, and every camera with no limit', () => {
    const ranking = ['d', 'c', 'b', 'a', 'e'];
    const withCamera = new Set(['a', 'b', 'c', 'd']);
    expect([...camerasForwarded(ranking, 'a', withCamera, 2)]).toEqual(['d', 'c']);
    expect([...camerasForwarded(ranking, 'd', withCamera, 2)]).toEqual(['c', 'b']);
    // e has no camera: it takes no place.
    expect([...camerasForwarded(ranking, 'e', new Set(['e', 'a']), 2)]).toEqual(['a']);
    expect([...camerasForwarded(ranking, 'e', withCamera, 0)]).toEqual(['d', 'c', 'b', 'a']);
  });
});
