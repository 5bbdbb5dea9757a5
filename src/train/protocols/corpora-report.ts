// The per-corpus parts of the reports of a several-corpora run (corpora.ts): report.md / report.json
// of one run, and the per-corpus tables of folds.md and seeds.md. Browser-safe text and numbers.

import type { CorpusRecord, CorpusReport } from '../scores/corpora';
import { EMOTIONS } from '../data/labels';
import { spread, type Spread } from './folds';
import { formatReport, reportFromConfusion, type ClassificationReport } from '../scores/metrics';
import type { SplitDescription } from '../data/splits';

const pct = (x: number): string => (100 * x).toFixed(1);

/** The protocol line of a corpus split, or of a k-fold split of one corpus (undefined for others). */
export function corpusProtocol(d: SplitDescription, corpora: readonly CorpusRecord[] | undefined): string | undefined {
  if (d.kind === 'corpus') {
    const train = (corpora ?? []).filter((c) => c.name !== d.valCorpus).map((c) => c.name);
    const shared = corpora?.find((c) => c.name === d.valCorpus)?.classes ?? [];
    const left = d.omitted && d.omitted.clips > 0 ? `; ${d.omitted.clips} of its clips, of classes the training corpora lack (${d.omitted.classes.join(', ')}), are left out of scoring` : '';
    return `cross-corpus: trained on ${train.join(', ')}, validated on corpus ${d.valCorpus} over the classes both sides share (${shared.join(', ')})${left}`;
  }
  if (d.kind === 'speaker-kfold' && corpora && corpora.length > 1) {
    return d.foldCorpus !== undefined
      ? `speaker k-fold of corpus ${d.foldCorpus} only, fold ${d.fold} of ${d.folds} (seed ${d.seed}; ${corpora.filter((c) => c.name !== d.foldCorpus).map((c) => c.name).join(', ')} always in training), validation speakers: ${d.valSpeakers?.join(', ')}`
      : `speaker k-fold of every corpus, fold ${d.fold} of ${d.folds} (seed ${d.seed}; 1/${d.folds} of each corpus's speakers held out), validation speakers: ${d.valSpeakers?.join(', ')}`;
  }
  return undefined;
}

/** The corpora line of report.md: each corpus's folder, clips, speakers and classes. */
export function corporaLine(corpora: readonly CorpusRecord[]): string {
  return corpora.map((c) => `${c.name} (${c.data}: ${c.clips} clips, ${c.speakers} speakers, ${c.classes.join(' ')})`).join('; ');
}

/** report.md's per-corpus section: each corpus scored over its own classes. */
export function perCorpusMarkdown(perCorpus: readonly CorpusReport[]): string {
  const rows = perCorpus.map((c) => `| ${c.name} | ${c.report.total} | ${c.classes.length} | ${pct(c.report.accuracy)} | ${pct(c.report.uar)} | ${pct(c.report.macroF1)} |`);
  const details = perCorpus.map((c) => `### ${c.name} (over ${c.classes.join(', ')})\n\n\`\`\`\n${formatReport(c.report, { topK: 3 })}\n\`\`\``);
  return `## Per corpus (each corpus's clips scored over its own classes)

| corpus | clips | classes | accuracy % | UAR % | macro F1 % |
|---|---|---|---|---|---|
${rows.join('\n')}

${details.join('\n\n')}
`;
}

/** report.json's per-corpus entries. */
export function perCorpusJson(perCorpus: readonly CorpusReport[]) {
  return perCorpus.map((c) => ({ name: c.name, classes: c.classes, n: c.report.total, accuracy: c.report.accuracy, uar: c.report.uar, macroF1: c.report.macroF1, perClass: c.report.perClass, confusion: c.report.confusion }));
}

/** One corpus summarised over several runs (folds or seeds). */
export interface CorpusSpreads {
  name: string;
  classes: string[];
  runs: number;
  accuracy: Spread;
  uar: Spread;
  macroF1: Spread;
  /** Mean recall of each class over the runs whose validation side has it. */
  perClassRecall: { name: string; mean: number; runs: number }[];
  /** Pooled over the runs (for folds: every clip of the corpus validated once). */
  pooled: { n: number; accuracy: number; uar: number; macroF1: number; confusion: number[][] };
}

/** What a summary reads back of one run's per-corpus entry (report.json perCorpus). */
export interface CorpusEntry { name: string; classes: string[]; confusion: number[][] }

/** A run's per-corpus entries: from its result (perCorpus) or its report.json (perCorpus), or none. */
export function corpusEntries(perCorpus: readonly (CorpusReport | CorpusEntry)[] | undefined): CorpusEntry[] {
  return (perCorpus ?? []).map((c) => ({ name: c.name, classes: [...c.classes], confusion: 'report' in c ? c.report.confusion : c.confusion }));
}

/** Per-corpus spreads over runs, each run giving its per-corpus entries (a corpus may be missing from some). */
export function summariseCorpora(runs: readonly (readonly CorpusEntry[])[]): CorpusSpreads[] {
  const names = [...new Set(runs.flatMap((r) => r.map((c) => c.name)))];
  return names.map((name) => {
    const entries = runs.flatMap((r) => r.filter((c) => c.name === name));
    const classes = entries[0]!.classes;
    if (entries.some((e) => e.classes.join() !== classes.join())) throw new RangeError(`corpus ${name} is scored over different classes in different runs`);
    const reports: ClassificationReport[] = entries.map((e) => reportFromConfusion(e.confusion, classes));
    const summed = classes.map((_, t) => classes.map((__, p) => entries.reduce((a, e) => a + e.confusion[t]![p]!, 0)));
    const pooled = reportFromConfusion(summed, classes);
    return {
      name, classes: [...classes], runs: entries.length,
      accuracy: spread(reports.map((r) => r.accuracy)), uar: spread(reports.map((r) => r.uar)), macroF1: spread(reports.map((r) => r.macroF1)),
      perClassRecall: classes.map((k, c) => {
        const rs = reports.filter((r) => r.perClass[c]!.support > 0).map((r) => r.perClass[c]!.recall);
        return { name: k, mean: rs.length ? spread(rs).mean : 0, runs: rs.length };
      }),
      pooled: { n: pooled.total, accuracy: pooled.accuracy, uar: pooled.uar, macroF1: pooled.macroF1, confusion: summed },
    };
  });
}

/** The per-corpus section of folds.md / seeds.md (`what`: 'folds' or 'seeds'). */
export function corporaSummaryMarkdown(s: readonly CorpusSpreads[], what: string): string {
  const sp = (x: Spread) => `${pct(x.mean)} ± ${pct(x.std)}`;
  // Columns in the vocabulary's order (labels.ts), whichever corpus names a class first.
  const rank = (k: string) => { const i = (EMOTIONS as readonly string[]).indexOf(k); return i < 0 ? EMOTIONS.length : i; };
  const classes = [...new Set(s.flatMap((c) => c.classes))].sort((a, b) => rank(a) - rank(b));
  return `## Per corpus (mean ± sample std over ${what}; each corpus scored over its own classes)

| corpus | ${what} | accuracy % | UAR % | macro F1 % | pooled clips | pooled accuracy % | pooled UAR % |
|---|---|---|---|---|---|---|---|
${s.map((c) => `| ${c.name} | ${c.runs} | ${sp(c.accuracy)} | ${sp(c.uar)} | ${sp(c.macroF1)} | ${c.pooled.n} | ${pct(c.pooled.accuracy)} | ${pct(c.pooled.uar)} |`).join('\n')}

Mean recall per class and corpus (%; - where the corpus lacks the class):

| corpus | ${classes.join(' | ')} |
|---|${classes.map(() => '---|').join('')}
${s.map((c) => `| ${c.name} | ${classes.map((k) => { const r = c.perClassRecall.find((x) => x.name === k); return r ? pct(r.mean) : '-'; }).join(' | ')} |`).join('\n')}
`;
}
