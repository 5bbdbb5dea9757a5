// Inverted dropout with a counter-based RNG: y = x / (1 - rate) where kept, 0 elsewhere.
// The keep decision of element i is a pure function of (seed, step, i), so the backward pass
// recomputes the mask instead of storing it, and the float64 reference (test/ref/dropout.ts,
// dropoutKeep) reproduces it bit for bit. All arithmetic on u32, wrapping:
//   pcg(v)  = the PCG RXS-M-XS hash (Jarzynski and Olano, "Hash Functions for GPU Rendering", 2020)
//   hash    = pcg(pcg(pcg(seed') ^ step) ^ i),  seed' = seed + stream * 0x9E3779B9
//   keep_i  = hash >= floor(rate * 2^32)
// seed and step live on the GPU in a u32 [2] state tensor [step, seed]: advanceDropoutStep records
// step += 1 (after the backward pass of a training step), so a step needs no CPU write. `stream`
// separates the dropout layers of one model (stream 0 uses the seed as is).
// Layout: flat, any shape; one invocation per element on a grid1d grid. The element count, the
// threshold, the stream's seed offset and the scale (as float32 bits) are run-time values
// (shape-params.ts): one pipeline serves every dropout layer, rate and size (they were baked: five
// pipelines in the seed model). The first two hash stages depend only on the state and are recomputed
// per invocation (cheaper than another dispatch).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { incrementCounter } from './optim';
import { shapeDecl, shapeParams } from './shape-params';

export interface DropoutOptions {
  /** Fraction of elements dropped, in [0, 1). */
  rate: number;
  /** Distinguishes dropout layers that share one state (a small non-negative integer). */
  stream?: number;
}

const WG = 256;

/** The u32 [2] state [step, seed] that dropout kernels read. */
export function dropoutState(gpu: Gpu, seed: number): Tensor {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ShapeError(`dropoutState: seed must be a 32-bit unsigned integer, got ${seed}`);
  return gpu.upload([0, seed], [2], 'u32', 'dropout.state');
}

/** Record step += 1 on the GPU. */
export function advanceDropoutStep(gpu: Gpu, state: Tensor): void {
  checkState('advanceDropoutStep', state);
  incrementCounter(gpu, state);
}

/** The u32 hash threshold below which an element is dropped. */
export function dropThreshold(rate: number): number {
  return Math.floor(rate * 2 ** 32);
}

/** The effective seed of a stream: the hash of stream k uses seed + k * 0x9E3779B9 (mod 2^32). */
export function streamSeed(seed: number, stream: number): number {
  return (seed + Math.imul(stream, 0x9e3779b9)) >>> 0;
}

/** The bits of x rounded to float32, as a u32 (a float in the shape uniform, read back with bitcast<f32>). */
function f32Bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}

function checkState(op: string, state: Tensor): void {
  expectDtype(op, state, 'u32');
  if (state.size !== 2) throw new ShapeError(`${op}: state '${state.label}' ${fmtShape(state.shape)} must be the u32 [2] of dropoutState`);
}

function launch(gpu: Gpu, op: string, x: Tensor, state: Tensor, opts: DropoutOptions): Tensor {
  const { rate } = opts;
  const stream = opts.stream ?? 0;
  expectDtype(op, x, 'f32');
  checkState(op, state);
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ShapeError(`${op}: rate must lie in [0, 1), got ${rate}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new ShapeError(`${op}: stream must be a 32-bit unsigned integer, got ${stream}`);
  const n = x.size;
  const [gx, gy] = grid1d(n, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
  const threshold = dropThreshold(rate);
  const scale = 1 / (1 - rate);
  const y = gpu.empty(x.shape, 'f32', op);
  gpu.dispatch({
    name: op,
    key: 'dropout',
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${shapeDecl(['count', 'threshold', 'streamSeed', 'scaleBits'], 3)}
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = g.x + g.y * groups.x * ${WG}u;
  if (i >= shape.count) { return; }
  let key = pcg(pcg(state[1] + shape.streamSeed) ^ state[0]);
  let keep = pcg(key ^ i) >= shape.threshold;
  y[i] = select(0.0, x[i] * bitcast<f32>(shape.scaleBits), keep);
}`,
    bindings: [x, state, y, shapeParams(gpu, [n, threshold, streamSeed(0, stream), f32Bits(scale)])],
    workgroups: [gx, gy],
  });
  return y;
}

/** Training-mode dropout of x (inference is the identity: do not call this). */
export function dropout(gpu: Gpu, x: Tensor, state: Tensor, opts: DropoutOptions): Tensor {
  return launch(gpu, 'dropout', x, state, opts);
}

/** dx = dy through the same mask and scale (same state step and options as the forward). */
export function dropoutBackward(gpu: Gpu, dy: Tensor, state: Tensor, opts: DropoutOptions): Tensor {
  return launch(gpu, 'dropoutBackward', dy, state, opts);
}
