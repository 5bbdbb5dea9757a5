// `ser evaluate --model DIR --data DIR`: accuracy, UAR, macro F1, per-class precision and recall, the
// confusion matrix (counts and row %) and the largest confusions of a trained model on a data set.

import type { Command } from 'commander';
import { createNodeGpu } from '../gpu/node.node.ts';
import { loadDataset } from '../train/datasets.node.ts';
import { predictFiles } from '../train/infer.node.ts';
import { classificationReport, formatReport } from '../train/metrics';
import { loadModel } from '../train/saved-model.node.ts';
import { withEvalWindows } from '../train/saved-model';
import { clipSpeakers, speakerGroups } from '../train/speaker-norm';
import { numberWithin } from './options';
import { makeExtractor } from './extractor';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a trained model on a labelled data folder or CSV manifest')
    .requiredOption('--model <dir>', 'folder written by `ser train`')
    .requiredOption('--data <dir>', 'data folder or CSV manifest (same conventions as `ser train`)')
    .option('--eval-windows <k>', 'for a model trained on windows: average k evenly spaced windows per clip instead of its trained setting (1..32)', numberWithin(1, 32, true))
    .option('--speaker-clips <k>', "for a model trained with --speaker-norm: normalise each speaker's clips in random groups of at most k instead of all together (how many clips of a speaker inference needs)", numberWithin(1, 100000, true))
    .option('--seed <n>', 'seed of the --speaker-clips groups', numberWithin(0, 2 ** 31, true), 0)
    .option('--json', 'print {"accuracy", "uar", "macroF1", "classes", "confusion", "perClass", "n"}')
    .option('--cache <dir>', 'folder of cached features', '.cache/features')
    .action(async (opts: { model: string; data: string; json?: boolean; cache: string; evalWindows?: number; speakerClips?: number; seed: number }) => {
      const gpu = await createNodeGpu();
      try {
        const saved = await loadModel(gpu, opts.model);
        const loaded = opts.evalWindows === undefined ? saved : withEvalWindows(saved, opts.evalWindows);
        const classes = loaded.meta.classes;
        const dataset = loadDataset(opts.data);
        const usable = dataset.items.filter((i) => classes.includes(i.label));
        const foreign = dataset.items.length - usable.length;
        if (usable.length === 0) throw new Error(`${opts.data}: no files of the model's classes (${classes.join(', ')})`);
        if (foreign > 0) console.error(`ignoring ${foreign} files whose class the model does not know`);
        let speakers: string[] | undefined;
        if (loaded.meta.speakerNorm) {
          speakers = clipSpeakers(usable, (i) => usable[i]!.path, `${opts.model} (trained with --speaker-norm)`);
          if (opts.speakerClips !== undefined) speakers = speakerGroups(speakers, opts.speakerClips, opts.seed);
        } else if (opts.speakerClips !== undefined) {
          throw new Error(`--speaker-clips applies only to a model trained with --speaker-norm; ${opts.model} was not`);
        }
        const { predictions, skipped } = await predictFiles(gpu, loaded, usable.map((i) => i.path), (c) => makeExtractor(gpu, c), { cacheDir: opts.cache, speakers });
        const pairs = usable.map((item, i) => ({ item, p: predictions[i] })).filter((e) => e.p);
        const report = classificationReport(pairs.map((e) => classes.indexOf(e.item.label)), pairs.map((e) => classes.indexOf(e.p!.label)), classes);
        for (const s of skipped) console.error(`skipped ${s.name}: ${s.reason}`);
        if (opts.json) {
          console.log(JSON.stringify({ accuracy: report.accuracy, uar: report.uar, macroF1: report.macroF1, classes, confusion: report.confusion, perClass: report.perClass, n: report.total }));
        } else {
          console.log(formatReport(report, { topK: 5 }));
        }
      } finally {
        gpu.destroy();
      }
    });
}
