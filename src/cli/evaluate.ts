// `ser evaluate --model DIR --data DIR`: accuracy, UAR, macro F1, per-class precision and recall, the
// confusion matrix (counts and row %) and the largest confusions of a trained model on a data set.
// `--held-out` scores only the clips the model was validated on (its split.json); a speaker-normalised
// model still takes its speakers' statistics from all their clips in --data, as training did, so the
// model folder's report figures are reproduced.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Gpu } from '../gpu';
import type { CorpusSpec } from '../train/scores/corpora';
import type { LoadedModel } from '../train/model-files/saved-model';
import { clipSpeakers, speakerGroups } from '../train/data/speaker-norm';
import { numberWithin } from './options';
import { collect, dataFlags } from './corpora-flags';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a trained model on a labelled data folder or CSV manifest')
    .requiredOption('--model <dir>', 'folder written by `ser train`')
    .requiredOption('--data <dir>', 'data folder or CSV manifest (same conventions as `ser train`); more than once (NAME=DIR or the base name) for several corpora: each clip is decided over its own corpus\'s classes and the report is broken down per corpus', collect)
    .option('--eval-windows <k>', 'for a model trained on windows: average k evenly spaced windows per clip instead of its trained setting (1..32)', numberWithin(1, 32, true))
    .option('--speaker-clips <k>', "for a model trained with --speaker-norm: normalise each speaker's clips in random groups of at most k instead of all together (how many clips of a speaker inference needs)", numberWithin(1, 100000, true))
    .option('--one-speaker', "for a model trained with --speaker-norm and data whose names give no speakers: normalise all clips of a data set together as one group (its own statistics stand in for the speaker's; one group per corpus when --data is given several times)")
    .option('--adapt-bn', "re-estimate the batch-norm statistics from the evaluated clips before predicting them, separately for each corpus when --data is given several times (adaptive batch normalisation: labels unused; for data from another corpus or channel; needs hundreds of clips, all of them predicted together)")
    .option('--seed <n>', 'seed of the --speaker-clips groups', numberWithin(0, 2 ** 31, true), 0)
    .option('--held-out', "score only the clips the model was validated on (the model folder's split.json; --data is the folder it was trained from); a --speaker-norm model still normalises with all of each speaker's clips in --data")
    .option('--json', 'print {"accuracy", "uar", "macroF1", "classes", "confusion", "perClass", "n"}')
    .option('--cache <dir>', 'folder of cached features', '.cache/features')
    .action(async (opts: { model: string; data: string[]; json?: boolean; cache: string; evalWindows?: number; speakerClips?: number; oneSpeaker?: boolean; seed: number; heldOut?: boolean; adaptBn?: boolean }) => {
      // The engine is loaded only now (a refused flag answers without it; see engine() below).
      const eng = await engine();
      const { createTunedNodeGpu, loadModel, withEvalWindows, loadDataset, heldOutIndices, clipsToPredict, predictFiles, makeExtractor, classificationReport, formatReport } = eng;
      const gpu = await createTunedNodeGpu();
      try {
        const saved = await loadModel(gpu, opts.model);
        const loaded = opts.evalWindows === undefined ? saved : withEvalWindows(saved, opts.evalWindows);
        const classes = loaded.meta.classes;
        const { corpora } = dataFlags(opts.data);
        if (corpora) return await evaluateCorpora(gpu, loaded, corpora, opts, eng);
        const data = opts.data[0]!;
        const dataset = loadDataset(data);
        const usable = dataset.items.filter((i) => classes.includes(i.label));
        const foreign = dataset.items.length - usable.length;
        if (usable.length === 0) throw new Error(`${data}: no files of the model's classes (${classes.join(', ')})`);
        if (foreign > 0) console.error(`ignoring ${foreign} files whose class the model does not know`);
        const scored = opts.heldOut ? heldOutIndices(readValFiles(opts.model), data, usable.map((i) => i.path), data) : null;
        const speakers = evaluationSpeakers(loaded, usable, opts);
        const run = clipsToPredict(scored, usable.length, !!speakers);
        const { predictions, skipped } = await predictFiles(gpu, loaded, run.map((i) => usable[i]!.path), (c) => makeExtractor(gpu, c), { cacheDir: opts.cache, speakers: speakers && run.map((i) => speakers![i]!), batchNormGroups: opts.adaptBn ? run.map(() => data) : undefined });
        const byItem = new Map(run.map((i, k) => [i, predictions[k]]));
        const pairs = (scored ?? run).map((i) => ({ item: usable[i]!, p: byItem.get(i) })).filter((e) => e.p);
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

/** The modules the evaluation runs on, loaded on first use rather than at `ser` start-up. */
async function engine() {
  const [runtime, files, saved, datasets, data, infer, metrics, extractor, corpora, report] = await Promise.all([
    import('../tune/runtime.node.ts'), import('../train/model-files/saved-model.node.ts'), import('../train/model-files/saved-model'),
    import('../train/data/datasets.node.ts'), import('../train/data/data.node.ts'), import('../train/inference/infer.node.ts'),
    import('../train/scores/metrics'), import('./extractor'), import('../train/inference/evaluate-corpora.node.ts'), import('../train/protocols/corpora-report'),
  ]);
  return {
    createTunedNodeGpu: runtime.createTunedNodeGpu, loadModel: files.loadModel, withEvalWindows: saved.withEvalWindows, loadDataset: datasets.loadDataset,
    heldOutIndices: data.heldOutIndices, clipsToPredict: data.clipsToPredict, predictFiles: infer.predictFiles, classificationReport: metrics.classificationReport,
    formatReport: metrics.formatReport, makeExtractor: extractor.makeExtractor, evaluationCorpora: corpora.evaluationCorpora,
    heldOutOfCorpora: corpora.heldOutOfCorpora, scoreCorpora: corpora.scoreCorpora, perCorpusJson: report.perCorpusJson,
  };
}

type Engine = Awaited<ReturnType<typeof engine>>;

type EvaluateOptions = { model: string; json?: boolean; cache: string; speakerClips?: number; oneSpeaker?: boolean; seed: number; heldOut?: boolean; adaptBn?: boolean };

/** `ser evaluate` with several corpora: each clip decided over its corpus's classes, a report per corpus. */
async function evaluateCorpora(gpu: Gpu, loaded: LoadedModel, specs: CorpusSpec[], opts: EvaluateOptions, eng: Engine): Promise<void> {
  const { evaluationCorpora, heldOutOfCorpora, clipsToPredict, predictFiles, makeExtractor, scoreCorpora, formatReport, perCorpusJson } = eng;
  const classes = loaded.meta.classes;
  const ev = evaluationCorpora(specs, classes, (l) => console.error(l));
  if (ev.foreign > 0) console.error(`ignoring ${ev.foreign} files whose class the model does not know`);
  const file = join(opts.model, 'split.json');
  const scored = opts.heldOut ? heldOutOfCorpora(readSplit(file), ev, file) : null;
  const speakers = evaluationSpeakers(loaded, ev.items, opts, (i) => ev.corpora[ev.corpusOf[i]!]!.name);
  const run = clipsToPredict(scored, ev.items.length, !!speakers);
  const batchNormGroups = opts.adaptBn ? run.map((i) => ev.corpora[ev.corpusOf[i]!]!.name) : undefined;
  const { predictions, skipped } = await predictFiles(gpu, loaded, run.map((i) => ev.items[i]!.path), (c) => makeExtractor(gpu, c), { cacheDir: opts.cache, speakers: speakers && run.map((i) => speakers![i]!), batchNormGroups });
  const byItem = new Map(run.map((i, k) => [i, predictions[k]]));
  const ids = (scored ?? run).filter((i) => byItem.get(i));
  const { report, perCorpus } = scoreCorpora(ev, classes, ids, ids.map((i) => byItem.get(i)!.probabilities));
  for (const s of skipped) console.error(`skipped ${s.name}: ${s.reason}`);
  if (opts.json) {
    console.log(JSON.stringify({ accuracy: report.accuracy, uar: report.uar, macroF1: report.macroF1, classes, confusion: report.confusion, perClass: report.perClass, n: report.total, perCorpus: perCorpusJson(perCorpus) }));
  } else {
    console.log(formatReport(report, { topK: 5 }));
    for (const c of perCorpus) console.log(`\ncorpus ${c.name} (over ${c.classes.join(', ')})\n${formatReport(c.report, { topK: 3 })}`);
  }
}

/**
 * The group each clip is normalised with, for a model trained with --speaker-norm (undefined for
 * others): its speaker from the data set, or with --one-speaker one group per data set (per corpus when
 * several are given: `corpusOf` names item i's); --speaker-clips splits the groups further. The
 * speaker options are refused for a model without speaker normalisation.
 */
export function evaluationSpeakers(loaded: LoadedModel, items: readonly { path: string; speaker?: string }[], opts: EvaluateOptions, corpusOf?: (i: number) => string): string[] | undefined {
  if (!loaded.meta.speakerNorm) {
    for (const [flag, given] of [['--speaker-clips', opts.speakerClips !== undefined], ['--one-speaker', !!opts.oneSpeaker]] as const) {
      if (given) throw new Error(`${flag} applies only to a model trained with --speaker-norm; ${opts.model} was not`);
    }
    return undefined;
  }
  const speakers = opts.oneSpeaker
    ? items.map((_, i) => `one speaker${corpusOf ? ` of ${corpusOf(i)}` : ''}`)
    : clipSpeakers(items, (i) => items[i]!.path, `${opts.model} (trained with --speaker-norm; --one-speaker normalises data without speakers as one group)`);
  return opts.speakerClips !== undefined ? speakerGroups(speakers, opts.speakerClips, opts.seed) : speakers;
}

function readSplit(file: string): any {
  if (!existsSync(file)) throw new Error(`--held-out needs ${file}, which \`ser train\` writes beside the model`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The validation clips a single-corpus split.json names beside a model (`ser train` writes it). */
function readValFiles(modelDir: string): string[] {
  const file = join(modelDir, 'split.json');
  const record = readSplit(file);
  if (record.corpora) throw new Error(`${file} names the validation clips of several corpora (${record.corpora.map((c: { name: string }) => c.name).join(', ')}): give --data once per corpus, as NAME=DIR`);
  const valFiles: string[] = record.valFiles ?? [];
  if (valFiles.length === 0) throw new Error(`${file} lists no validation clips: the model was trained without a held-out split`);
  return valFiles;
}
