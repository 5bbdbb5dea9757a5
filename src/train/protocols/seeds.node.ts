// `ser train --seeds LIST`: the same training once per seed, each a complete single run in
// OUT/seed-<s>/ (split, initialisation, shuffles, dropout, windows and masks all follow the seed), then
// the mean and spread in OUT/seeds.json and OUT/seeds.md, written only when every seed has finished.
// A seed whose folder already holds a finished run (report.json) is not trained again but read, and one
// with only a checkpoint is resumed, so a stopped --seeds run repeated with the same flags continues
// where it was (OUT/seeds-settings.json records the flags; other settings in the same OUT are refused).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureConfig } from '../../dsp/config';
import type { FeatureExtractor } from '../../dsp/pipeline';
import type { Gpu } from '../../gpu';
import { epochsSeconds } from '../loop/loop';
import { reportFromConfusion } from '../scores/metrics';
import { claimSettings, finishedReport, hasCheckpoint } from './protocol.node.ts';
import { writeReport } from './report.node.ts';
import { corporaSummaryMarkdown, corpusEntries, summariseCorpora, type CorpusEntry } from './corpora-report';
import { trainRun, type TrainRunOptions } from './run.node.ts';
import { forSeed } from '../model-files/run-settings';
import { formatSeedsSummary, seedsMarkdown, seedsProtocol, seedsSettings, summariseSeeds, type SeedOutcome, type SeedsSummary } from './seeds';
import { validSeeds } from './seed-list';

export interface SeedsRunOptions extends TrainRunOptions {
  seeds: number[];
  /** Called before each seed trains (1-based position), e.g. to label a progress bar. */
  onSeed?: (seed: number, position: number, count: number) => void;
}

export interface SeedsRunResult {
  out: string;
  /** Null when the run was stopped before every seed had finished. */
  summary: SeedsSummary | null;
  seconds: number;
}

/** The outcome recorded in a seed folder whose run finished (protocol.node.ts), or null. */
function finishedOutcome(dir: string, seed: number, loop: SeedsRunOptions['loop']): SeedOutcome | null {
  const r = finishedReport(dir, loop);
  if (!r || r.protocol?.seed !== seed) return null;
  return { seed, trainExamples: r.trainExamples, valExamples: r.valExamples, bestEpoch: r.bestEpoch, epochs: r.epochs.length, seconds: epochsSeconds(r.epochs), report: reportFromConfusion(r.confusion, r.classes) };
}

export async function seedsRun(gpu: Gpu, extractorFor: (c: FeatureConfig) => FeatureExtractor, opts: SeedsRunOptions): Promise<SeedsRunResult> {
  const started = performance.now();
  const { seeds, log } = opts;
  if (!validSeeds(seeds)) {
    throw new RangeError(`--seeds needs at least two different non-negative whole numbers, got ${seeds.join(',')}`);
  }
  if (opts.resume) throw new RangeError('--seeds runs are continued by repeating the same command (finished seeds are read, not retrained); resume one seed with --resume OUT/seed-<s>');
  // The settings every seed trains with, kept beside the seed folders: a repeated command may reuse
  // finished seeds only when nothing else changed.
  const pinned = { data: opts.data ?? null, ...(opts.corpora ? { corpora: opts.corpora } : {}), ...(opts.valCorpus !== undefined ? { valCorpus: opts.valCorpus } : {}), split: opts.split, val: opts.val, valSpeakers: opts.valSpeakers ?? null, lr: opts.lr, model: opts.model ?? null, features: opts.features ?? null, windows: opts.windows ?? null, augment: opts.augment ?? null, ...(opts.speakerNorm ? { speakerNorm: true } : {}), loop: { ...opts.loop, seed: null } };
  claimSettings(opts.out, 'seeds-settings.json', pinned, '--seeds');
  const outcomes: SeedOutcome[] = [];
  const perCorpus: CorpusEntry[][] = [];
  for (const [k, seed] of seeds.entries()) {
    const out = join(opts.out, `seed-${seed}`);
    const done = finishedOutcome(out, seed, opts.loop);
    if (done) {
      log(`\nseed ${seed} (${k + 1} of ${seeds.length}): finished before, read from ${out}/report.json`);
      outcomes.push(done);
      perCorpus.push(corpusEntries(finishedReport(out, opts.loop)?.perCorpus));
      continue;
    }
    const partial = hasCheckpoint(out);
    log(`\nseed ${seed} (${k + 1} of ${seeds.length})${partial ? ': continuing its checkpoint' : ''}`);
    opts.onSeed?.(seed, k + 1, seeds.length);
    const r = await trainRun(gpu, extractorFor, { ...opts, out, resume: partial, loop: { ...opts.loop, seed }, ...(opts.settings ? { settings: forSeed(opts.settings, seed) } : {}) });
    if (opts.shouldStop?.()) {
      log(`stopped during seed ${seed}: ${out} keeps its last completed epoch; repeat the command to continue (no summary is written yet)`);
      return { out: opts.out, summary: null, seconds: (performance.now() - started) / 1000 };
    }
    await writeReport(r);
    const runSeconds = epochsSeconds(r.state.history);
    perCorpus.push(corpusEntries(r.perCorpus));
    outcomes.push({ seed, trainExamples: r.split.train.length, valExamples: r.split.val.length, bestEpoch: r.state.bestEpoch, epochs: r.state.history.length, seconds: runSeconds, report: r.report });
    log(`seed ${seed}: accuracy ${(100 * r.report.accuracy).toFixed(1)}%, UAR ${(100 * r.report.uar).toFixed(1)}%, macro F1 ${(100 * r.report.macroF1).toFixed(1)}% (best epoch ${r.state.bestEpoch}, ${runSeconds.toFixed(0)} s in its epochs)`);
  }
  const summary = summariseSeeds(outcomes, outcomes[0]!.report.perClass.map((m) => m.name));
  const protocol = opts.valCorpus !== undefined
    ? `cross-corpus: trained on the other corpora, validated on corpus ${opts.valCorpus} over the classes both sides share (${outcomes[0]!.valExamples} clips)`
    : seedsProtocol(opts, outcomes.map((o) => o.valExamples));
  // Several corpora: each corpus's figures over the seeds.
  const corpora = opts.corpora ? summariseCorpora(perCorpus) : null;
  const settings = seedsSettings({ ...opts, clipFrames: opts.features?.frames, augment: !!opts.augment });
  const seconds = (performance.now() - started) / 1000;
  await writeFile(join(opts.out, 'seeds.json'), `${JSON.stringify({ ...summary, protocol, settings, ...(corpora ? { corpora: opts.corpora, perCorpus: corpora } : {}), seconds }, null, 2)}\n`);
  await writeFile(join(opts.out, 'seeds.md'), seedsMarkdown(summary, { protocol, settings }) + (corpora ? `\n${corporaSummaryMarkdown(corpora, 'seeds')}` : ''));
  log(`\n${formatSeedsSummary(summary, protocol)}`);
  return { out: opts.out, summary, seconds };
}
