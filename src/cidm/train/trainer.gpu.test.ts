import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { loadModelFolder, type LoadedModelFolder } from '../../golden/training/model-folder';
import type { GpuContext } from '../../gpu/context';
import { conceptCaptionIds } from './caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, type CidmParams } from './cidm-params';
import { NaNLossError } from './errors';
import { initCidmParams, syntheticConcept } from './learn-check';
import type { NoiseScheduleConfig } from './noising';
import { CidmTrainer, type TrainingExample } from './trainer';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
const read = (p: string) => readFileSync(join(DIR, p), 'utf8');
const schedule = JSON.parse(read('scheduler/scheduler_config.json')) as NoiseScheduleConfig;
const tokenizer = (sub: string) => ClipTokenizer.fromFiles(read(`${sub}/vocab.json`), read(`${sub}/merges.txt`), ClipTokenizer.configFromJson(read(`${sub}/tokenizer_config.json`)));

function examples(m: LoadedModelFolder, poison = false): TrainingExample[] {
  const toks = [tokenizer('tokenizer'), tokenizer('tokenizer_2')];
  const ids = m.encoders.map((te, k) => conceptCaptionIds(toks[k]!, 'a photo of <x1> <x2> toy', ['<x1>', '<x2>'], te.config.vocabSize).ids);
  return syntheticConcept(4, 16, 2, 5).map((s) => {
    if (poison) s.latents[7] = NaN;
    return { ...s, ids, timeIds: [128, 128, 0, 0, 128, 128] };
  });
}

async function snapshot(ctx: GpuContext, p: CidmParams): Promise<Float32Array[]> {
  return [await p.lora.read(ctx, 'param'), await p.tokens.read(ctx, 'param'), await p.lora.read(ctx, 'expAvg')];
}

describe('the CIDM trainer', () => {
  const dtype = TEST_ADAPTER === 'lavapipe' ? 'f16' : 'f32';
  it(`resumes exactly, and stops on a NaN loss keeping the last good state (${dtype})`, async () => {
    const ctx = await testContext();
    const m = await loadModelFolder(ctx, DIR, dtype);
    const shape = cidmShape(m.unet.arch, 2, 4, m.encoders.map((te) => te.config.hiddenSize));
    const cfg = { steps: 4, seed: 9, latentShape: [4, 16, 16] as const, schedule, lrLora: 1e-3, lrTokens: 1e-2 };
    const p1 = createCidmParams(ctx, shape);
    const p2 = createCidmParams(ctx, shape);
    try {
      // Straight: two steps.
      await initCidmParams(ctx, m, p1, 3, [[null, null], [null, null]]);
      const a = new CidmTrainer(ctx, m, p1, [], examples(m), cfg);
      await a.runStep();
      await a.runStep();
      const straight = await snapshot(ctx, p1);
      // Interrupted: one step, a checkpoint (params + moments + trainer state), a new trainer, one step.
      await initCidmParams(ctx, m, p2, 3, [[null, null], [null, null]]);
      const b = new CidmTrainer(ctx, m, p2, [], examples(m), cfg);
      await b.runStep();
      const saved = b.checkpoint();
      const c = new CidmTrainer(ctx, m, p2, [], examples(m), cfg);
      c.restore(saved);
      const r = await c.runStep();
      expect(r.step).toBe(2);
      const resumed = await snapshot(ctx, p2);
      for (const [i, s] of straight.entries()) expect(Array.from(resumed[i]!)).toEqual(Array.from(s));

      // A poisoned photo: NaN loss at step 3 → NaNLossError naming it; the params keep step 2's values.
      const d = new CidmTrainer(ctx, m, p2, [], examples(m, true), cfg);
      d.restore(c.checkpoint());
      const err = await d.runStep().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(NaNLossError);
      expect((err as NaNLossError).step).toBe(3);
      const after = await snapshot(ctx, p2);
      for (const [i, s] of resumed.entries()) expect(Array.from(after[i]!)).toEqual(Array.from(s));
      for (const t of [a, b, c, d]) t.destroy();
    } finally {
      destroyCidmParams(ctx, p1);
      destroyCidmParams(ctx, p2);
      m.destroy();
    }
  }, 900_000);
});
