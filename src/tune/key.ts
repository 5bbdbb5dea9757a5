// The tuning cache's key for an adapter: what makes one adapter's measurements invalid for another —
// vendor, architecture, device and description (Dawn's description carries the driver, e.g. "llvmpipe:
// Mesa 25.0.7 (LLVM 15.0.6)"), the limits the tuned kernels depend on, the features and options that
// change which code runs (subgroup sizes, image textures), and the registry's version, bumped when old
// entries must all be measured again (a family gaining candidates needs no bump: the tuner measures
// again each entry that lacks one of the current candidates). Browser-safe.

import type { Gpu } from '../gpu';

/** Bump when a variant's meaning or the cases' shapes change (not when candidates are only added). */
export const TUNER_VERSION = 1;

const KEY_LIMITS = ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize', 'maxTextureDimension2D'] as const;

/** One line naming the adapter, its driver, the relevant limits and features, and the tuner version. */
export function adapterKey(gpu: Gpu): string {
  const a = gpu.adapter;
  const sg = gpu.subgroups ? `${gpu.subgroups.minSize}-${gpu.subgroups.maxSize}` : 'none';
  const limits = KEY_LIMITS.map((k) => gpu.limits[k]).join(',');
  const textures = gpu.options.imageTextures === false ? 'off' : 'on';
  return [a.vendor, a.architecture, a.device, a.description, `limits=${limits}`, `subgroups=${sg}`, `textures=${textures}`, `v${TUNER_VERSION}`].join(' | ');
}
