// Microphone and channel colouring for waveform augmentation: a Butterworth low-pass (band-limited
// microphones, telephone channels) and a first-order spectral tilt (bright or dull microphones).
// Causal IIR filters designed by the bilinear transform with prewarping, run in float64 (transposed
// direct form II) on a float32 clip; the output has the input's length. Neither restores the level:
// what a filter removes is gone, as on a real channel (the augmentation's gain step comes after).
// Pure functions; browser-safe.
//
// Magnitude responses (w = 2 pi f / fs, W = tan(w / 2), Wc = tan(pi fc / fs)), exact for these designs:
//   lowPass, order N = LOWPASS_ORDER:  |H|^2 = 1 / (1 + (W / Wc)^(2N))   (-3 dB at fc)
//   tilt by T dB (shelf corner fc):     |H|^2 = (g0^2 Wc^2 + gN^2 W^2) / (Wc^2 + W^2),
//                                       g0 = 10^(-T / 40) at 0 Hz, gN = 10^(T / 40) at fs / 2,
// so the tilt lowers the bottom of the band by T/2 dB and raises the top by T/2 dB (T > 0: brighter).

/** Order of the Butterworth low-pass (two biquads: 24 dB per octave well above the cutoff). */
export const LOWPASS_ORDER = 4;
/** Corner frequency of the tilt's shelf, Hz (the middle of speech's spectrum, in log frequency). */
export const TILT_CORNER_HZ = 1000;

export class FilterError extends Error {
  override name = 'FilterError';
}

/** One second-order section, a0 normalised to 1: y = b0 x + b1 x' + b2 x'' - a1 y' - a2 y''. */
export interface Biquad { b0: number; b1: number; b2: number; a1: number; a2: number }

function checkCorner(what: string, hz: number, sampleRate: number): void {
  if (!(hz > 0 && hz < sampleRate / 2)) throw new FilterError(`${what} ${hz} Hz must be above 0 and below the Nyquist frequency ${sampleRate / 2} Hz`);
}

/** The sections of an order-LOWPASS_ORDER Butterworth low-pass at cutoffHz. */
export function butterworthLowPass(cutoffHz: number, sampleRate: number): Biquad[] {
  checkCorner('low-pass cutoff', cutoffHz, sampleRate);
  const w0 = (2 * Math.PI * cutoffHz) / sampleRate;
  const cos = Math.cos(w0);
  const sections: Biquad[] = [];
  for (let k = 1; k <= LOWPASS_ORDER / 2; k++) {
    // Butterworth pole pair k: Q = 1 / (2 cos(pi (2k - 1) / (2N))); the RBJ low-pass section is the
    // bilinear transform (prewarped at w0) of 1 / (s^2 + s / Q + 1).
    const q = 1 / (2 * Math.cos((Math.PI * (2 * k - 1)) / (2 * LOWPASS_ORDER)));
    const alpha = Math.sin(w0) / (2 * q);
    const a0 = 1 + alpha;
    sections.push({ b0: (1 - cos) / 2 / a0, b1: (1 - cos) / a0, b2: (1 - cos) / 2 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 });
  }
  return sections;
}

/** The first-order shelf that tilts the spectrum by tiltDb (header), as a section with b2 = a2 = 0. */
export function tiltShelf(tiltDb: number, sampleRate: number): Biquad {
  checkCorner('tilt corner', TILT_CORNER_HZ, sampleRate);
  const k = Math.tan((Math.PI * TILT_CORNER_HZ) / sampleRate);
  const g0 = 10 ** (-tiltDb / 40);
  const gN = 10 ** (tiltDb / 40);
  // Bilinear transform of (g0 wc + gN s) / (s + wc) with s = (1 - 1/z) / (1 + 1/z), wc = k.
  return { b0: (g0 * k + gN) / (1 + k), b1: (g0 * k - gN) / (1 + k), b2: 0, a1: (k - 1) / (1 + k), a2: 0 };
}

/** x through the sections in turn (zero initial state). */
export function filterSections(x: Float32Array, sections: readonly Biquad[]): Float32Array {
  const y = Float64Array.from(x);
  for (const { b0, b1, b2, a1, a2 } of sections) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < y.length; i++) {
      const v = y[i]!;
      const out = b0 * v + s1;
      s1 = b1 * v - a1 * out + s2;
      s2 = b2 * v - a2 * out;
      y[i] = out;
    }
  }
  return Float32Array.from(y);
}

/** x low-passed at cutoffHz (Butterworth, order LOWPASS_ORDER). */
export function lowPass(x: Float32Array, cutoffHz: number, sampleRate: number): Float32Array {
  return filterSections(x, butterworthLowPass(cutoffHz, sampleRate));
}

/** x with its spectrum tilted by tiltDb: -tiltDb/2 dB at 0 Hz, +tiltDb/2 dB at the Nyquist frequency. */
export function tilt(x: Float32Array, tiltDb: number, sampleRate: number): Float32Array {
  return filterSections(x, [tiltShelf(tiltDb, sampleRate)]);
}
