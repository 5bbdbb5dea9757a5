// How a batch of clips is laid out for the GPU feature kernels: the signals concatenated into one
// buffer, one clip-table row per clip and one clip index per STFT frame. Frames of all clips are
// numbered globally (clip after clip). "Post" frames are the first min(T, keep + width/2) frames of
// each clip: the only ones whose MFCC and chroma reach the padded output (deltas look width/2 ahead).
// Clip-table row (u32): signal offset, length, first frame, T, first post frame, post frame count, 0, 0.

import { CLIP_COLUMNS } from '../kernels/stft';

export interface ClipBatch {
  signal: Float32Array;
  /** [C, CLIP_COLUMNS] */
  clips: Uint32Array;
  /** [F] clip of each global frame. */
  frameClip: Uint32Array;
  /** [P] global frame of each post frame. */
  postFrame: Uint32Array;
  /** T per clip, frames before padding. */
  frames: number[];
  /** frames, post frames, clips, 0: what the kernels loop over. */
  counts: Uint32Array;
}

export function clipBatch(signals: readonly Float32Array[], hop: number, keepFrames: number, deltaHalf: number): ClipBatch {
  const total = signals.reduce((n, s) => n + s.length, 0);
  const signal = new Float32Array(Math.max(1, total));
  const clips = new Uint32Array(signals.length * CLIP_COLUMNS);
  const frames = signals.map((s) => 1 + Math.floor(s.length / hop));
  const frameCount = frames.reduce((a, b) => a + b, 0);
  const posts = frames.map((t) => Math.min(t, keepFrames + deltaHalf));
  const frameClip = new Uint32Array(frameCount);
  const postFrame = new Uint32Array(posts.reduce((a, b) => a + b, 0));
  let offset = 0;
  let frame = 0;
  let post = 0;
  signals.forEach((s, c) => {
    signal.set(s, offset);
    clips.set([offset, s.length, frame, frames[c]!, post, posts[c]!, 0, 0], c * CLIP_COLUMNS);
    frameClip.fill(c, frame, frame + frames[c]!);
    for (let t = 0; t < posts[c]!; t++) postFrame[post + t] = frame + t;
    offset += s.length;
    frame += frames[c]!;
    post += posts[c]!;
  });
  return { signal, clips, frameClip, postFrame, frames, counts: Uint32Array.from([frameCount, postFrame.length, signals.length, 0]) };
}
