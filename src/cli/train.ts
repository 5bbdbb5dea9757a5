// `ser train`: train the residual CNN on a data folder (or the embedded synthetic corpus) and write
// the model, checkpoints, report and plots. Ctrl-C stops cleanly: the last completed epoch stays
// checkpointed and `--resume DIR` continues from it.

import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createNodeGpu } from '../gpu/node.node.ts';
import { defaultLoopOptions } from '../train/loop';
import { trainRun } from '../train/run.node.ts';
import { writeReport } from '../train/report.node.ts';
import { makeExtractor } from './extractor';
import { fraction, list, nonNegativeInt, positiveInt, positiveNumber } from './options';

interface TrainFlags {
  data?: string;
  split: 'random' | 'speaker';
  val: number;
  valSpeakers?: string[];
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  patience: number;
  out?: string;
  resume?: string;
  cache: string;
  json?: boolean;
  bnMomentum: number;
  labelSmoothing: number;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the residual CNN; without --data, on the embedded synthetic corpus (not real speech)')
    .option('--data <dir>', 'data folder (RAVDESS, CREMA-D, TESS, SAVEE, EMO-DB, folder-per-label) or a CSV manifest')
    .option('--split <kind>', "'random' (stratified clip split, as the seed report) or 'speaker' (held-out speakers)", 'random')
    .option('--val <fraction>', 'validation fraction', fraction, 0.2)
    .option('--val-speakers <list>', 'comma-separated validation speakers (implies --split speaker)', list)
    .option('--epochs <n>', 'maximum epochs', positiveInt, 30)
    .option('--batch <n>', 'batch size', positiveInt, 32)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--seed <n>', 'seed of the split, initialisation, shuffling and dropout', nonNegativeInt, 0)
    .option('--patience <n>', 'early stopping: epochs without validation improvement (0: off)', nonNegativeInt, 10)
    .option('--out <dir>', 'output folder (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue the run in this folder from its last completed epoch')
    .option('--cache <dir>', 'folder for cached features and the synthetic corpus', '.cache')
    .option('--bn-momentum <m>', 'batch-norm moving-average momentum (Keras: 0.99; lower suits short runs)', fraction, 0.99)
    .option('--label-smoothing <s>', 'label smoothing of the cross-entropy', (v) => (v === '0' ? 0 : fraction(v)), 0.1)
    .option('--json', 'print the final report as JSON')
    .action(async (flags: TrainFlags) => {
      if (!['random', 'speaker'].includes(flags.split)) throw new Error(`--split must be 'random' or 'speaker', got '${flags.split}'`);
      const out = flags.resume ?? flags.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const log = (l: string) => (flags.json ? console.error(l) : console.log(l));
      const gpu = await createNodeGpu();
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        console.error('\nstopping: the last completed epoch is checkpointed; continue with --resume ' + out);
      };
      process.on('SIGINT', onSigint);
      const bar = new SingleBar({
        format: 'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true, // logs and CI get a line every few seconds instead of nothing
        notTTYSchedule: 10_000,
        stream: process.stderr,
      });
      let barEpoch = -1;
      try {
        const result = await trainRun(gpu, (c) => makeExtractor(gpu, c), {
          data: flags.data,
          split: flags.valSpeakers ? 'speaker' : flags.split,
          val: flags.val,
          valSpeakers: flags.valSpeakers,
          out,
          resume: !!flags.resume,
          cacheDir: flags.cache,
          lr: flags.lr,
          model: { bnMomentum: flags.bnMomentum, labelSmoothing: flags.labelSmoothing },
          loop: { ...defaultLoopOptions, epochs: flags.epochs, batch: flags.batch, seed: flags.seed, patience: flags.patience },
          log,
          shouldStop: () => stop,
          onProgress: (p) => {
            if (p.epoch !== barEpoch) {
              if (barEpoch >= 0) bar.stop();
              bar.start(p.steps, 0, { epoch: p.epoch, loss: '-', acc: '-', sps: '-' });
              barEpoch = p.epoch;
            }
            bar.update(p.step, { loss: Number.isNaN(p.loss) ? '-' : p.loss.toFixed(4), acc: Number.isNaN(p.accuracy) ? '-' : p.accuracy.toFixed(3), sps: p.samplesPerSecond.toFixed(1) });
            if (p.step === p.steps) {
              bar.stop();
              barEpoch = -1;
            }
          },
        });
        bar.stop();
        await writeReport(result);
        if (flags.json) {
          console.log(JSON.stringify({ out, seconds: result.seconds, bestEpoch: result.state.bestEpoch, accuracy: result.report.accuracy, uar: result.report.uar, macroF1: result.report.macroF1 }));
        } else {
          const last = result.state.history[result.state.history.length - 1];
          log(`\ndone in ${result.seconds.toFixed(0)} s: ${result.state.history.length} epochs, best epoch ${result.state.bestEpoch}${last ? `, ${last.samplesPerSecond.toFixed(1)} samples/s` : ''}`);
          log(`validation (best weights): accuracy ${(100 * result.report.accuracy).toFixed(2)}%, UAR ${(100 * result.report.uar).toFixed(2)}%, macro F1 ${(100 * result.report.macroF1).toFixed(2)}%`);
          log(`wrote ${out}/model.safetensors, model.json, report.md, report.json, confusion.svg, curves.svg`);
        }
      } finally {
        bar.stop();
        process.off('SIGINT', onSigint);
        gpu.destroy();
      }
    });
}
