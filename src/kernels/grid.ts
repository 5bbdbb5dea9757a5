// Dispatch grids of 1-D kernels: workgroup counts past WebGPU's per-dimension limit (65535) fold onto
// a second grid dimension; a kernel rebuilds its index as gid.x + gid.z * (gx * workgroup size).

const MAX_GROUPS = 65535;

/** A grid for `groups` workgroups along y, folded onto z past the per-dimension limit. */
export function foldGrid(groups: number): [number, number] {
  return groups <= MAX_GROUPS ? [groups, 1] : [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS)];
}
