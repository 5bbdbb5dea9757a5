// Canvas drawings of the demo page: the waveform as per-pixel min/max columns, and the feature
// stack (rows x frames, row-major) as a heat map with each row scaled to its own range (the rows
// have very different units: MFCC in dB-like values, centroid in Hz).

export function drawWaveform(canvas: HTMLCanvasElement, samples: Float32Array): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.fillStyle = '#10131a';
  ctx.fillRect(0, 0, width, height);
  let peak = 1e-9;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  ctx.strokeStyle = '#6ec3ff';
  ctx.beginPath();
  const per = samples.length / width;
  for (let x = 0; x < width; x++) {
    let lo = 0;
    let hi = 0;
    const end = Math.min(samples.length, Math.floor((x + 1) * per));
    for (let i = Math.floor(x * per); i < end; i++) {
      lo = Math.min(lo, samples[i]!);
      hi = Math.max(hi, samples[i]!);
    }
    ctx.moveTo(x + 0.5, height / 2 - (hi / peak) * (height / 2 - 2));
    ctx.lineTo(x + 0.5, height / 2 - (lo / peak) * (height / 2 - 2) + 1);
  }
  ctx.stroke();
}

/** Viridis-like ramp from dark blue through green to yellow, t in [0, 1]. */
function colour(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Heat map of the first `frames` columns of a rows x stride block (the padding is left out). */
export function drawFeatures(canvas: HTMLCanvasElement, features: Float32Array, rows: number, stride: number, frames: number): void {
  const cols = Math.max(1, Math.min(frames, stride));
  const image = new ImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    const row = features.subarray(r * stride, r * stride + cols);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of row) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    for (let c = 0; c < cols; c++) {
      const [red, green, blue] = colour(hi > lo ? (row[c]! - lo) / (hi - lo) : 0.5);
      image.data.set([red, green, blue, 255], (r * cols + c) * 4);
    }
  }
  const offscreen = document.createElement('canvas');
  [offscreen.width, offscreen.height] = [cols, rows];
  offscreen.getContext('2d')!.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
}
