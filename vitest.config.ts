import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Media tests each start servers and real peers; two files at once is what two cores carry
    // without starving the media threads. Browser files (several Chromiums each) run one at a
    // time: `npm test` runs them in a second pass with --no-file-parallelism, because two of
    // them side by side starved each other's video on two cores.
    maxWorkers: 2,
    // A safety net, not a measure: under the full suite's load a browser test whose own bounded
    // waits add up to 15 s has taken 25-30 s, so the net sits well above that.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ['default'],
  },
});
