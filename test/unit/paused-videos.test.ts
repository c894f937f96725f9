import { describe, expect, it } from 'vitest';
import { PausedVideos, type LayerDecision } from '../../src/media/worker/paused-videos.js';
import type { PublishedTrack } from '../../src/media/worker/published-track.js';
import { SimulcastLayer } from '../../src/media/worker/simulcast-layer.js';

const RATES = [100_000, 400_000, 1_500_000];

/** A camera with three layers at 100, 400 and 1500 kbit/s. */
function camera(peerId: string): PublishedTrack {
  const layers = RATES.map((_, i) => new SimulcastLayer(i, String(i), () => true));
  return { peerId, source: 'camera', kind: 'video', layers } as unknown as PublishedTrack;
}

/** Its layers flow steadily from `from` to `to`, sampled every 500 ms as the room does. */
function flow(tracks: PublishedTrack[], from: number, to: number): void {
  for (let now = from + 500; now <= to; now += 500) {
    for (const t of tracks) {
      t.layers.forEach((layer, i) => {
        layer.received(1, RATES[i]! / 16, true, now);
        layer.sampleRate(now);
      });
    }
  }
}

describe('the layer decisions a subscriber’s debug log tells', () => {
  it('tells each change once, with the estimate, the allowance and each layer’s price', () => {
    const decisions: LayerDecision[] = [];
    const paused = new PausedVideos(() => undefined, (d) => decisions.push(d));
    const t = 20_000;
    const videos = [camera('a'), camera('b')];
    flow(videos, 0, t);
    paused.setEstimate(5_000_000);
    paused.allocate(videos, 64_000, () => 0, t);
    expect(decisions).toHaveLength(1);
    paused.allocate(videos, 64_000, () => 0, t + 100);
    expect(decisions).toHaveLength(1); // nothing changed: nothing told

    paused.setEstimate(300_000);
    paused.setLoss(0.3);
    for (let now = t + 500; now < t + 10_000; now += 500) {
      flow(videos, now - 500, now);
      paused.allocate(videos, 64_000, () => 0, now);
    }
    const last = decisions.at(-1)!;
    expect(decisions.length).toBeGreaterThan(1);
    expect(last).toMatchObject({ estimateBps: 300_000, loss: 0.3 });
    expect(last.allowanceBps).toBeLessThan(1_000_000);
    expect(last.videos.map((v) => v.video).sort()).toEqual(['a:camera', 'b:camera']);
    for (const v of last.videos) {
      expect(v.maxLayer).toBe(2);
      expect(v.layer).toBeLessThan(2);
      expect(v.costsBps[0]).toBeGreaterThan(90_000);
      expect(v.costsBps[2]).toBeGreaterThan(1_400_000);
    }
  });

  it('tells every decision at trace level, and which ones changed a layer', () => {
    const told: { estimateBps: number | undefined; changed: boolean }[] = [];
    const paused = new PausedVideos(() => undefined, (d, changed) => told.push({ estimateBps: d.estimateBps, changed }), true);
    const t = 20_000;
    const videos = [camera('a'), camera('b')];
    flow(videos, 0, t);
    paused.setEstimate(5_000_000);
    paused.allocate(videos, 64_000, () => 0, t);
    paused.setEstimate(4_000_000);
    paused.allocate(videos, 64_000, () => 0, t + 100);
    expect(told).toEqual([{ estimateBps: 5_000_000, changed: true }, { estimateBps: 4_000_000, changed: false }]);
  });

  it('decides the same with nobody to tell', () => {
    const paused = new PausedVideos(() => undefined);
    paused.setEstimate(300_000);
    const a = camera('a');
    flow([a], 0, 20_000);
    paused.allocate([a], 64_000, () => 0, 20_000);
    expect(paused.layerOf(a)).toBe(0);
  });
});
