// The `ser` program: its subcommands, each registered from its own file. main.ts parses the command
// line with it; `--verbose` (before or after the subcommand) lets Dawn's adapter warnings through,
// without it they are filtered (gpu/native-stderr.node.ts); scripts/cli-docs.ts prints every command's help from it into docs/CLI.md.
// Each subcommand's file imports only what its options need and loads the engine (GPU runtime, kernels,
// training, plots) inside its action: `ser --help` or a refused flag answers in ~0.3 s of CPU, not ~1.3 s.

import { Command } from 'commander';
import { quietDawnWarnings } from '../gpu/node.node.ts';
import { registerBench } from './bench';
import { registerFeatures } from './features';
import { registerEvaluate } from './evaluate';
import { registerInfo } from './info';
import { registerPredict } from './predict';
import { registerTrain } from './train';
import { registerTune } from './tune';

export interface ProgramOptions {
  /** Help text width and no colours, whatever the terminal (for the generated docs); default: the terminal's. */
  helpWidth?: number;
}

export function createProgram(opts: ProgramOptions = {}): Command {
  const program = new Command()
    .name('ser')
    .description('Speech emotion recognition on WebGPU: features, training, evaluation and prediction run as WGSL compute shaders.')
    .version('0.1.0')
    .option('--verbose', "also show the GPU driver's own warnings (Dawn's adapter-limit notices are kept off stderr otherwise)")
    .showHelpAfterError('(run `ser --help` for the commands)')
    .hook('preAction', (_program, action) => quietDawnWarnings(!action.optsWithGlobals().verbose));
  // Set before the subcommands are made: they copy the parent's output settings.
  if (opts.helpWidth !== undefined) program.configureOutput({ getOutHelpWidth: () => opts.helpWidth!, getOutHasColors: () => false });

  registerInfo(program);
  registerBench(program);
  registerFeatures(program);
  registerTrain(program);
  registerEvaluate(program);
  registerPredict(program);
  registerTune(program);
  return program;
}
