// `ser bench`: the benchmark suite (bench/), loaded only when asked for since it uses devDependencies.

import type { Command } from 'commander';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time the kernels and whole stages on this adapter (median, spread, GFLOP/s)')
    .option('--filter <regex>', 'run only cases whose "group/name" matches')
    .option('--json <file>', 'also write the results as JSON')
    .option('--quick', 'fewer samples per case')
    .action(async (opts: { filter?: string; json?: string; quick?: boolean }) => {
      const { runBench } = await import('../../bench/index');
      await runBench(opts);
    });
}
