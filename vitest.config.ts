import { defineConfig } from 'vitest/config';

// Dawn crashes inside worker threads; every test file runs in its own forked process.
//
// lavapipe compiles each distinct compute pipeline with LLVM at its first dispatch, which dominates a
// run with a cold Mesa shader cache. The files run in three projects that differ only in how lavapipe
// compiles (the variables are read by Mesa when a process loads the driver). Mesa keys its disk cache
// on GALLIVM_PERF but not on the vector width: a shader's binary compiled at one width is reused at the
// other (measured: a width-128 run after a width-256 one compiled nothing and passed). So the narrow
// width is used only with nopt, whose binaries never reach a training run (lavapipe's defaults there):
//   - most files: GALLIVM_PERF=nopt (LLVM's IR optimisation skipped: about half the compile) and
//     LP_NATIVE_VECTOR_WIDTH=128 (4 lanes instead of AVX2's 8: about half again, bench/RESULTS.md).
//     Their few dispatches per pipeline barely notice the slower code; subgroups are 4 wide there.
//   - SUBGROUP_FILES test the paths that share rows across subgroups of 8, which need lavapipe's
//     native 8-wide subgroups: GALLIVM_PERF=nopt only.
//   - OPTIMISED_FILES train the full model (test/nn/model.test.ts for hundreds of steps; the files
//     that run `ser train` and `ser evaluate` on it): there unoptimised 4-lane code costs more than
//     the optimised compile, which all of them share: lavapipe's defaults (cli-faults alone: 91 CPU s
//     warm narrow, 34 optimised; bench/RESULTS.md).
// An explicit GALLIVM_PERF wins everywhere (`GALLIVM_PERF= npm test` tests the optimised code at the
// native width), an explicit LP_NATIVE_VECTOR_WIDTH in the narrow files (`=256`: AVX2's native width).
// See docs/ENGINE.md.
// SER_COMPILE_AHEAD=0: training runs in tests skip compiling ahead by dispatch (helper devices,
// src/train/loop/compile-ahead.node.ts): the files already run in parallel, each pipeline runs a few
// times, and it would only add a device per run; tests that cover it set it themselves.
const SUBGROUP_FILES = ['test/kernels/subgroups.test.ts', 'test/kernels/pointwise-gemm.test.ts', 'test/tune/dispatch.test.ts'];
const OPTIMISED_FILES = [
  'test/nn/model.test.ts',
  'test/train/augment.test.ts',
  'test/train/average.test.ts',
  'test/train/balance-run.test.ts',
  'test/train/cli-faults.test.ts',
  'test/train/corpora-protocols.test.ts',
  'test/train/corpora.test.ts',
  'test/train/folds.test.ts',
  'test/train/masks.test.ts',
  'test/train/mixup.test.ts',
  'test/train/run.test.ts',
  'test/train/seeds.test.ts',
  'test/train/shipped-general-speaker-norm.test.ts',
  'test/train/shipped-general.test.ts',
  'test/train/shipped-model.test.ts',
  'test/train/shipped-speaker-norm.test.ts',
  'test/train/speaker-norm.test.ts',
  'test/train/weight-decay.test.ts',
  'test/train/windows.test.ts',
];

// A width given by the caller applies to the narrow files only: the others need the native one.
const NARROW_WIDTH = process.env.LP_NATIVE_VECTOR_WIDTH ?? '128';
delete process.env.LP_NATIVE_VECTOR_WIDTH;
const env = (perf: string, width?: string) => {
  const gallivmPerf = process.env.GALLIVM_PERF ?? perf;
  // Narrowed only with nopt: optimised 4-lane binaries would share the cache key of training runs.
  const narrow = width !== undefined && gallivmPerf.split(',').includes('nopt');
  return { GALLIVM_PERF: gallivmPerf, ...(narrow ? { LP_NATIVE_VECTOR_WIDTH: width } : {}), SER_COMPILE_AHEAD: process.env.SER_COMPILE_AHEAD ?? '0' };
};

export default defineConfig({
  test: {
    pool: 'forks',
    // Generous: a shared 2-core machine under load runs the software GPU many times slower.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    // SER_PIPELINE_LOG=FILE npm test: which test file compiles which pipelines (scripts/pipeline-log.ts).
    setupFiles: ['./test/pipeline-log-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'narrow', include: ['test/**/*.test.ts'], exclude: [...SUBGROUP_FILES, ...OPTIMISED_FILES], env: env('nopt', NARROW_WIDTH) } },
      { extends: true, test: { name: 'subgroups', include: SUBGROUP_FILES, env: env('nopt') } },
      { extends: true, test: { name: 'optimised', include: OPTIMISED_FILES, env: env('') } },
    ],
  },
});
