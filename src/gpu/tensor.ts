// Tensor handles: a shape, a dtype and a pooled GPU buffer, with explicit lifetime. dispose() hands the
// buffer back to the pool; reshape() makes a view that shares the storage (reference counted), so the
// buffer returns to the pool only when the last view is disposed. Nothing relies on garbage collection.

import { DisposedError, ShapeError, fmtShape } from './errors';

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
export type AnyTypedArray = Float32Array | Int32Array | Uint32Array;

export const DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];

/** The bookkeeping a tensor needs from its runtime (implemented by Gpu). */
export interface TensorOwner {
  releaseBuffer(buf: GPUBuffer): void;
  track(t: Tensor): void;
  untrack(t: Tensor): void;
  read(t: Tensor): Promise<AnyTypedArray>;
}

export class Storage {
  refs = 1;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {}
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`${what}: shape ${JSON.stringify(shape)} must be a list of positive integers`);
  }
}

export function arrayFor(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}

export class Tensor {
  readonly size: number;
  private storage: Storage | null;

  constructor(
    private readonly owner: TensorOwner,
    storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly label: string,
  ) {
    this.size = sizeOf(shape);
    this.storage = storage;
    owner.track(this);
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The underlying buffer; throws naming the tensor when it was disposed. */
  get buffer(): GPUBuffer {
    if (!this.storage) throw new DisposedError(`tensor '${this.label}' ${fmtShape(this.shape)} was used after dispose()`);
    return this.storage.buffer;
  }

  get byteLength(): number {
    return this.size * 4;
  }

  /** A view with another shape of the same number of elements, sharing this tensor's buffer. */
  reshape(shape: readonly number[]): Tensor {
    checkShape(shape, `reshape of '${this.label}'`);
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(`reshape of '${this.label}': ${fmtShape(this.shape)} has ${this.size} elements, ${fmtShape(shape)} has ${sizeOf(shape)}`);
    }
    if (!this.storage) throw new DisposedError(`reshape of '${this.label}': tensor was used after dispose()`);
    this.storage.refs++;
    return new Tensor(this.owner, this.storage, [...shape], this.dtype, this.label);
  }

  /** Copy the contents to the CPU (flushes pending GPU work). */
  read(): Promise<AnyTypedArray> {
    return this.owner.read(this);
  }

  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    this.owner.untrack(this);
    if (--s.refs === 0) this.owner.releaseBuffer(s.buffer);
  }

  toString(): string {
    return `Tensor(${this.label}, ${this.dtype}${fmtShape(this.shape)})`;
  }
}
