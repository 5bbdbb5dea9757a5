// The `ser` command: thin subcommands over the library. Each subcommand lives in its own file and
// registers itself on the program.

import { Command } from 'commander';
import { registerBench } from './bench';
import { registerFeatures } from './features';
import { registerEvaluate } from './evaluate';
import { registerInfo } from './info';
import { registerPredict } from './predict';
import { registerTrain } from './train';
import { registerTune } from './tune';

const program = new Command()
  .name('ser')
  .description('Speech emotion recognition on WebGPU: features, training, evaluation and prediction run as WGSL compute shaders.')
  .version('0.1.0')
  .showHelpAfterError('(run `ser --help` for the commands)');

registerInfo(program);
registerBench(program);
registerFeatures(program);
registerTrain(program);
registerEvaluate(program);
registerPredict(program);
registerTune(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`ser: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
