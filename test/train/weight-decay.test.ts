// AdamW in training (`ser train --weight-decay`): the model's conv and dense kernels decay, its biases
// and batch-norm parameters do not; a tiny run records the setting, moves away from the plain run,
// and refuses to resume without it; the CLI refuses a decay outside 0..1.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFeatureExtractor } from '../../src/dsp/gpu-features';
import type { FeatureConfig } from '../../src/dsp/config';
import { modelConfig, SerModel } from '../../src/nn/model';
import { Trainer } from '../../src/nn/train-step';
import { readCheckpoint } from '../../src/train/model-files/checkpoint.node.ts';
import { trainRun } from '../../src/train/protocols/run.node.ts';
import { synthCorpus } from '../../src/train/data/synth';
import { writeSynthCorpus } from '../../src/train/data/synth.node.ts';
import { relL2, useGpu } from '../harness';
import { tinyRunOptions } from './tiny-run';

const gpu = useGpu();
const BIN = join(__dirname, '../../bin/ser.mjs');

describe('AdamW in training', () => {
  it('decays the conv and dense kernels of the model, not its biases or batch-norm parameters', () => {
    const model = new SerModel(gpu(), modelConfig({ classes: 3, inputRows: 6, inputFrames: 8, stem: { filters: 4, dropout: 0 }, blocks: [{ filters: 4, dropout: 0 }], dense: [{ units: 4, dropout: 0 }] }), 1);
    const trainer = new Trainer(model, { learningRate: 1e-3, clipnorm: 1, weightDecay: 0.01 });
    const plain = new Trainer(model, { learningRate: 1e-3, clipnorm: 1 });
    try {
      const names = [...model.params.keys()];
      const decayed = names.filter((n) => trainer.adam.decays(n));
      expect(decayed.length).toBeGreaterThan(2);
      for (const n of names) expect(trainer.adam.decays(n), n).toBe(model.params.get(n)!.value.shape.length >= 2);
      expect(names.some((n) => /gamma|beta/.test(n) && !trainer.adam.decays(n))).toBe(true);
      expect(names.filter((n) => plain.adam.decays(n))).toEqual([]);
    } finally {
      trainer.dispose();
      plain.dispose();
      model.dispose();
    }
  });

  const data = mkdtempSync(join(tmpdir(), 'ser-wd-data-'));
  writeSynthCorpus(data, synthCorpus({ speakers: 2, clipsPerClassPerSpeaker: 3, seed: 6, classes: ['neutral', 'happy', 'sad', 'angry'] }), { layout: 'ravdess' });
  const extractor = (c: FeatureConfig) => new GpuFeatureExtractor(gpu(), c);

  it('a tiny run records the decay, ends elsewhere than the plain run and refuses to resume without it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-wd-a-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, out, { loop: { epochs: 1, weightDecay: 0.5 } }));
    const decayed = await readCheckpoint(out, 'checkpoint');
    expect(decayed.meta.training).toEqual({ schedule: 'plateau', balance: false, weightDecay: 0.5 });
    await expect(trainRun(gpu(), extractor, tinyRunOptions(data, out, { loop: { epochs: 2 }, resume: true }))).rejects.toThrow(/another schedule or sampling.*--weight-decay/);
    const plainOut = mkdtempSync(join(tmpdir(), 'ser-wd-b-'));
    await trainRun(gpu(), extractor, tinyRunOptions(data, plainOut, { loop: { epochs: 1 } }));
    const plain = await readCheckpoint(plainOut, 'checkpoint');
    const kernel = [...plain.tensors.keys()].find((k) => !k.startsWith('adam.') && plain.tensors.get(k)!.shape.length >= 2)!;
    expect(relL2(decayed.tensors.get(kernel)!.data, plain.tensors.get(kernel)!.data)).toBeGreaterThan(1e-4);
  });

  it('the CLI refuses a decay outside 0..1', () => {
    const r = spawnSync(process.execPath, [BIN, 'train', '--weight-decay', '2'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--weight-decay/);
  });
});
