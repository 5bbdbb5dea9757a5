// The `ser` command: thin subcommands over the library. Each subcommand lives in its own file and
// registers itself on the program. `--verbose` (before or after the subcommand) lets Dawn's adapter
// warnings through; without it they are filtered (gpu/native-stderr.node.ts).

import { Command } from 'commander';
import { quietDawnWarnings } from '../gpu/node.node.ts';
import { registerBench } from './bench';
import { registerFeatures } from './features';
import { registerEvaluate } from './evaluate';
import { registerInfo } from './info';
import { registerPredict } from './predict';
import { registerTrain } from './train';

const program = new Command()
  .name('ser')
  .description('Speech emotion recognition on WebGPU: features, training, evaluation and prediction run as WGSL compute shaders.')
  .version('0.1.0')
  .option('--verbose', "also show the GPU driver's own warnings (Dawn's adapter-limit notices are kept off stderr otherwise)")
  .showHelpAfterError('(run `ser --help` for the commands)')
  .hook('preAction', (_program, action) => quietDawnWarnings(!action.optsWithGlobals().verbose));

registerInfo(program);
registerBench(program);
registerFeatures(program);
registerTrain(program);
registerEvaluate(program);
registerPredict(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`ser: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
