// Staging tensors as rgba32float textures for kernels that gather per lane. On lavapipe a storage-buffer
// load that differs between lanes becomes a bounds-checked scalar load per lane and component, while
// textureLoad goes through the sampler's vectorised texel fetch: a 6x6-patch gather measured about 2x
// faster from a texture (bench/RESULTS.md). A tensor whose rows are whole vec4s is copied into a
// [width, height] texture (one texel per vec4, row-major, copyBufferToTexture: no kernel) that the
// kernel then reads with textureLoad. Textures are kept per size and reused: within one command buffer
// WebGPU orders a copy after every dispatch recorded before it, so a later copy into the same texture
// never disturbs an earlier reader.
// Limits: width * 16 bytes a multiple of 256 (copyBufferToTexture's row alignment), width and height
// within maxTextureDimension2D; callers keep their buffer path for everything else.

import { TextureUsage } from './usage';

export const TEXEL_BYTES = 16;
const ROW_ALIGN = 256;

export class ImageTextures {
  private cache = new Map<string, { texture: GPUTexture; view: GPUTextureView }>();

  constructor(private readonly device: GPUDevice) {}

  /** Whether a [width, height] texel image can be staged on this device. */
  fits(width: number, height: number): boolean {
    const max = this.device.limits.maxTextureDimension2D;
    return width > 0 && height > 0 && width <= max && height <= max && (width * TEXEL_BYTES) % ROW_ALIGN === 0;
  }

  /** Record the copy of `buffer` (width * height vec4s, row-major) into a cached texture; its view. */
  stage(encoder: GPUCommandEncoder, buffer: GPUBuffer, width: number, height: number): GPUTextureView {
    const key = `${width}x${height}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const texture = this.device.createTexture({
        label: `image ${key}`,
        size: [width, height],
        format: 'rgba32float',
        usage: TextureUsage.TEXTURE_BINDING | TextureUsage.COPY_DST,
      });
      entry = { texture, view: texture.createView() };
      this.cache.set(key, entry);
    }
    encoder.copyBufferToTexture({ buffer, bytesPerRow: width * TEXEL_BYTES, rowsPerImage: height }, { texture: entry.texture }, [width, height]);
    return entry.view;
  }

  destroy(): void {
    for (const e of this.cache.values()) e.texture.destroy();
    this.cache.clear();
  }
}
