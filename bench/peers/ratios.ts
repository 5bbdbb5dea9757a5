// Ratios ours/peer from one run: each peer case names (compareTo) our case doing the same work, and the
// ratio is the peer's time per item over ours (> 1: ours is faster), so both come from the same process,
// adapter and machine load. Peers whose case failed or whose partner was not measured say why.

import type { BenchCase, BenchResult } from '../harness';

export interface PeerRatio {
  peer: string;
  peerCase: string;
  oursCase: string;
  peerMs?: number;
  oursMs?: number;
  /** Peer time per item / our time per item: how many times faster ours is. */
  speedup?: number;
  note?: string;
}

const key = (c: { group: string; name: string }) => `${c.group}/${c.name}`;

/** Time per item (per run when the case states no items). */
function perItem(c: BenchCase, r: BenchResult): number {
  return c.items && c.items.count > 0 ? r.medianMs / c.items.count : r.medianMs;
}

export function peerRatios(cases: BenchCase[], results: BenchResult[], failures: Map<string, string> = new Map()): PeerRatio[] {
  const byKey = new Map(results.map((r) => [key(r), r]));
  const caseByKey = new Map(cases.map((c) => [key(c), c]));
  const out: PeerRatio[] = [];
  for (const c of cases) {
    if (!c.peer || !c.compareTo) continue;
    const k = key(c);
    const row: PeerRatio = { peer: c.peer, peerCase: k, oursCase: c.compareTo };
    const pr = byKey.get(k);
    const or = byKey.get(c.compareTo);
    const oc = caseByKey.get(c.compareTo);
    if (pr) row.peerMs = pr.medianMs;
    if (or) row.oursMs = or.medianMs;
    if (!pr) row.note = `peer not measured: ${failures.get(k) ?? 'not selected'}`;
    else if (!or || !oc) row.note = `ours not measured: ${failures.get(c.compareTo) ?? 'not selected'}`;
    else if (c.items && oc.items && c.items.unit !== oc.items.unit) row.note = `units differ (${c.items.unit} vs ${oc.items.unit})`;
    else row.speedup = perItem(c, pr) / perItem(oc, or);
    out.push(row);
  }
  return out;
}

export function ratioTable(ratios: PeerRatio[]): string {
  const f = (v: number | undefined, d = 1) => (v === undefined ? '' : v.toFixed(d));
  return [
    '| peer | peer case | our case | peer ms | our ms | ours/peer speed |',
    '|---|---|---|---|---|---|',
    ...ratios.map((r) => `| ${r.peer} | ${r.peerCase} | ${r.oursCase} | ${f(r.peerMs)} | ${f(r.oursMs)} | ${r.speedup === undefined ? (r.note ?? '') : `${r.speedup.toFixed(2)}x`} |`),
  ].join('\n');
}
