// The demo page's result panel: waveform, feature image, class bars, label and the stage timings
// table, for a finished prediction or a live preview during a recording.

import type { AudioPrediction } from '../src/browser';
import { drawFeatures, drawWaveform } from './draw';

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function showWaveform(samples: Float32Array, sampleRate: number, channels: number, note = ''): void {
  drawWaveform($<HTMLCanvasElement>('wave'), samples);
  const s = samples.length / sampleRate;
  $('wave-info').textContent = `${s.toFixed(2)} s at ${sampleRate} Hz, ${channels} channel${channels > 1 ? 's' : ''}${note}`;
}

export function showFeatures(features: Float32Array, rows: number, frames: number, note = ''): void {
  const stride = features.length / rows;
  drawFeatures($<HTMLCanvasElement>('features'), features, rows, stride, frames);
  $('feat-info').textContent = `${rows} x ${Math.min(frames, stride)} of ${stride} frames${note}`;
}

export function showClasses(label: string, probabilities: Record<string, number>, live = false): void {
  $('label').textContent = live ? `${label} (live)` : label;
  $('label').className = live ? 'live' : '';
  const bars = $('bars');
  bars.replaceChildren();
  for (const [name, v] of Object.entries(probabilities).sort((a, b) => b[1] - a[1])) {
    const bar = document.createElement('div');
    bar.className = name === label ? 'bar best' : 'bar';
    bar.innerHTML = `<span></span><div class="track"><div class="fill" style="width:${(100 * v).toFixed(1)}%"></div></div><span class="v">${(100 * v).toFixed(1)}%</span>`;
    bar.firstElementChild!.textContent = name;
    bars.append(bar);
  }
}

export function showTimings(rows: [string, number][]): void {
  const table = $('timings');
  table.replaceChildren();
  for (const [name, ms] of rows) {
    const tr = document.createElement('tr');
    for (const text of [name, `${ms.toFixed(1)} ms`]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
    table.append(tr);
  }
}

/** Everything of a finished prediction except the timings. */
export function showPrediction(p: AudioPrediction, note = ''): void {
  showWaveform(p.audio.samples, p.audio.sampleRate, p.audio.channels, note);
  showFeatures(p.features, p.rowNames.length, p.frames);
  showClasses(p.label, p.probabilities);
}

/** Resolves after the browser has had the chance to paint what was just written to the page. */
export function painted(): Promise<void> {
  return new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
}
