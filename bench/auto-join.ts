// Shared by the join benchmark's Chromium and Firefox runs.

/**
 * Injected before the page's own scripts: presses Join the moment it is enabled (the fastest
 * possible person) and, once the subscriber transport has decoded a video frame, records how
 * long after navigation started (performance.now() counts from the navigation's time origin).
 * Measuring in the page keeps the test driver's own delays (actionability checks, round trips)
 * out of the figure. Source text: tsx would wrap named functions with a helper the page lacks.
 */
export const AUTO_JOIN = `(() => {
  const press = () => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Join' && !b.disabled);
    if (button) { button.click(); return; }
    requestAnimationFrame(press);
  };
  const poll = async () => {
    const pc = globalThis.__parley && globalThis.__parley.subscriber();
    let frames = 0;
    if (pc) (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
    if (frames > 0) { globalThis.__firstFrameMs = performance.now(); return; }
    setTimeout(poll, 5);
  };
  document.addEventListener('DOMContentLoaded', () => { press(); poll(); });
})()`;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
