import { defineConfig } from 'vitest/config';

// One run covers every workspace. Files run in forks, two at a time (the machines have two
// cores); tests that start servers give themselves generous timeouts instead of timed asserts.
export default defineConfig({
  test: {
    // *.e2e.ts drive a real browser (Debian's chromium through playwright-core).
    include: ['*/src/**/*.test.ts', '*/src/**/*.e2e.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
