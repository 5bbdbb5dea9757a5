// Buffer pool: storage buffers are recycled by size class instead of being created and destroyed per
// op. A released buffer is not reusable at once: it waits in `pending` until the submit that may still
// read it has been handed to the queue (queue.writeBuffer into a reused buffer would otherwise land
// before commands recorded earlier in the same encoder). Size classes step by 2^(1/4), so at most ~19%
// of a buffer is wasted.

import { BufferUsage } from './usage';

const MIN_BYTES = 256;
// UNIFORM too: kernels at the storage-buffer limit (10 on SwiftShader) read small parameter tensors
// such as counts [4] as var<uniform>.
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.UNIFORM | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export interface PoolStats {
  /** Bytes held by all live pooled buffers (in use, pending and free). */
  allocatedBytes: number;
  /** The most allocatedBytes has been since the pool was created: the runtime's peak GPU memory in buffers. */
  peakAllocatedBytes: number;
  /** Bytes of buffers currently handed out. */
  inUseBytes: number;
  /** Bytes released but waiting for the next submit. */
  pendingBytes: number;
  /** Bytes free for reuse. */
  freeBytes: number;
  buffers: number;
  /** How many buffers were ever created (reuse keeps this flat). */
  created: number;
  acquired: number;
}

export function sizeClass(bytes: number): number {
  const b = Math.max(MIN_BYTES, bytes);
  const exp = Math.ceil(Math.log2(b) * 4) / 4;
  return Math.ceil(2 ** exp / 16) * 16;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** Bytes waiting in `pending`; the runtime submits early when this grows large. */
  pendingBytes = 0;
  private inUse = new Set<GPUBuffer>();
  private created = 0;
  private acquired = 0;
  private bytes = 0;
  private peakBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    /** The largest buffer this device can bind as storage. */
    readonly maxBytes: number,
  ) {}

  /** A storage buffer of at least `bytes` bytes; its contents are undefined. */
  acquire(bytes: number, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    if (size > this.maxBytes) {
      throw new RangeError(`${label}: needs a buffer of ${bytes} bytes, above this device's limit of ${this.maxBytes}`);
    }
    this.acquired++;
    const list = this.free.get(size);
    let buf = list?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size, usage: STORAGE_USAGE, label });
      this.created++;
      this.bytes += size;
      this.peakBytes = Math.max(this.peakBytes, this.bytes);
    }
    this.inUse.add(buf);
    return buf;
  }

  /** Give a buffer back; it becomes reusable after the next submit. */
  release(buf: GPUBuffer): void {
    if (!this.inUse.delete(buf)) throw new Error('BufferPool.release: buffer is not in use (released twice?)');
    this.pending.push(buf);
    this.pendingBytes += buf.size;
  }

  /** Called by the runtime right after a submit: pending buffers may now be reused. */
  afterSubmit(): void {
    for (const buf of this.pending) {
      const list = this.free.get(buf.size);
      if (list) list.push(buf);
      else this.free.set(buf.size, [buf]);
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Destroy every free buffer (memory pressure, or shutdown). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.bytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  stats(): PoolStats {
    let inUseBytes = 0;
    for (const b of this.inUse) inUseBytes += b.size;
    let pendingBytes = 0;
    for (const b of this.pending) pendingBytes += b.size;
    let freeBytes = 0;
    let freeCount = 0;
    for (const list of this.free.values()) {
      for (const b of list) freeBytes += b.size;
      freeCount += list.length;
    }
    return {
      allocatedBytes: this.bytes,
      peakAllocatedBytes: this.peakBytes,
      inUseBytes,
      pendingBytes,
      freeBytes,
      buffers: this.inUse.size + this.pending.length + freeCount,
      created: this.created,
      acquired: this.acquired,
    };
  }
}
