import { describe, expect, it } from 'vitest';
import { BandwidthAllocator, PAUSED, type VideoDemand } from '../../src/media/worker/bandwidth-allocator.js';

/** Three simulcast layers at 100k / 300k / 900k. */
const simulcast = (key: string, priority: number, maxLayer = 2): VideoDemand => ({
  key, priority, maxLayer, lead: priority <= 1,
  layers: [{ index: 0, rateBps: 100_000 }, { index: 1, rateBps: 300_000 }, { index: 2, rateBps: 900_000 }],
});
const videos = [simulcast('screen', 0), simulcast('speaker', 1), simulcast('other', 2)];
const AUDIO = 100_000;
const layers = (a: BandwidthAllocator, now: number, v = videos) => Object.fromEntries(a.decide(v, AUDIO, now));

describe('the bandwidth allocator', () => {
  it('gives every video its best layer until it hears an estimate, and cuts nothing while nothing is lost', () => {
    const a = new BandwidthAllocator();
    expect(layers(a, 0)).toEqual({ screen: 2, speaker: 2, other: 2 });
    a.setEstimate(500_000); // lower than what is sent, but nothing lost: a lagging estimate
    expect(layers(a, 1000)).toEqual({ screen: 2, speaker: 2, other: 2 });
  });

  it('keeps allowing what flowed without loss before the first estimate, which may come while a tile is small', () => {
    const a = new BandwidthAllocator();
    const large = [simulcast('v', 1)];
    const small = [simulcast('v', 1, 0)];
    expect(layers(a, 0, large)).toEqual({ v: 2 });
    expect(layers(a, 500, small)).toEqual({ v: 0 });
    a.setEstimate(300_000); // what arrived at the time: the low layer, and audio
    expect(layers(a, 1000, small)).toEqual({ v: 0 });
    // The top layer now costs more than when it flowed (its publisher's rate grew): still allowed.
    const grown = (maxLayer: number): VideoDemand[] => [{ ...simulcast('v', 1, maxLayer), layers: [{ index: 0, rateBps: 100_000 }, { index: 1, rateBps: 300_000 }, { index: 2, rateBps: 1_100_000 }] }];
    expect(layers(a, 1500, grown(0))).toEqual({ v: 0 });
    // Far more than arrives now (the low layer): once a probe cluster shows the link carries it.
    expect(layers(a, 4000, grown(2))).toEqual({ v: 0 });
    a.clusterStarted(4000);
    a.clusterResult('carried', 1_300_000, 4600);
    expect(layers(a, 4600, grown(2))).toEqual({ v: 2 });
  });

  it('forgets what flowed once the link loses', () => {
    const a = new BandwidthAllocator();
    const large = [simulcast('v', 1)];
    a.setEstimate(2_000_000);
    expect(layers(a, 0, large)).toEqual({ v: 2 });
    expect(layers(a, 500, large)).toEqual({ v: 2 });
    a.setEstimate(400_000);
    a.setLoss(0.5);
    expect(layers(a, 1000, large)).toEqual({ v: 1 }); // 0.9 × the 500k that got through: audio and layer 1
    a.setLoss(0);
    expect(layers(a, 5000, large)).toEqual({ v: 1 }); // the top layer it carried before is not allowed again
  });

  it('does not keep allowing what was lost before the first estimate', () => {
    const a = new BandwidthAllocator();
    const large = [simulcast('v', 1)];
    expect(layers(a, 0, large)).toEqual({ v: 2 });
    a.setLoss(0.4);
    expect(layers(a, 500, [simulcast('v', 1, 0)])).toEqual({ v: 0 });
    a.setLoss(0);
    a.setEstimate(300_000);
    expect(layers(a, 1000, large)).toEqual({ v: 0 });
  });

  it('on congestion gives every video its low layer first, then better layers by priority, within the estimate', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(3_000_000);
    layers(a, 0);
    a.setEstimate(1_000_000); // below the 2.8 Mbit/s sent, with 70% lost
    a.setLoss(0.7);
    // 0.9 × 1M = 900k: audio 100k, three low layers 300k, then the screen up to 300k (+200k),
    // the speaker up to 300k (+200k); 100k left is not enough for more.
    expect(layers(a, 500)).toEqual({ screen: 1, speaker: 1, other: 0 });
    a.setEstimate(350_000);
    a.setLoss(0.5);
    // Within 3 s of a cut, what is lost is the queue the excess built: nothing more is cut.
    expect(layers(a, 1000)).toEqual({ screen: 1, speaker: 1, other: 0 });
    a.setEstimate(340_000);
    a.setLoss(0.7);
    // 306k after that: audio and the two most important low layers only; the third is paused.
    expect(layers(a, 3500)).toEqual({ screen: 0, speaker: 0, other: PAUSED });
  });

  it('sends no better layer than the tile shows', () => {
    const a = new BandwidthAllocator();
    expect(layers(a, 0, [simulcast('small', 1, 0), simulcast('large', 2)])).toEqual({ small: 0, large: 2 });
  });

  it('takes a layer that is not flowing out of the choice', () => {
    const a = new BandwidthAllocator();
    const topStopped: VideoDemand = { ...simulcast('v', 1), layers: simulcast('v', 1).layers.slice(0, 2) };
    expect(layers(a, 0, [topStopped])).toEqual({ v: 1 });
  });

  it('pads towards the next layer within the estimate, and takes that layer once the estimate covers it', () => {
    const a = new BandwidthAllocator();
    const one = [simulcast('v', 1)];
    a.setEstimate(2_000_000);
    expect(layers(a, 0, one)).toEqual({ v: 2 });
    a.setEstimate(500_000); // below the 1 Mbit/s sent, 60% lost: 450k allows audio + layer 1
    a.setLoss(0.6);
    expect(layers(a, 0, one)).toEqual({ v: 1 });
    expect(a.paddingBps).toBe(0);
    a.setLoss(0);
    layers(a, 2999, one);
    expect(a.paddingBps).toBe(0); // the hold after a cut
    expect(layers(a, 3000, one)).toEqual({ v: 1 });
    expect(a.paddingBps).toBe(150_000); // up to 0.9 × 500k beside the 300k sent
    a.setEstimate(800_000); // it grows with the padding
    expect(layers(a, 3500, one)).toEqual({ v: 1 });
    expect(a.paddingBps).toBe(420_000);
    a.setEstimate(1_200_000); // 1080k: room for layer 2 beside the audio
    expect(layers(a, 4000, one)).toEqual({ v: 2 });
    expect(a.paddingBps).toBe(0);
  });

  it('stops padding that fills the link, without cutting a layer, and waits longer before padding again', () => {
    const a = new BandwidthAllocator({ probeAfterMs: 2000 });
    const one = [simulcast('v', 1)];
    a.setEstimate(2_000_000);
    layers(a, 0, one);
    a.setEstimate(500_000);
    a.setLoss(0.6);
    layers(a, 0, one);
    a.setLoss(0);
    layers(a, 3000, one);
    expect(a.paddingBps).toBe(150_000);
    a.setLoss(0.12); // about what the padding added
    expect(layers(a, 3500, one)).toEqual({ v: 1 });
    expect(a.paddingBps).toBe(0);
    a.setLoss(0);
    layers(a, 7499, one);
    expect(a.paddingBps).toBe(0); // 4 s after, not 2
    layers(a, 7500, one);
    expect(a.paddingBps).toBe(150_000);
  });

  it('tries no better layer while the estimate stays near what is sent (a full link), but does try a paused video again', () => {
    const a = new BandwidthAllocator({ probeAfterMs: 1000 });
    const two = [simulcast('v', 1), simulcast('w', 2)];
    a.setEstimate(3_000_000);
    layers(a, 0, two);
    a.setEstimate(200_000); // 180k: audio and one low layer
    a.setLoss(0.9);
    expect(layers(a, 0, two)).toEqual({ v: 0, w: PAUSED });
    a.setLoss(0);
    expect(layers(a, 2000, two)).toEqual({ v: 0, w: 0 }); // the paused one comes back at its low layer
    a.setEstimate(240_000); // 1.2× the 200k sent: full
    expect(layers(a, 10_000, two)).toEqual({ v: 0, w: 0 });
  });

  it('gives a new speaker the better layer at once', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(3_000_000);
    layers(a, 0);
    a.setEstimate(1_000_000);
    a.setLoss(0.7);
    expect(layers(a, 0)).toEqual({ screen: 1, speaker: 1, other: 0 });
    const swapped = videos.map((v) => (v.key === 'other' ? { ...v, priority: 1, lead: true } : v.key === 'speaker' ? { ...v, priority: 2, lead: false } : v));
    expect(layers(a, 100, swapped)).toEqual({ screen: 1, speaker: 0, other: 1 });
  });

  it('moves no layer when speakers below the lead change places', () => {
    const a = new BandwidthAllocator();
    const four = [...videos, simulcast('fourth', 3)];
    a.setEstimate(3_000_000);
    layers(a, 0, four);
    a.setEstimate(1_100_000); // 70% lost; 990k: audio, four low layers, the two lead ones up to layer 1
    a.setLoss(0.7);
    expect(layers(a, 0, four)).toEqual({ screen: 1, speaker: 1, other: 0, fourth: 0 });
    a.setEstimate(1_300_000); // rising, nothing lost: 1170k, room for one more step
    a.setLoss(0);
    expect(layers(a, 500, four)).toEqual({ screen: 1, speaker: 1, other: 1, fourth: 0 });
    const reordered = four.map((v) => (v.key === 'fourth' ? { ...v, priority: 2 } : v.key === 'other' ? { ...v, priority: 3 } : v));
    expect(layers(a, 1000, reordered)).toEqual({ screen: 1, speaker: 1, other: 1, fourth: 0 });
  });

  it('lets a video that arrives on a congested link in at its low layer', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(3_000_000);
    layers(a, 0, videos.slice(0, 2));
    a.setEstimate(800_000);
    a.setLoss(0.7);
    expect(layers(a, 0, videos.slice(0, 2))).toEqual({ screen: 1, speaker: 1 });
    expect(layers(a, 500, videos)).toEqual({ screen: 1, speaker: 1, other: 0 });
  });

  it('pauses one more video per cut at most, and lets a paused one back when there is room', () => {
    const a = new BandwidthAllocator({ probeAfterMs: 60_000 });
    a.setEstimate(3_000_000);
    layers(a, 0);
    a.setEstimate(150_000); // far too little even for the three low layers, and nearly all lost
    a.setLoss(0.95);
    expect(layers(a, 0)).toEqual({ screen: 0, speaker: 0, other: PAUSED });
    expect(layers(a, 3500)).toEqual({ screen: 0, speaker: PAUSED, other: PAUSED });
    a.setLoss(0);
    a.setEstimate(700_000); // 630k: all three low layers, and the lead one up
    expect(layers(a, 6000)).toEqual({ screen: 1, speaker: 0, other: 0 });
  });

  it('cuts nothing while the estimate slides below what is sent but nothing is lost (an overload draining)', () => {
    const a = new BandwidthAllocator({ probeAfterMs: 60_000 }); // no try in between
    a.setEstimate(3_000_000);
    layers(a, 0);
    a.setEstimate(1_000_000);
    a.setLoss(0.7);
    expect(layers(a, 0)).toEqual({ screen: 1, speaker: 1, other: 0 });
    a.setLoss(0.02);
    for (const [at, estimate] of [[2500, 400_000], [3000, 250_000], [4000, 120_000]] as const) {
      a.setEstimate(estimate);
      expect(layers(a, at)).toEqual({ screen: 1, speaker: 1, other: 0 });
    }
  });

  it('cuts to what got through when much is lost, even while the estimate stays above what is sent', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(5_000_000);
    layers(a, 0);
    a.setLoss(0.6); // 2.8 Mbit/s sent, 40% of it through: 1.12M × 0.9 = 1008k
    expect(layers(a, 500)).toEqual({ screen: 1, speaker: 1, other: 1 });
  });

  /** Its top layer flowed on a 3 Mbit/s estimate; at 1 s the tile became small (the low layer, 200k with the audio). */
  function tileMadeSmall(): BandwidthAllocator {
    const a = new BandwidthAllocator();
    a.setEstimate(3_000_000);
    layers(a, 0, [simulcast('v', 1)]);
    expect(layers(a, 500, [simulcast('v', 1)])).toEqual({ v: 2 });
    expect(layers(a, 1000, [simulcast('v', 1, 0)])).toEqual({ v: 0 }); // the estimate stays (Chrome's does not fall by itself)
    return a;
  }

  it('takes no step far above what arrives before a probe cluster shows the link carries it', () => {
    const a = tileMadeSmall();
    const large = [simulcast('v', 1)];
    // 5× what arrives: not on the estimate, nor on what flowed before the tile was made small.
    expect(layers(a, 5000, large)).toEqual({ v: 0 });
    const asked = a.clusterWanted!;
    expect(asked.testedBps).toBe(900_000); // 700k more than flows
    a.clusterStarted(5000);
    a.clusterResult('full', asked.testedBps, 5600); // the link was limited while the tile was small
    expect(layers(a, 6000, large)).toEqual({ v: 0 });
    expect(a.paddingBps).toBe(200_000); // towards layer 1, within the estimate
    // Within 1.5× what arrives the estimate is enough, padding included once it flowed 2.5 s
    // without loss: layer 1 (400k with the audio) within 1.5 × 400k.
    expect(layers(a, 7000, large)).toEqual({ v: 0 });
    expect(layers(a, 8000, large)).toEqual({ v: 1 });
  });

  it('takes the large step once a cluster carried it, and keeps it', () => {
    const a = tileMadeSmall();
    const large = [simulcast('v', 1)];
    expect(layers(a, 5000, large)).toEqual({ v: 0 });
    a.clusterStarted(5000);
    a.clusterResult('carried', 900_000, 5600);
    // 900k is short of the 1M the best layer costs: a larger one at once (the goal, a quarter more).
    expect(layers(a, 5600, large)).toEqual({ v: 0 });
    const larger = a.clusterWanted!;
    expect(larger.testedBps).toBe(1_225_000);
    a.clusterStarted(5600);
    a.clusterResult('carried', larger.testedBps, 6200);
    expect(layers(a, 6200, large)).toEqual({ v: 2 }); // tried
    expect(layers(a, 9000, large)).toEqual({ v: 2 }); // held
    expect(a.state.probing).toBe(false);
  });

  it('takes a step as large as an estimate that just grew', () => {
    const a = tileMadeSmall();
    const large = [simulcast('v', 1)];
    a.setEstimate(3_100_000); // it grew: 2/3 of it arrived (here, padding or another video)
    expect(layers(a, 5000, large)).toEqual({ v: 2 });
  });

  it('cuts nothing on a nearly idle link, whatever its estimate says', () => {
    const a = new BandwidthAllocator({ floorBps: 150_000 });
    const tiny: VideoDemand[] = [0, 1, 2, 3].map((i) => ({ key: `bot${i}`, priority: i, maxLayer: 0, layers: [{ index: 0, rateBps: 7_000 }] }));
    a.setEstimate(30_000);
    a.decide(tiny, 20_000, 0);
    a.setEstimate(6_000); // below what is sent (48k), with loss, but the floor carries it
    a.setLoss(0.5);
    expect([...a.decide(tiny, 20_000, 500).values()]).toEqual([0, 0, 0, 0]);
  });
});

describe('probe clusters', () => {
  it('asks for one when a better layer does not fit, tries what the link carried, and waits longer after a full link', () => {
    const a = new BandwidthAllocator();
    const one = [simulcast('v', 1, 1)]; // the tile shows layer 1 at most
    a.setEstimate(300_000); // 270k: audio and the low layer, no room for layer 1
    expect(layers(a, 0, one)).toEqual({ v: 0 });
    // The next step (+200k), twice what flows, or 700k more, whichever is most: audio 100k + 800k.
    expect(a.clusterWanted).toEqual({ testedBps: 900_000, paddingBps: 700_000 });
    a.clusterStarted(0);
    expect(a.clusterWanted).toBeUndefined();
    expect(layers(a, 500, one)).toEqual({ v: 0 });
    expect(a.paddingBps).toBe(0); // no padding beside a cluster
    a.clusterResult('carried', 900_000, 600);
    expect(layers(a, 700, one)).toEqual({ v: 1 }); // tried, whatever the estimate says
    const all = [simulcast('v', 1)]; // the tile grows
    layers(a, 2700, all);
    expect(a.clusterWanted).toBeUndefined(); // not while the try is under way
    expect(layers(a, 3100, all)).toEqual({ v: 1 }); // it held for 2.5 s
    layers(a, 3600, all);
    // Layer 2 (+600k), twice the 300k of video, or 700k more: audio 100k + 1M.
    expect(a.clusterWanted).toEqual({ testedBps: 1_100_000, paddingBps: 700_000 });
    a.clusterStarted(3600);
    a.clusterResult('full', 1_100_000, 4200);
    expect(layers(a, 4300, all)).toEqual({ v: 1 });
    layers(a, 5100, all);
    expect(a.clusterWanted).toBeUndefined(); // 1 s after a full link, then 2, up to 4 s
    layers(a, 5200, all);
    expect(a.clusterWanted).toEqual({ testedBps: 1_100_000, paddingBps: 700_000 });
    a.clusterStarted(5200);
    a.clusterResult('full', 1_100_000, 5800);
    a.clusterStarted(7800);
    a.clusterResult('full', 1_100_000, 8400);
    a.clusterStarted(12_400);
    a.clusterResult('full', 1_100_000, 13_000);
    layers(a, 16_900, all);
    expect(a.clusterWanted).toBeUndefined();
    layers(a, 17_000, all);
    expect(a.clusterWanted).toEqual({ testedBps: 1_100_000, paddingBps: 700_000 });
    a.clusterStarted(17_000);
    a.clusterResult('full', 1_100_000, 17_600);
    layers(a, 21_500, all);
    expect(a.clusterWanted).toBeUndefined(); // no longer than 4 s
    layers(a, 21_600, all);
    expect(a.clusterWanted).toEqual({ testedBps: 1_100_000, paddingBps: 700_000 });
  });

  /** Three cameras at their low layers; a first cluster (1.1M) carried, and a larger one asked for at 600 ms. */
  const three = [simulcast('a', 2), simulcast('b', 3), simulcast('c', 4)];
  function carriedOnce(): BandwidthAllocator {
    const a = new BandwidthAllocator();
    a.setEstimate(450_000);
    layers(a, 0, three);
    a.clusterStarted(0);
    a.clusterResult('carried', 1_100_000, 600);
    layers(a, 600, three);
    return a;
  }

  it('follows a cluster the link carried with a larger one at once, up to the best layers, and tries the most it carried', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(450_000); // audio and the three low layers
    expect(layers(a, 0, three)).toEqual({ a: 0, b: 0, c: 0 });
    expect(a.clusterWanted).toEqual({ testedBps: 1_100_000, paddingBps: 700_000 });
    a.clusterStarted(0);
    a.clusterResult('carried', 1_100_000, 600);
    // Nothing moves yet: twice the 1M of video it carried, within the 2.7M of the best layers.
    expect(layers(a, 600, three)).toEqual({ a: 0, b: 0, c: 0 });
    expect(a.clusterWanted).toEqual({ testedBps: 2_100_000, paddingBps: 1_700_000 });
    a.clusterStarted(600);
    a.clusterResult('carried', 2_100_000, 1200);
    expect(layers(a, 1200, three)).toEqual({ a: 0, b: 0, c: 0 });
    // Then the best layers' 2.7M and a quarter more (padding may fall short of what is asked).
    expect(a.clusterWanted).toEqual({ testedBps: 3_475_000, paddingBps: 3_075_000 });
    a.clusterStarted(1200);
    a.clusterResult('full', 3_475_000, 1800);
    // The most it carried, 2.1M: a and b at their best (by priority), c low.
    expect(layers(a, 1800, three)).toEqual({ a: 2, b: 2, c: 0 });

    // When what a cluster carried covers the best layers, all are tried at once.
    const b = carriedOnce();
    b.clusterStarted(600);
    b.clusterResult('carried', 2_800_000, 1200);
    expect(layers(b, 1200, three)).toEqual({ a: 2, b: 2, c: 2 });

    // A larger one that carried less than the last is followed again, from the most carried.
    const d = carriedOnce();
    d.clusterStarted(600);
    d.clusterResult('carried', 600_000, 1200); // asked 2.1M (its padding went out short)
    expect(layers(d, 1200, three)).toEqual({ a: 0, b: 0, c: 0 });
    expect(d.clusterWanted).toEqual({ testedBps: 2_100_000, paddingBps: 1_700_000 });
  });

  it('sends an unclear cluster again after the first wait, twice, then counts it full', () => {
    const a = carriedOnce();
    a.clusterStarted(600);
    a.clusterResult('unclear', 2_100_000, 1200);
    expect(layers(a, 1200, three)).toEqual({ a: 0, b: 0, c: 0 });
    expect(a.clusterWanted).toBeUndefined();
    layers(a, 1700, three);
    // The same larger one again: what the first carried is still remembered.
    expect(a.clusterWanted).toEqual({ testedBps: 2_100_000, paddingBps: 1_700_000 });
    a.clusterStarted(1700);
    a.clusterResult('unclear', 2_100_000, 2300);
    layers(a, 2800, three);
    a.clusterStarted(2800);
    a.clusterResult('unclear', 2_100_000, 3400); // the third in a row: full, and the first is tried
    expect(layers(a, 3400, three)).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('tries nothing a cluster found once the link loses before the larger one', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(450_000);
    layers(a, 0, three);
    a.clusterStarted(0);
    a.clusterResult('carried', 1_100_000, 600);
    a.setLoss(0.2);
    expect(layers(a, 600, three)).toEqual({ a: 0, b: 0, c: 0 });
    expect(a.clusterWanted).toBeUndefined();
    a.setLoss(0);
    a.clusterResult('full', 2_100_000, 700); // a late verdict: no try of the first one's rate
    expect(layers(a, 800, three)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('takes back what a cluster found at the first fall of the estimate (a shaper\'s burst fooled it)', () => {
    const a = new BandwidthAllocator();
    const one = [simulcast('v', 1, 1)];
    a.setEstimate(300_000);
    layers(a, 0, one);
    a.clusterStarted(0);
    a.clusterResult('carried', 900_000, 600);
    expect(layers(a, 700, one)).toEqual({ v: 1 });
    a.setEstimate(260_000); // the link queues
    expect(layers(a, 1200, one)).toEqual({ v: 0 });
    layers(a, 4100, one);
    expect(a.clusterWanted).toBeUndefined(); // the hold after a cut: 3 s
    layers(a, 4200, one);
    expect(a.clusterWanted).toEqual({ testedBps: 900_000, paddingBps: 700_000 });
    a.clusterStarted(4200);
    a.clusterResult('full', 900_000, 4800);
    layers(a, 5700, one);
    expect(a.clusterWanted).toBeUndefined(); // the failed try doubled the wait: 2 s after a full link now
    layers(a, 6800, one);
    expect(a.clusterWanted).toEqual({ testedBps: 900_000, paddingBps: 700_000 });
  });

  it('asks for none while the tile wants no better layer, or while the link loses', () => {
    const a = new BandwidthAllocator();
    a.setEstimate(300_000);
    layers(a, 0, [simulcast('v', 1, 0)]);
    expect(a.clusterWanted).toBeUndefined();
    a.setLoss(0.2);
    layers(a, 500, [simulcast('v', 1)]);
    expect(a.clusterWanted).toBeUndefined();
  });
});
