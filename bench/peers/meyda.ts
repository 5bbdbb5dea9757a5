// Meyda (the usual JavaScript audio-feature library) computing MFCC on the CPU, side by side with our
// GPU feature pipeline: 20 coefficients, n_fft 2048 (Meyda's bufferSize), hop 512, 128 mel bands, Hann
// window, frames centred with zero padding as librosa does, over the RAVDESS clips of clips.ts.
// Throughput is seconds of audio per second of wall time. Meyda does MFCC alone; ours (compareTo)
// turns the same signals into all 82 feature rows, so the ratio understates our advantage.

import Meyda from 'meyda';
import type { BenchCase } from '../harness';
import { audioItems, loadClips } from './clips';

const N_FFT = 2048;
const HOP = 512;

/** MFCC frames of one centred, zero-padded signal; returns the number of frames. */
export function meydaMfcc(padded: Float32Array, frames: number, out?: Float32Array[]): number {
  for (let f = 0; f < frames; f++) {
    const mfcc = Meyda.extract('mfcc', padded.subarray(f * HOP, f * HOP + N_FFT)) as unknown as number[];
    if (out) out.push(Float32Array.from(mfcc));
  }
  return frames;
}

export function meydaCases(): BenchCase[] {
  const items = audioItems();
  return [
    {
      group: 'meyda',
      name: 'mfcc20 ravdess batch',
      peer: 'meyda',
      compareTo: 'features/ravdess batch 82x64',
      items,
      sampling: { minSamples: 2, maxTime: 2 },
      setup() {
        let clips: { padded: Float32Array; frames: number }[] | null = null;
        return {
          run: async () => {
            if (!clips) {
              const c = await loadClips();
              Object.assign(Meyda, { bufferSize: N_FFT, sampleRate: c.config.sampleRate, melBands: 128, numberOfMFCCCoefficients: 20, windowingFunction: 'hanning' });
              clips = c.signals.map((s) => {
                const padded = new Float32Array(s.length + N_FFT);
                padded.set(s, N_FFT / 2);
                return { padded, frames: 1 + Math.floor(s.length / HOP) };
              });
              items.count = c.seconds;
              const first: Float32Array[] = [];
              meydaMfcc(clips[0]!.padded, 4, first);
              if (first.length !== 4 || first.some((m) => m.length !== 20 || m.some((v) => !Number.isFinite(v)))) {
                throw new Error('meyda: MFCC frames are not 20 finite coefficients');
              }
            }
            for (const c of clips) meydaMfcc(c.padded, c.frames);
          },
          dispose: () => undefined,
        };
      },
    },
  ];
}
