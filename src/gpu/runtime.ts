// The runtime: one WebGPU device with a buffer pool, a pipeline cache and command recording. Dispatches
// are recorded into one command encoder (inside one compute pass where possible) and submitted together
// on flush(), which happens on readback, on a write into a live buffer, or when asked. Nothing here is
// node-specific: node and browsers differ only in where the `GPU` object comes from (node.node.ts,
// browser.ts).

import { cappedLimits, openDevice, type AdapterSummary, type GpuOptions, type SubgroupInfo } from './adapter';
import { GpuError, LimitError, ShapeError, fmtShape } from './errors';
import { PipelineCache } from './pipelines';
import { BufferPool, type PoolStats } from './pool';
import { Profiler, type KernelTime } from './profiler';
import { Scopes } from './scopes';
import { ImageTextures, TEXEL_BYTES } from './textures';
import { type AnyTypedArray, type DType, Storage, Tensor, type TensorOwner, arrayFor, checkShape, sizeOf } from './tensor';
import { BufferUsage, MapModeRead } from './usage';

export type { AdapterSummary, GpuOptions, SubgroupInfo } from './adapter';

/** What a dispatch binds: a whole tensor or buffer, a texture view, or a buffer range ({buffer, offset, size}). */
export type Binding = Tensor | GPUBuffer | GPUTextureView | GPUBufferBinding;
const isBuffer = (b: GPUBuffer | GPUTextureView | GPUBufferBinding): b is GPUBuffer => typeof (b as GPUBuffer).mapAsync === 'function';

export interface DispatchSpec {
  /** Kernel family name, used in errors and timings. */
  name: string;
  /** Pipeline cache key: must determine the WGSL source completely. */
  key: string;
  code: () => string;
  /** Buffers bound at group 0, binding i, in order. */
  bindings: readonly Binding[];
  workgroups: readonly [number, number?, number?];
}

const POISON_BITS = 0x7fc00000; // a quiet NaN as f32
// Released buffers wait for a submit before reuse; past this many waiting bytes the runtime submits
// early so that a long recording without readback cannot grow memory without bound.
const PENDING_FLUSH_BYTES = 64 * 1024 * 1024;

export class Gpu implements TensorOwner {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly scopes = new Scopes();
  private readonly images: ImageTextures;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private profiler: Profiler | null = null;
  private errors: string[] = [];
  private recorded: string[] = [];
  /** While trace() runs: the dispatches it saw, bindings resolved to buffers (nothing is recorded). */
  private tracing: DispatchSpec[] | null = null;
  private lost = false;
  /** > 0 while poisoned() runs: new tensors start as NaN even when the runtime does not poison. */
  private poisonDepth = 0;
  /** Counters for benchmarks: submits and dispatches since creation. */
  readonly counters = { submits: 0, dispatches: 0 };
  /** The device's limits, buffer sizes lowered to options.maxBufferBytes when given. */
  readonly limits: GPUSupportedLimits;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    readonly options: GpuOptions,
    private readonly keepAlive: unknown,
    /** Subgroup sizes where the `subgroups` feature is enabled on this device; null where it is not. */
    readonly subgroups: SubgroupInfo | null = null,
  ) {
    this.limits = cappedLimits(device.limits, options.maxBufferBytes);
    this.pool = new BufferPool(device, Math.min(this.limits.maxBufferSize, this.limits.maxStorageBufferBindingSize));
    this.pipelines = new PipelineCache(device);
    this.images = new ImageTextures(device);
    if (options.profile) {
      if (!device.features.has('timestamp-query')) throw new GpuError('profiling needs the timestamp-query feature, which this adapter lacks');
      this.profiler = new Profiler(device);
    }
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(e.message);
    });
    void device.lost.then((info) => {
      this.lost = true;
      if (info.reason !== 'destroyed') this.errors.push(`device lost: ${info.message}`);
    });
  }

  /**
   * Open the best adapter of a `GPU` object (navigator.gpu, or Dawn's create() result; adapter.ts).
   * `keepAlive` is held for the device's lifetime: Dawn crashes if its instance is garbage-collected
   * while in use.
   */
  static async create(gpu: GPU, options: GpuOptions = {}, keepAlive: unknown = gpu): Promise<Gpu> {
    const { device, summary, subgroups } = await openDevice(gpu, options);
    return new Gpu(device, summary, options, keepAlive, subgroups);
  }

  /** Keep a reference (Dawn instance) alive as long as this runtime; exposed for clarity in tests. */
  get instance(): unknown {
    return this.keepAlive;
  }

  // ---- tensors -------------------------------------------------------------------------------------

  /** A new tensor with undefined contents (NaN-filled when the runtime poisons). */
  empty(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
    checkShape(shape, label);
    const bytes = sizeOf(shape) * 4;
    const max = this.pool.maxBytes;
    if (bytes > max) {
      throw new LimitError(`${label}: ${dtype}${fmtShape(shape)} needs ${bytes} bytes, above this device's storage buffer limit of ${max} bytes`);
    }
    const t = new Tensor(this, new Storage(this.pool.acquire(bytes, label), bytes), [...shape], dtype, label);
    if (this.options.poison || this.poisonDepth > 0) this.fillBits(t, POISON_BITS);
    return t;
  }

  /**
   * Run `fn` (synchronous recording) with every tensor it creates NaN-filled first, as a poisoning
   * runtime does: a check run (the tuner's correctness gate) then shows the elements a kernel left unwritten.
   */
  poisoned<T>(fn: () => T): T {
    this.poisonDepth++;
    try {
      return fn();
    } finally {
      this.poisonDepth--;
    }
  }

  /** A tensor holding `data`. */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label = 'upload'): Tensor {
    checkShape(shape, label);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(`${label}: ${data.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const t = this.empty(shape, dtype, label);
    this.write(t, data);
    return t;
  }

  zeros(shape: readonly number[], dtype: DType = 'f32', label = 'zeros'): Tensor {
    const t = this.empty(shape, dtype, label);
    this.endPass();
    this.ensureEncoder().clearBuffer(t.buffer, 0, Math.ceil(t.byteLength / 4) * 4);
    return t;
  }

  /** Overwrite a tensor's contents. Pending work is submitted first, so earlier commands see old data. */
  write(t: Tensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new ShapeError(`write into '${t.label}' ${fmtShape(t.shape)}: got ${data.length} values`);
    const arr = toTyped(data, t.dtype, `write into '${t.label}'`);
    const buf = t.buffer;
    if (this.encoder) this.flush();
    this.device.queue.writeBuffer(buf, 0, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  /**
   * Fill with a raw 32-bit pattern (0 for zeros, NaN bits for poison) with a tiny kernel. One pipeline
   * per pattern, whatever the size (the row stride comes from num_workgroups, the bound from the
   * buffer): a poisoned runtime fills every new tensor, and a size baked in would make each distinct
   * tensor size a pipeline of its own for lavapipe to compile (most of a test file's pipelines).
   */
  fillBits(t: Tensor, bits: number): void {
    const n = t.size;
    const [x, y] = grid1d(n, 256, this.limits.maxComputeWorkgroupsPerDimension);
    this.dispatch({
      name: 'fill',
      key: `fill:${bits >>> 0}`,
      code: () => `
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = g.x + g.y * groups.x * 256u;
  if (i < arrayLength(&out)) { out[i] = ${bits >>> 0}u; }
}`,
      bindings: [t],
      workgroups: [x, y],
    });
  }

  releaseBuffer(buf: GPUBuffer): void {
    this.pool.release(buf);
    if (this.pool.pendingBytes > PENDING_FLUSH_BYTES) this.flush();
  }
  track(t: Tensor): void {
    this.scopes.track(t);
  }
  untrack(t: Tensor): void {
    this.scopes.untrack(t);
  }

  /** Run `fn`; tensors it creates are disposed afterwards unless returned (or kept with scopes.keep). */
  scope<T>(fn: () => T): T {
    return this.scopes.run(fn);
  }

  // ---- recording -----------------------------------------------------------------------------------

  private ensureEncoder(): GPUCommandEncoder {
    if (this.lost) throw new GpuError('the GPU device was lost or destroyed');
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Record one dispatch. Shapes were validated by the launcher; here we check lifetime and limits. */
  dispatch(spec: DispatchSpec): void {
    const [x, y = 1, z = 1] = spec.workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new LimitError(`${spec.name}: dispatch of ${x}x${y}x${z} workgroups exceeds this device's ${maxWg} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    if (this.tracing) {
      this.tracing.push({ ...spec, bindings: spec.bindings.map((b) => (b instanceof Tensor ? b.buffer : b)) });
      return;
    }
    const resources = spec.bindings.map((b): GPUBindingResource => {
      if (b instanceof Tensor) return { buffer: b.buffer };
      return isBuffer(b) ? { buffer: b } : b;
    });
    const pipeline = this.pipelines.get(spec.key, spec.code);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: resources.map((resource, binding) => ({ binding, resource })),
    });
    if (this.profiler) {
      if (this.profiler.full) this.flush();
      this.endPass();
      this.pass = this.ensureEncoder().beginComputePass({ timestampWrites: this.profiler.next(spec.name) });
    } else if (!this.pass) {
      this.pass = this.ensureEncoder().beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    this.counters.dispatches++;
    this.recorded.push(spec.name);
  }

  /**
   * Record a buffer-to-buffer copy of `bytes` bytes (whole source by default), from byte srcOffset of
   * src to byte dstOffset of dst (multiples of 4).
   */
  copy(src: Tensor | GPUBuffer, dst: Tensor | GPUBuffer, bytes?: number, srcOffset = 0, dstOffset = 0): void {
    const s = src instanceof Tensor ? src.buffer : src;
    const d = dst instanceof Tensor ? dst.buffer : dst;
    const n = bytes ?? (src instanceof Tensor ? src.byteLength : s.size) - srcOffset;
    if (srcOffset % 4 || dstOffset % 4 || n % 4) throw new GpuError(`copy: offsets ${srcOffset}, ${dstOffset} and size ${n} must be multiples of 4 bytes`);
    if (n === 0) return;
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(s, srcOffset, d, dstOffset, n);
  }

  /**
   * Whether imageOf can stage a tensor as a [width, height] texel image here (textures.ts); false where
   * the runtime was created with imageTextures: false.
   */
  canStageImage(width: number, height: number): boolean {
    return this.options.imageTextures !== false && this.images.fits(width, height);
  }

  /** Record the copy of `t` (width * height vec4s) into an rgba32float texture; the view to bind. */
  imageOf(t: Tensor, width: number, height: number): GPUTextureView {
    if (!this.canStageImage(width, height) || t.byteLength !== width * height * TEXEL_BYTES) {
      throw new GpuError(`imageOf '${t.label}' ${fmtShape(t.shape)}: cannot stage as a ${width} x ${height} texel image`);
    }
    this.endPass();
    return this.images.stage(this.ensureEncoder(), t.buffer, width, height);
  }

  /**
   * Compile ahead of use, in parallel, every pipeline that `record` would dispatch: `record` runs with
   * dispatches traced instead of recorded (trace()), then the new kernels compile concurrently
   * (PipelineCache.prepare). Resolves to the number of pipelines compiled.
   */
  async precompile(record: () => void): Promise<number> {
    return this.pipelines.prepare(this.trace(record).filter((d) => !this.pipelines.has(d.key)));
  }

  /**
   * Run `record` with its dispatches traced instead of recorded and return them, in order, with tensor
   * bindings resolved to their buffers (so that they can be dispatched later: train/loop/compile-ahead.ts).
   * Nothing runs: whatever else `record` recorded (clears, copies) is discarded, so it must work on
   * throwaway tensors and must not read back; work recorded before the call is submitted first. Buffers
   * of tensors disposed meanwhile go back to the pool but are not destroyed.
   */
  trace(record: () => void): DispatchSpec[] {
    if (this.tracing) throw new GpuError('precompile: already tracing (precompile calls do not nest)');
    this.flush();
    this.tracing = [];
    try {
      record();
      return this.tracing;
    } finally {
      this.tracing = null;
      this.endPass();
      this.encoder = null; // never submitted: the traced steps' clears and copies do not run
      this.pool.afterSubmit(); // buffers released while tracing are reusable (nothing used them)
    }
  }

  /** Submit everything recorded so far. Released buffers become reusable after this. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const after = this.profiler?.resolve(this.encoder) ?? null;
    this.device.queue.submit([this.encoder.finish()]);
    after?.();
    this.encoder = null;
    this.counters.submits++;
    this.pool.afterSubmit();
  }

  /** Wait for all submitted work, then raise any error the device reported, naming the kernels run. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.raiseErrors();
  }

  private raiseErrors(): void {
    if (this.errors.length === 0) {
      this.recorded = [];
      return;
    }
    const kernels = [...new Set(this.recorded)].join(', ') || '(none)';
    const msg = `GPU reported an error while running [${kernels}]: ${this.errors.join('; ')}`;
    this.errors = [];
    this.recorded = [];
    throw new GpuError(msg);
  }

  // ---- readback ------------------------------------------------------------------------------------

  async read(t: Tensor): Promise<AnyTypedArray> {
    const [out] = await this.readMany([t]);
    return out!;
  }

  /** Read several tensors with one submit and one wait. */
  async readMany(ts: readonly Tensor[]): Promise<AnyTypedArray[]> {
    const staging = ts.map((t) => {
      const buf = this.device.createBuffer({ size: Math.ceil(t.byteLength / 4) * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      this.copy(t, buf, t.byteLength);
      return buf;
    });
    this.flush();
    await Promise.all(staging.map((b) => b.mapAsync(MapModeRead)));
    this.raiseErrors();
    return ts.map((t, i) => {
      const b = staging[i]!;
      const src = b.getMappedRange(0, t.byteLength).slice(0);
      b.unmap();
      b.destroy();
      const out = arrayFor(t.dtype, 0).constructor as new (b: ArrayBuffer) => AnyTypedArray;
      return new out(src);
    });
  }

  /** Kernel timings recorded since the last call (profile mode only). */
  async timings(): Promise<KernelTime[]> {
    if (!this.profiler) throw new GpuError('timings() needs a runtime created with { profile: true }');
    await this.sync();
    return this.profiler.collect();
  }

  poolStats(): PoolStats {
    return this.pool.stats();
  }

  /** Release everything: the device, pooled buffers and the profiler. */
  destroy(): void {
    if (this.lost) return;
    this.endPass();
    this.encoder = null;
    this.pool.trim();
    this.profiler?.destroy();
    this.images.destroy();
    this.device.destroy();
    this.lost = true;
  }
}

/** `data` as the typed array of `dtype`; a typed array of another dtype is refused, not reinterpreted. */
function toTyped(data: ArrayLike<number>, dtype: DType, what: string): AnyTypedArray {
  const want = dtype === 'f32' ? Float32Array : dtype === 'i32' ? Int32Array : Uint32Array;
  if (data instanceof want) return data;
  if (data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array) {
    throw new ShapeError(`${what}: got a ${data.constructor.name} for a ${dtype} tensor`);
  }
  const out = arrayFor(dtype, data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  return out;
}

/** A 2-D grid covering n invocations of workgroups of `wg`, for counts past the per-dimension limit. */
export function grid1d(n: number, wg: number, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const x = maxPerDim;
  return [x, Math.ceil(groups / x)];
}
