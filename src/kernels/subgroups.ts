// Sharing workgroup-uniform loads through a subgroup. lavapipe (llvmpipe) turns a storage load whose
// address is the same for every lane into one scalar load only outside loops and branches; inside a
// loop it loads per lane, a bounds-checked scalar load per lane and component (bench/RESULTS.md). A
// GEMM whose lanes share rows of one operand then spends most of its time reloading them. With the
// `subgroups` feature, lane k of each subgroup loads row k (one load per lane, all of them useful) and
// the others take it with subgroupBroadcast(x, k) — on llvmpipe a register shuffle.
//
// Limits: the lanes reading row k must find lane k in their own subgroup and active, so every subgroup
// must be full and hold at least `rows` lanes: subgroupMinSize >= rows and the workgroup size a
// multiple of subgroupMaxSize (subgroup sizes are powers of two). Kernels check canShareRows and keep
// their plain path for every other case (no feature, small workgroups, `subgroups: false`, or the
// tuner measured the plain path faster on this adapter: family SUBGROUPS_FAMILY chose 'off').

import type { Gpu } from '../gpu';
import { chosenVariant } from '../gpu/choices';

/** Tuner family (src/tune/) switching the subgroup-shared loads of every kernel: 'on' (default) or 'off'. */
export const SUBGROUPS_FAMILY = 'subgroups';
export const SUBGROUPS_SHAPE = 'all';

/** Whether a workgroup of `lanes` invocations can share `rows` rows by subgroup broadcast. */
export function canShareRows(gpu: Gpu, lanes: number, rows: number): boolean {
  const sg = gpu.subgroups;
  return sg !== null && sg.minSize >= rows && lanes % sg.maxSize === 0 && chosenVariant(gpu, SUBGROUPS_FAMILY, SUBGROUPS_SHAPE) !== 'off';
}
