// Errors raised by the runtime and the kernel launchers. Each names the op and the shapes involved so
// that a user never has to decode a raw WebGPU validation message.

export class GpuError extends Error {
  override name = 'GpuError';
}

/** Input tensors whose shapes, dtypes or values do not fit the op. */
export class ShapeError extends GpuError {
  override name = 'ShapeError';
}

/** A tensor or buffer used after dispose(). */
export class DisposedError extends GpuError {
  override name = 'DisposedError';
}

/** A request beyond what the device allows (buffer size, workgroup count). */
export class LimitError extends GpuError {
  override name = 'LimitError';
}

/** No WebGPU adapter: the message names the fix. */
export class NoAdapterError extends GpuError {
  override name = 'NoAdapterError';
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
