// `ser bench`: the benchmark suite (bench/), loaded only when asked for since it uses devDependencies.

import type { Command } from 'commander';
import type { BenchOptions } from '../../bench/index';

// The suite's own options, with --threshold still the string commander parsed (type-only import: the
// bench and its devDependencies load only when the command runs).
type BenchFlags = Omit<BenchOptions, 'threshold' | 'extraCases'> & { threshold?: string };

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time the kernels and whole stages on this adapter (median, spread, GFLOP/s or GB/s, fraction of the measured peak), profile a training step, or guard against regressions')
    .option('--filter <regex>', 'run only cases whose "group/name" matches (e.g. conv2d, "model/", profile)')
    .option('--json <file>', 'also write the results as JSON')
    .option('--quick', 'fewer samples per case')
    .option('--data <dir>', 'audio folder for the whole-pipeline feature cases (default ../shared/data/ravdess beside the repository; skipped when absent)')
    .option('--list', 'list the cases (after --filter / --guard) and exit')
    .option('--guard', 'regression guard: time ratios to a reference matmul against bench/baseline.json; exit 1 on a regression')
    .option('--update-baseline', 'with --guard: rewrite this adapter\'s baseline (three passes, median)')
    .option('--baseline <file>', 'with --guard: the baseline file (default bench/baseline.json)')
    .option('--threshold <factor>', 'with --guard: slowdown factor that fails (default from the baseline file)')
    .option('--simulate-slower <regex>', 'run matching cases twice per sample (shows the guard catching a 2x slowdown)')
    .action(async (f: BenchFlags) => {
      if (f.updateBaseline && !f.guard) throw new Error('--update-baseline only makes sense with --guard');
      const threshold = f.threshold === undefined ? undefined : Number(f.threshold);
      if (threshold !== undefined && !(threshold > 1)) throw new Error(`--threshold must be a number above 1, got ${f.threshold}`);
      const { runBench } = await import('../../bench/index');
      const { exitCode } = await runBench({ ...f, threshold });
      if (exitCode) process.exitCode = exitCode;
    });
}
