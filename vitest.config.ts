import { defineConfig } from 'vitest/config';

// Dawn crashes inside worker threads; every test file runs in its own forked process.
// GALLIVM_PERF=nopt: lavapipe compiles each distinct compute pipeline with LLVM at its first dispatch,
// which dominates a run with a cold Mesa shader cache; nopt skips LLVM's IR optimisation passes and
// about halves that cost, while the tests' few dispatches per pipeline barely notice slower code.
// Mesa keys its disk cache on the flag, so these unoptimised binaries never reach training runs.
// An explicit GALLIVM_PERF (even empty: `GALLIVM_PERF= npm test`) wins. See docs/ENGINE.md.
// SER_COMPILE_AHEAD=0: training runs in tests skip compiling ahead by dispatch (helper devices,
// src/train/loop/compile-ahead.node.ts): the files already run in parallel, each pipeline runs a few
// times, and it would only add a device per run; tests that cover it set it themselves.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Generous: a shared 2-core machine under load runs the software GPU many times slower.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    env: { GALLIVM_PERF: process.env.GALLIVM_PERF ?? 'nopt', SER_COMPILE_AHEAD: process.env.SER_COMPILE_AHEAD ?? '0' },
    // SER_PIPELINE_LOG=FILE npm test: which test file compiles which pipelines (scripts/pipeline-log.ts).
    setupFiles: ['./test/pipeline-log-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
