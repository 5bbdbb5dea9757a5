// `ser tune`: measure the kernel variants on this adapter (src/tune/) at the model's shapes, save them
// in the cache and print the table (or --json). Also the global `--no-tune` flag and the hook that
// makes the commands that train or infer use this adapter's cached choices ('cached': what `ser tune`
// measured, else the built-in kernels; nothing is measured implicitly, so a first run never waits for
// the tuner); SER_TUNE=off|cached|auto overrides either way (auto: measure what the cache lacks first).

import type { Command } from 'commander';
import { setDefaultTuneMode } from '../tune/mode.node.ts';
import { DEFAULT_BATCH, type CandidateTime, type TuneEntry } from '../tune/store';
import { positiveInt, positiveNumber } from './options';

/** Commands whose kernels follow the tuner's choices by default. */
const TUNED_COMMANDS = new Set(['train', 'evaluate', 'predict']);

const fmtMs = (c: CandidateTime): string => (c.rejected !== undefined ? 'rejected' : Number.isFinite(c.medianMs) ? c.medianMs.toFixed(2) : 'failed');

/**
 * The table `ser tune` prints: one row per family and shape, each candidate's median (or "rejected" by
 * the correctness gate) and the choice; then one line per rejected candidate with the reason.
 */
export function tuneTable(entries: readonly TuneEntry[]): string {
  const rows = entries.map((e) => [e.family, e.shape, e.candidates.map((c) => `${c.variant} ${fmtMs(c)}`).join(' | '), e.chosen + (e.chosen === e.default ? '' : ' *')]);
  const head = ['family', 'shape', 'median ms per candidate', 'chosen'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const rejected = entries.flatMap((e) => e.candidates.filter((c) => c.rejected !== undefined).map((c) => `rejected: ${e.family} ${e.shape} ${c.variant}: ${c.rejected}`));
  const note = rejected.length ? "; rejected = its outputs did not match the default's on this adapter, never chosen" : '';
  return [line(head), ...rows.map(line), `(* = not the built-in default${note})`, ...rejected].join('\n');
}

export function registerTune(program: Command): void {
  program.option('--no-tune', 'use the built-in kernel variants, without measuring or reading the tuning cache (also SER_TUNE=off)');
  program.hook('preAction', (root, action) => {
    if (root.opts().tune === false) {
      setDefaultTuneMode('off');
      process.env.SER_TUNE = 'off'; // --no-tune wins over the environment
    } else if (TUNED_COMMANDS.has(action.name())) {
      setDefaultTuneMode('cached');
    }
  });
  program
    .command('tune')
    .description("time each kernel family's variants at the model's shapes on this adapter, cache the fastest (reused by train, evaluate and predict) and print the table")
    .option('--batch <n>', 'batch the model-shaped cases are timed at', positiveInt, DEFAULT_BATCH)
    .option('--budget <seconds>', 'stop starting new cases after this long', positiveNumber, 600)
    .option('--samples <n>', 'timed samples per candidate', positiveInt, 5)
    .option('--filter <regex>', 'only cases whose "family shape" matches (e.g. matmul, conv2d.forward)')
    .option('--missing', 'measure only the cases the cache lacks')
    .option('--json', 'print {adapter, key, batch, cache, entries: [{family, shape, candidates: [{variant, medianMs, samples, relL2, rejected?}], default, chosen}]}')
    .action(async (f: { batch: number; budget: number; samples: number; filter?: string; missing?: boolean; json?: boolean }) => {
      let filter: RegExp | undefined;
      try {
        filter = f.filter ? new RegExp(f.filter, 'i') : undefined;
      } catch (e) {
        throw new Error(`--filter ${JSON.stringify(f.filter)} is not a valid regular expression: ${e instanceof Error ? e.message : e}`);
      }
      const [{ createNodeGpu }, { fileStore }, { clockFor }, { applyRecord, tuneAdapter }] = await Promise.all([
        import('../gpu/node.node.ts'), import('../tune/store.node.ts'), import('../tune/node.node.ts'), import('../tune/tuner'),
      ]); // loaded only now: `ser` starts without the kernels
      const gpu = await createNodeGpu();
      try {
        const store = fileStore();
        const log = (l: string) => process.stderr.write(`${l}\n`);
        const record = await tuneAdapter(gpu, store, { batch: f.batch, budgetMs: f.budget * 1000, samples: f.samples, filter, missingOnly: f.missing, clock: clockFor(gpu), log });
        applyRecord(gpu, record);
        const shown = filter ? record.entries.filter((e) => filter.test(`${e.family} ${e.shape}`)) : record.entries;
        if (f.json) {
          console.log(JSON.stringify({ adapter: gpu.adapter, key: record.key, batch: record.batch, cache: store.where, entries: shown }, null, 2));
          return;
        }
        const a = gpu.adapter;
        console.log(`adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' | ')}`);
        console.log(`cache:   ${store.where} (batch ${record.batch}; ${clockFor(gpu).name} time per run)`);
        console.log(tuneTable(shown));
      } finally {
        gpu.destroy();
      }
    });
}
