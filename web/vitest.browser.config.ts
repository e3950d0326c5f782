import { defineConfig } from 'vitest/config';

// Browser tests: a real plein process and Debian's Chromium driven by playwright-core.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts', 'tests/screenshots/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
