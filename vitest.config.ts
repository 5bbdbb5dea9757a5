import { defineConfig } from 'vitest/config';

// Dawn crashes inside worker threads; every test file runs in its own forked process.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Generous: a shared 2-core machine under load runs the software GPU many times slower.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
