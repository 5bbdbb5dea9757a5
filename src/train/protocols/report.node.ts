// The run's report in its output folder: report.json (every number), report.md (for a person:
// protocol, metrics, per-class table, largest confusions, epochs) and the SVG plots.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeAugmentConfig } from '../../dsp/augment';
import { epochsSeconds } from '../loop/loop';
import { formatReport, topConfusions } from '../scores/metrics';
import { confusionSvg, curvesSvg } from './plots';
import { trainingSentence } from '../loop/training-settings';
import type { TrainRunResult } from './run.node.ts';
import { corporaLine, corpusProtocol, perCorpusJson, perCorpusMarkdown } from './corpora-report';

export async function writeReport(r: TrainRunResult): Promise<void> {
  const d = r.split.description;
  const protocol = corpusProtocol(d, r.corpora) ?? (d.kind === 'stratified'
    ? `random stratified clip split (seed ${d.seed}); speakers can appear in both training and validation, which flatters accuracy`
    : `${d.kind === 'speaker-kfold' ? `speaker k-fold, fold ${d.fold} of ${d.folds}` : 'speaker-independent split'} (seed ${d.seed}), validation speakers: ${d.valSpeakers?.join(', ')}`);
  const a = r.augment;
  const augmentation = a
    ? `${r.augmentedSources.length} augmented copies (${describeAugmentConfig(a)})${r.training.augmentSwap ? `, each epoch standing in for their clips with probability ${r.training.augmentSwap}` : ', added to every epoch'}; validation clips are never augmented, and the scaler is fitted on the original training clips only`
    : 'none';
  const w = r.windows;
  const windows = w
    ? `random ${w.frames}-frame window of each clip's features every epoch; validation averages the probabilities of ${w.evalWindows} evenly spaced windows per clip`
    : 'none (the first frames of each clip)';
  const m = r.masks;
  const masks = m
    ? `every training example, each epoch: up to ${m.time[0]} bands of up to ${m.time[1]} frames and up to ${m.rows[0]} bands of up to ${m.rows[1]} feature rows set to the mean (validation never masked)`
    : 'none';
  const schedule = trainingSentence(r.training);
  const json = {
    protocol: d,
    classes: r.classes,
    accuracy: r.report.accuracy,
    uar: r.report.uar,
    macroF1: r.report.macroF1,
    perClass: r.report.perClass,
    confusion: r.report.confusion,
    confusionRowPercent: r.report.confusionRowPercent,
    largestConfusions: topConfusions(r.report, 5),
    ...(r.corpora ? { corpora: r.corpora, perCorpus: perCorpusJson(r.perCorpus ?? []) } : {}),
    epochs: r.state.history,
    bestEpoch: r.state.bestEpoch,
    trainExamples: r.split.train.length,
    augmentedExamples: r.augmentedSources.length,
    augment: r.augment,
    windows: r.windows,
    masks: r.masks,
    speakerNorm: r.speakerNorm,
    training: r.training,
    valExamples: r.split.val.length,
    skippedFiles: r.skipped,
    seconds: r.seconds,
    epochsSeconds: epochsSeconds(r.state.history),
  };
  const epochs = r.state.history
    .map((h) => `| ${h.epoch} | ${h.trainLoss.toFixed(4)} | ${(100 * h.trainAccuracy).toFixed(1)} | ${h.valLoss?.toFixed(4) ?? '-'} | ${h.valAccuracy === null ? '-' : (100 * h.valAccuracy).toFixed(1)} | ${h.valUar == null ? '-' : (100 * h.valUar).toFixed(1)} | ${h.lr.toExponential(1)} | ${h.samplesPerSecond.toFixed(1)} |`)
    .join('\n');
  const md = `# Training report

- Protocol: ${protocol}${r.corpora ? `\n- Corpora: ${corporaLine(r.corpora)}` : ''}
- Examples: ${r.split.train.length} train, ${r.split.val.length} validation; ${r.skipped.length} files skipped
- Augmentation: ${augmentation}
- Windows: ${windows}
- Feature masks: ${masks}
- Speaker normalisation: ${r.speakerNorm ? "each clip's feature rows standardised with the statistics of all its speaker's clips (validation speakers with their own; labels unused), then the scaler" : 'none (one scaler for every speaker)'}
- Schedule: ${schedule}
- Best epoch: ${r.state.bestEpoch} of ${r.state.history.length} (weights restored from it)
- Time: ${epochsSeconds(r.state.history).toFixed(0)} s in the ${r.state.history.length} epochs (over every call, if the run was resumed); ${r.seconds.toFixed(0)} s in the call that finished it

## Validation metrics (best weights)

\`\`\`
${formatReport(r.report, { topK: 5 })}
\`\`\`

![confusion matrix](confusion.svg)
${r.perCorpus?.length ? `\n${perCorpusMarkdown(r.perCorpus)}` : ''}
## Epochs

| epoch | train loss | train acc % | val loss | val acc % | val UAR % | lr | samples/s |
|---|---|---|---|---|---|---|---|
${epochs}

![curves](curves.svg)
${r.skipped.length ? `\n## Skipped files\n\n${r.skipped.map((s) => `- ${s.name}: ${s.reason}`).join('\n')}\n` : ''}`;
  await writeFile(join(r.out, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(r.out, 'report.md'), md);
  await writeFile(join(r.out, 'confusion.svg'), await confusionSvg(r.report, r.classes, `validation confusion (accuracy ${(100 * r.report.accuracy).toFixed(1)}%)`));
  await writeFile(join(r.out, 'curves.svg'), await curvesSvg(r.state.history));
}
