// The tuner: times every case of the registry (registry.ts) with each candidate variant on this
// adapter, picks one per case (choose.ts), keeps the results per adapter (store.ts, key.ts) and installs
// the choices in the runtime's table (src/gpu/choices.ts), which the kernels consult when they build
// their dispatch. Correctness gate (gate.ts): the first run of each candidate, the default's first, has
// its outputs NaN-poisoned and read back; a candidate whose outputs are not finite or differ from the
// default's beyond GATE_TOLERANCE is recorded as rejected (with the reason) and neither timed nor
// chosen, so only variants that agree with the default on the adapter at hand can be chosen. Timing:
// that first run also compiles the candidate's pipelines and is not counted; a second sets how many runs
// one sample records (at least MIN_SAMPLE_MS of work, so that submit and sync overhead do not decide
// small kernels); then samples alternate between candidates (a machine whose load drifts treats them
// alike) and the median per candidate is kept. A candidate that fails (a GPU error) is left out. The
// budget is checked between cases: cases not reached keep the kernels' defaults and are measured on the
// next use; a case whose candidates are still compiling when the budget runs out is dropped, so a run
// overshoots its budget by at most one candidate's check and two runs. A stored entry counts as measured
// only if it has every current candidate (so a family that gains candidates is measured again on first
// use). Progress goes to `log` (stderr on node). Browser-safe.

import type { Gpu } from '../gpu';
import { choiceKey, setChoices } from '../gpu/choices';
import { chooseVariant, median } from './choose';
import { adapterKey } from './key';
import { checkOutputs, fmtErr, referenceProblem } from './gate';
import { type CaseWork, FAMILY_VARIANTS, type TuneCase, runVariant, tuneCases } from './registry';
import { DEFAULT_BATCH, type AdapterRecord, type CandidateTime, type TuneEntry, type TuneStore } from './store';

export type TuneMode = 'off' | 'cached' | 'auto';

const MIN_SAMPLE_MS = 5;
const MAX_REPS = 50;
const MIN_SAMPLES = 3;

export interface TuneOptions {
  /** Batch of the model-shaped cases (default 32, the training batch). */
  batch?: number;
  /** Stop starting new cases after this long (ms; default no limit). */
  budgetMs?: number;
  /** Samples per candidate (default 5; fewer once the budget is spent, never under 3). */
  samples?: number;
  /** Only cases whose "family shape" matches. */
  filter?: RegExp;
  /** Measure only cases the store has no entry for (first use); default: every case. */
  missingOnly?: boolean;
  log?: (line: string) => void;
  /**
   * What a sample measures, in ms: wall time by default; node passes the process CPU time on software
   * adapters (lavapipe's threads run in-process, so CPU time is the work itself however loaded the machine).
   */
  clock?: Clock;
}

export interface Clock {
  name: 'wall' | 'cpu';
  now: () => number;
}

const now = (): number => performance.now();
export const WALL_CLOCK: Clock = { name: 'wall', now };

async function timed(gpu: Gpu, clock: Clock, fn: () => void, reps = 1): Promise<number> {
  const t0 = clock.now();
  for (let i = 0; i < reps; i++) fn();
  await gpu.sync();
  return (clock.now() - t0) / reps;
}

/** The gate's verdict on one candidate (gate.ts): its error against the default, or why it was rejected. */
type Gate = { relL2?: number; rejected?: string };

/** One poisoned run of `v` (its outputs start as NaN), read back: what the gate compares. Also compiles its pipelines. */
async function checkRun(gpu: Gpu, c: TuneCase, work: CaseWork, v: string): Promise<Float32Array[]> {
  const outs = gpu.poisoned(() => runVariant(gpu, c, work.run, v));
  try {
    return (await gpu.readMany(outs)) as Float32Array[];
  } finally {
    outs.forEach((t) => t.dispose());
  }
}

/**
 * Check, then time, every candidate of one case; the entry with the chosen variant, or null when the
 * deadline passed before every candidate was compiled (the case is then left for a later run). The
 * default runs first and its outputs are the reference; a candidate whose outputs differ (gate.ts) is
 * recorded as rejected and never timed or chosen. With no usable reference (the default failed or
 * gave non-finite values) no other candidate can be verified, so all are rejected and the default stays.
 */
export async function measureCase(gpu: Gpu, c: TuneCase, samples: number, deadline: number, clock: Clock = WALL_CLOCK): Promise<TuneEntry | null> {
  const work = c.setup(gpu);
  const times = new Map<string, number[]>();
  const reps = new Map<string, number>();
  const gates = new Map<string, Gate>();
  const def = c.variants[0]!;
  let reference: Float32Array[] | null = null;
  let noReference = '';
  try {
    for (const v of c.variants) {
      if (now() > deadline) return null;
      if (v !== def && !reference) {
        gates.set(v, { rejected: `not verified: ${noReference}` });
        continue;
      }
      const run = () => runVariant(gpu, c, work.run, v).forEach((t) => t.dispose());
      try {
        const outputs = await checkRun(gpu, c, work, v);
        if (v === def) {
          const problem = referenceProblem(outputs);
          if (problem) {
            noReference = `the default's ${problem}`;
            gates.set(v, { rejected: problem });
            continue;
          }
          reference = outputs;
          gates.set(v, { relL2: 0 });
        } else {
          const verdict = checkOutputs(outputs, reference!);
          gates.set(v, verdict.ok ? { relL2: verdict.relL2 } : { rejected: verdict.reason, relL2: verdict.relL2 });
          if (!verdict.ok) continue;
        }
        const once = await timed(gpu, clock, run);
        reps.set(v, Math.min(MAX_REPS, Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(once, 1e-3)))));
        times.set(v, []);
      } catch (e) {
        // A candidate the device rejects is left out (NaN); without the default nothing can be verified.
        if (v === def) noReference = 'the default failed on this device';
        gates.set(v, { rejected: `failed: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}` });
      }
    }
    for (let s = 0; s < samples && (s < MIN_SAMPLES || now() < deadline); s++) {
      for (const [v, list] of times) list.push(await timed(gpu, clock, () => runVariant(gpu, c, work.run, v).forEach((t) => t.dispose()), reps.get(v)));
    }
  } finally {
    work.dispose();
  }
  const candidates: CandidateTime[] = c.variants.map((v) => {
    const t = times.get(v) ?? [];
    return { variant: v, medianMs: median(t), minMs: t.length ? Math.min(...t) : NaN, samples: t.length, ...gates.get(v) };
  });
  const medians = Object.fromEntries(candidates.map((t) => [t.variant, t.medianMs]));
  // Every other candidate is rejected when the default is (no reference), so the default then stays.
  return { family: c.family, shape: c.shape, clock: clock.name, candidates, default: def, chosen: chooseVariant(medians, def) };
}

const entryId = (e: { family: string; shape: string }): string => choiceKey(e.family, e.shape);

/** One candidate's result in words: "12.10 ms", "rejected (rel L2 6.6e-1 vs default ...)" or "failed". */
export function describeCandidate(t: CandidateTime): string {
  if (t.rejected !== undefined) return `rejected (${t.rejected})`;
  return Number.isFinite(t.medianMs) ? `${t.medianMs.toFixed(2)} ms` : 'failed';
}

/** One line per entry, e.g. "conv2d.forward 41x32x32->64 ...: winograd4 12.1 ms, direct 40.2 ms (err 3.1e-7) -> winograd4". */
export function describeEntry(e: TuneEntry): string {
  const ms = e.candidates.map((t) => `${t.variant} ${describeCandidate(t)}${t.rejected === undefined && t.relL2 ? ` (err ${fmtErr(t.relL2)})` : ''}`).join(', ');
  return `${e.family} ${e.shape}: ${ms} -> ${e.chosen}`;
}

/** The cases a record holds an entry for at this batch with every current candidate in it. */
function measuredIds(record: AdapterRecord | undefined, batch: number, cases: readonly TuneCase[]): Set<string> {
  const entries = new Map((record && record.batch === batch ? record.entries : []).map((e) => [entryId(e), e]));
  const complete = (c: TuneCase) => {
    const e = entries.get(entryId(c));
    return !!e && c.variants.every((v) => e.candidates.some((t) => t.variant === v));
  };
  return new Set(cases.filter(complete).map(entryId));
}

/**
 * Measure this adapter's cases (all, or those missing from the store) and save after each one, so an
 * interrupted run keeps what it measured. Returns the adapter's record.
 */
export async function tuneAdapter(gpu: Gpu, store: TuneStore, opts: TuneOptions = {}): Promise<AdapterRecord> {
  const batch = opts.batch ?? DEFAULT_BATCH;
  const log = opts.log ?? (() => {});
  const key = adapterKey(gpu);
  const deadline = now() + (opts.budgetMs ?? Infinity);
  const existing = store.load().adapters[key];
  const all = tuneCases(gpu, batch);
  const have = measuredIds(existing, batch, all);
  const cases = all.filter((c) => (!opts.filter || opts.filter.test(`${c.family} ${c.shape}`)) && !(opts.missingOnly && have.has(entryId(c))));
  let record: AdapterRecord = existing && existing.batch === batch ? existing : { key, adapter: gpu.adapter, batch, updated: '', entries: [] };
  for (const [i, c] of cases.entries()) {
    if (now() > deadline) {
      log(`tune: time budget spent; ${cases.length - i} case(s) keep the built-in defaults until the next run (\`ser tune\` measures all)`);
      break;
    }
    const entry = await measureCase(gpu, c, opts.samples ?? 5, deadline, opts.clock);
    if (!entry) {
      log(`tune: time budget spent while compiling ${c.family} ${c.shape}; ${cases.length - i} case(s) keep the built-in defaults until the next run`);
      break;
    }
    log(`tune: [${i + 1}/${cases.length}] ${describeEntry(entry)}`);
    const doc = store.load();
    const prev = doc.adapters[key];
    const base = prev && prev.batch === batch ? prev.entries : [];
    record = { key, adapter: gpu.adapter, batch, updated: new Date().toISOString(), entries: [...base.filter((e) => entryId(e) !== entryId(entry)), entry] };
    doc.adapters[key] = record;
    store.save(doc);
  }
  return record;
}

/** Install a record's choices on the runtime, keeping only variants their family lists; how many. */
export function applyRecord(gpu: Gpu, record: AdapterRecord | undefined): number {
  const table = new Map<string, string>();
  for (const e of record?.entries ?? []) {
    if (FAMILY_VARIANTS[e.family]?.includes(e.chosen)) table.set(entryId(e), e.chosen);
  }
  setChoices(gpu, table);
  return table.size;
}

/**
 * Tuning for a new runtime: 'off' leaves the built-in defaults; 'cached' installs this adapter's stored
 * choices; 'auto' first measures the cases the store lacks (within `budgetMs`), then installs.
 */
export async function useTuning(gpu: Gpu, mode: TuneMode, store: TuneStore, opts: TuneOptions = {}): Promise<number> {
  if (mode === 'off') return 0;
  const log = opts.log ?? (() => {});
  let record = store.load().adapters[adapterKey(gpu)];
  const batch = opts.batch ?? DEFAULT_BATCH;
  if (mode === 'auto') {
    const all = tuneCases(gpu, batch);
    const have = measuredIds(record, batch, all);
    const missing = all.filter((c) => !have.has(entryId(c)) && (!opts.filter || opts.filter.test(`${c.family} ${c.shape}`))).length;
    if (missing > 0) {
      log(`tune: measuring ${missing} kernel variant case(s) for this adapter once (${store.where}; SER_TUNE=off or --no-tune skips)`);
      record = await tuneAdapter(gpu, store, { ...opts, missingOnly: true });
    }
  }
  return applyRecord(gpu, record);
}
