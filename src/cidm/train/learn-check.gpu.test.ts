import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { loadModelFolder } from '../../golden/training/model-folder';
import { runLearnCheck } from './learn-check';
import type { NoiseScheduleConfig } from './noising';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));

/** The short form of `npm run learn-check`: the held-out loss must fall clearly in a dozen steps (learning rates raised for a tiny random model). */
describe('the learning is real (tiny SDXL, synthetic concept)', () => {
  const dtype = TEST_ADAPTER === 'lavapipe' ? 'f16' : 'f32';
  it(`masked held-out loss falls, tokens and LoRA move (${dtype})`, async () => {
    const ctx = await testContext();
    const model = await loadModelFolder(ctx, DIR, dtype);
    const tok = (sub: string) => {
      const r = (f: string) => readFileSync(join(DIR, sub, f), 'utf8');
      return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
    };
    const schedule = JSON.parse(readFileSync(join(DIR, 'scheduler/scheduler_config.json'), 'utf8')) as NoiseScheduleConfig;
    try {
      const t0 = performance.now();
      const r = await runLearnCheck(ctx, model, [tok('tokenizer'), tok('tokenizer_2')], schedule, { steps: 12, photos: 2, evalDraws: 2, lrLora: 3e-3, lrTokens: 3e-2, checkpointing: false });
      console.log(`[learn-check ${dtype}] before ${r.before.toFixed(4)} after ${r.after.toFixed(4)} fell ${(100 * r.fall).toFixed(1)}% tokens ±${r.tokenChange.toExponential(2)} lora ±${r.loraChange.toExponential(2)} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      expect(r.steps.every((s) => Number.isFinite(s.loss))).toBe(true);
      expect(r.fall).toBeGreaterThan(0.2);
      expect(r.tokenChange).toBeGreaterThan(1e-3);
      expect(r.loraChange).toBeGreaterThan(1e-3);
    } finally {
      model.destroy();
    }
  }, 900_000);
});
