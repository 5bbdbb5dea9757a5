// Shape values read at run time instead of baked into the WGSL. A kernel that bakes the batch size
// (or a row count, a tile count) into its source compiles one pipeline per value: on lavapipe each
// distinct pipeline costs ~0.3-0.5 s of LLVM at its first dispatch, so the last partial batch of an
// epoch, validation's batches and every test shape each paid for a full set. Kernels instead declare
// `var<uniform> shape: Shape` with u32 fields (shapeDecl) and bind shapeParams(gpu, values): one small
// uniform buffer per distinct set of values and device, written once at creation (mappedAtCreation, so
// it needs no queue write and no flush in the middle of a recording) and kept until the device goes.
// A run uses a few dozen distinct sets (one per layer shape and batch size), a test file a few hundred
// at most, 16-32 bytes each. The pipeline key must not include the values; it includes the field
// names through the kernel's own key (the source is the same for any values).

import { type Gpu } from '../gpu';
import { BufferUsage } from '../gpu/usage';

const buffers = new WeakMap<Gpu, Map<string, GPUBuffer>>();

/** WGSL of the `Shape` struct (u32 fields, in order) and its uniform binding `shape` at @binding(binding). */
export function shapeDecl(fields: readonly string[], binding: number): string {
  return `struct Shape { ${fields.map((f) => `${f}: u32`).join(', ')} }
@group(0) @binding(${binding}) var<uniform> shape: Shape;`;
}

/** The uniform buffer holding `values` (u32, in the order of shapeDecl's fields), shared by every kernel. */
export function shapeParams(gpu: Gpu, values: readonly number[]): GPUBuffer {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`shapeParams: ${v} is not a u32 (values ${values.join(', ')})`);
  }
  let byValues = buffers.get(gpu);
  if (!byValues) buffers.set(gpu, (byValues = new Map()));
  const id = values.join(',');
  let buf = byValues.get(id);
  if (!buf) {
    // Uniform bindings are sized in 16-byte steps (a struct of n u32 rounds up to a multiple of 16).
    const size = Math.max(16, Math.ceil(values.length / 4) * 16);
    buf = gpu.device.createBuffer({ size, usage: BufferUsage.UNIFORM, mappedAtCreation: true, label: `shape ${id}` });
    new Uint32Array(buf.getMappedRange()).set(values);
    buf.unmap();
    byValues.set(id, buf);
  }
  return buf;
}
