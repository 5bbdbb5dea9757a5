// Short-time Fourier transform power |X|² (and optionally magnitude |X|) of a batch of clips, as
// librosa.stft(center=True, pad_mode='constant') frames them: frame t of a clip covers samples
// t*hop - N/2 .. t*hop + N/2 - 1, zero outside the clip, times the window; T = 1 + len/hop frames.
// Layout: the clips are concatenated in one f32 signal; `clips` [C, 8] u32 rows are (signal offset,
// length, first frame, frame count, ...) and `frameClip` [F] u32 names the clip of each global frame,
// so framing is pure indexing (no framed copy). Output rows are frames: power [F, N/2+1].
// Counts come from a [4] u32 buffer, not from the WGSL source, so one pipeline serves every batch.
// One frame per workgroup (the FFT of fft.ts, its workgroup size as the tuner chose: FFT_FAMILY); many
// frames of many clips per dispatch (2-D grid).

import { wgsl } from './wgsl';
import { ShapeError, fmtShape, grid1d, type Gpu, type Tensor } from '../gpu';
import { expectDtype } from './checks';
import { fftBody, fftDeclarations, realBinFunction, tunedFftPlan } from './fft';

/** Columns of a clip table row; the feature kernels share it. */
export const CLIP_COLUMNS = 8;

export interface StftOptions {
  nFft: number;
  hop: number;
  /** Also write |X| (power is always written). */
  magnitude?: boolean;
}

export interface StftInputs {
  signal: Tensor;
  clips: Tensor;
  frameClip: Tensor;
  /** [N] f32 analysis window. */
  window: Tensor;
  /** twiddleTable(N). */
  twiddles: Tensor;
  /** [4] u32: frames, post frames, clips, 0 (buffers may be longer than their contents). */
  counts: Tensor;
}

export function stft(gpu: Gpu, inputs: StftInputs, options: StftOptions): { power: Tensor; magnitude?: Tensor } {
  const op = 'stft';
  const { signal, clips, frameClip, window, twiddles, counts } = inputs;
  const { nFft, hop } = options;
  const withMag = options.magnitude ?? false;
  expectDtype(op, signal, 'f32');
  expectDtype(op, clips, 'u32');
  expectDtype(op, frameClip, 'u32');
  const plan = tunedFftPlan(gpu, nFft);
  if (window.size !== nFft) throw new ShapeError(`${op}: window ${fmtShape(window.shape)} does not match n_fft ${nFft}`);
  if (twiddles.size !== 2 * nFft) throw new ShapeError(`${op}: twiddles ${fmtShape(twiddles.shape)} do not match n_fft ${nFft}`);
  if (clips.size % CLIP_COLUMNS !== 0) throw new ShapeError(`${op}: clip table ${fmtShape(clips.shape)} is not [C, ${CLIP_COLUMNS}]`);
  if (!Number.isInteger(hop) || hop < 1) throw new ShapeError(`${op}: hop ${hop} must be a positive integer`);
  const frames = frameClip.size;
  const bins = nFft / 2 + 1;
  const power = gpu.empty([frames, bins], 'f32', 'stft.power');
  const magnitude = withMag ? gpu.empty([frames, bins], 'f32', 'stft.magnitude') : undefined;
  const [gx, gy] = grid1d(frames, 1, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    name: op,
    key: `${op}:${nFft}:${hop}:${withMag}:${plan.workgroup}`,
    code: () => wgsl`
@group(0) @binding(0) var<storage, read> signal: array<f32>;
@group(0) @binding(1) var<storage, read> clips: array<u32>;
@group(0) @binding(2) var<storage, read> frameClip: array<u32>;
@group(0) @binding(3) var<storage, read> win: array<vec2f>;
@group(0) @binding(4) var<storage, read> tw: array<vec2f>;
@group(0) @binding(5) var<storage, read> counts: vec4u;
@group(0) @binding(6) var<storage, read_write> power: array<f32>;
#if ${withMag}
@group(0) @binding(7) var<storage, read_write> magnitude: array<f32>;
#endif
${fftDeclarations(plan)}
${realBinFunction(plan)}

// Samples start + 2i and start + 2i + 1 of the clip (zero outside it), windowed, as one complex point.
fn loadPair(base: u32, len: i32, start: i32, i: u32) -> vec2f {
  let j = start + i32(2u * i);
  var p = vec2f(0.0);
  if (j >= 0 && j < len) { p.x = signal[base + u32(j)]; }
  if (j + 1 >= 0 && j + 1 < len) { p.y = signal[base + u32(j + 1)]; }
  return p * win[i];
}

@compute @workgroup_size(${plan.workgroup})
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u) {
  let f = w.x + w.y * n.x;
  if (f >= counts.x) { return; }
  let c = frameClip[f] * ${CLIP_COLUMNS}u;
  let base = clips[c];
  let len = i32(clips[c + 1u]);
  let start = i32((f - clips[c + 2u]) * ${hop}u) - ${nFft / 2};
  var v: array<vec2f, ${plan.perThread}>;
${fftBody(plan, (i) => `loadPair(base, len, start, ${i})`)}
  for (var k = l; k < ${bins}u; k += ${plan.workgroup}u) {
    let x = rbin(k);
    let p = dot(x, x);
    power[f * ${bins}u + k] = p;
#if ${withMag}
    magnitude[f * ${bins}u + k] = length(x);
#endif
  }
}`,
    bindings: withMag ? [signal, clips, frameClip, window, twiddles, counts, power, magnitude!] : [signal, clips, frameClip, window, twiddles, counts, power],
    workgroups: [gx, gy],
  });
  return withMag ? { power, magnitude: magnitude! } : { power };
}
