import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One file at a time: container suites share the machine's podman, and a registry started by one file rightly
    // reaps the containers another file orphaned on purpose (kill -9 tests) — in parallel that raced.
    fileParallelism: false,
    reporters: ['default'],
  },
});
