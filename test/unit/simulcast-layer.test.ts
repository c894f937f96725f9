import { describe, expect, it } from 'vitest';
import { layerCosts, SimulcastLayer } from '../../src/media/worker/simulcast-layer.js';

/** Feeds `layer` `bps` of media for `seconds`, sampled every 500 ms as the room does; returns the time. */
function flow(layer: SimulcastLayer, bps: number, seconds: number, from: number): number {
  let now = from;
  for (let i = 0; i < seconds * 2; i++) {
    now += 500;
    if (bps > 0) layer.received(1, bps / 16, true, now);
    layer.sampleRate(now);
  }
  return now;
}

const newLayer = (index: number) => new SimulcastLayer(index, String(index), () => true);

describe('what a simulcast layer costs', () => {
  it('is its rate while it flows steadily', () => {
    const layer = newLayer(1);
    flow(layer, 300_000, 10, 0);
    expect(layer.rateBps).toBeCloseTo(300_000, -3);
    expect(layer.costBps).toBeCloseTo(300_000, -3);
  });

  it('stays near what it reached when the encoder drops the layer and takes it up again', () => {
    const layer = newLayer(1);
    let now = flow(layer, 300_000, 10, 0);
    now = flow(layer, 0, 3, now);
    now = flow(layer, 30_000, 1, now); // back, and climbing
    expect(layer.rateBps).toBeLessThan(150_000);
    expect(layer.costBps).toBeGreaterThan(250_000);
    // A layer that stays lower is priced lower in time.
    flow(layer, 100_000, 120, now);
    expect(layer.costBps).toBeLessThan(150_000);
  });

  it('prices a layer that has just started at four times the one below while it climbs', () => {
    const low = newLayer(0);
    const mid = newLayer(1);
    const top = newLayer(2);
    let now = flow(low, 60_000, 5, 0);
    const tick = (bytes: number) => {
      now += 500;
      mid.received(1, bytes, true, now);
      top.received(1, bytes, true, now);
      low.received(1, 60_000 / 16, true, now);
      for (const l of [low, mid, top]) l.sampleRate(now);
    };
    tick(1000);
    tick(1000);
    const layers = [low, mid, top];
    const climbing = layerCosts(layers, now);
    expect(climbing.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(climbing[1]!.rateBps).toBeCloseTo(4 * climbing[0]!.rateBps);
    expect(climbing[2]!.rateBps).toBeCloseTo(4 * climbing[1]!.rateBps);
    // Settled, each costs what it brings in.
    for (let i = 0; i < 30; i++) tick(200_000 / 16);
    const settled = layerCosts(layers, now);
    expect(settled[1]!.rateBps).toBeCloseTo(200_000, -4);
    expect(settled[2]!.rateBps).toBeCloseTo(200_000, -4);
  });

  it('prices a new lowest layer at its rate', () => {
    const low = newLayer(0);
    low.received(1, 100, true, 500);
    low.sampleRate(500);
    expect(layerCosts([low], 500).map((c) => c.index)).toEqual([0]);
  });

  it('leaves out a layer that stopped', () => {
    const low = newLayer(0);
    const mid = newLayer(1);
    let now = flow(mid, 300_000, 2, 0);
    now = flow(low, 60_000, 2, now);
    expect(layerCosts([low, mid], now).map((c) => c.index)).toEqual([0]);
  });
});
