// What the tuner keeps per adapter, and where: a JSON document with one record per adapter key
// (key.ts), each with one entry per kernel family and shape. Node keeps it in a file (store.node.ts),
// browsers in localStorage (localStore below). Unreadable or foreign documents read as empty, so a
// broken cache costs a re-measurement, never a failure. Browser-safe.

import type { AdapterSummary } from '../gpu';

/** The batch size the model-shaped cases are timed at unless told otherwise (`ser tune --batch`). */
export const DEFAULT_BATCH = 32;

export interface CandidateTime {
  variant: string;
  /** Median time of one run, ms (NaN when the candidate failed). */
  medianMs: number;
  /** Fastest sample, ms (load only adds time). */
  minMs?: number;
  samples: number;
  /**
   * Why the correctness gate (gate.ts) rejected the candidate on this adapter (then medianMs is NaN and
   * it is never chosen); absent when it passed or was measured before the gate existed.
   */
  rejected?: string;
  /** Largest relative L2 error of its outputs against the default's on this adapter (the gate's measure). */
  relL2?: number;
}

export interface TuneEntry {
  family: string;
  shape: string;
  /** What the samples measured: wall time, or process CPU time (software adapters on node). */
  clock?: 'wall' | 'cpu';
  candidates: CandidateTime[];
  default: string;
  chosen: string;
}

export interface AdapterRecord {
  key: string;
  adapter: AdapterSummary;
  /** Batch the model-shaped cases were timed at. */
  batch: number;
  updated: string;
  entries: TuneEntry[];
}

export interface TuneDocument {
  format: 'ser-webgpu-tuning';
  version: 1;
  adapters: Record<string, AdapterRecord>;
}

export interface TuneStore {
  /** Where the document lives, for messages. */
  readonly where: string;
  load(): TuneDocument;
  save(doc: TuneDocument): void;
}

export const emptyDocument = (): TuneDocument => ({ format: 'ser-webgpu-tuning', version: 1, adapters: {} });

/** Parse a stored document; anything malformed gives an empty one. */
export function parseDocument(text: string | null | undefined): TuneDocument {
  if (!text) return emptyDocument();
  try {
    const doc = JSON.parse(text) as Partial<TuneDocument>;
    if (doc.format !== 'ser-webgpu-tuning' || doc.version !== 1 || typeof doc.adapters !== 'object' || doc.adapters === null) return emptyDocument();
    return doc as TuneDocument;
  } catch {
    return emptyDocument();
  }
}

/** A store in a Web Storage area (localStorage in browsers) under `name`. */
export function localStore(storage: Pick<Storage, 'getItem' | 'setItem'>, name = 'ser-webgpu.tuning'): TuneStore {
  return {
    where: `localStorage['${name}']`,
    load: () => parseDocument(storage.getItem(name)),
    save: (doc) => storage.setItem(name, JSON.stringify(doc)),
  };
}
