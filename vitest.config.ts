import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: container and end-to-end suites compete for them; keep the run predictable.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
