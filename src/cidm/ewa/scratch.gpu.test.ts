import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { testContext } from '../../../tests/gpu-harness';
import { loadModelFolder } from '../../golden/training/model-folder';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { textEncoderForward } from '../../model/text-encoder/forward';
import { EwaLibrary } from './ewa';
import { syntheticConcepts } from './synthetic';
const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
const tokenizer = (sub: string) => { const r = (f: string) => readFileSync(join(DIR, sub, f), 'utf8'); return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json'))); };
it('scratch', async () => {
  const ctx = await testContext();
  const model = await loadModelFolder(ctx, DIR, 'f32');
  const concepts = syntheticConcepts(model.unet.arch, [32, 48], 3, { seed: 77 });
  let t0 = performance.now();
  const lib = await EwaLibrary.create(ctx, model, [tokenizer('tokenizer'), tokenizer('tokenizer_2')], concepts);
  await ctx.flush(); console.log('create', performance.now() - t0);
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    const p = await lib.encodePrompt('a photo of <s2_1> <s2_2> on a table');
    await ctx.flush(); console.log('encode', performance.now() - t0);
  }
  const ids = Array.from({ length: 28 * 77 }, (_, i) => (i % 77 === 0 ? 49406 : 320));
  for (const [k, o] of [[0, { layers: 2, hiddenStates: [2], final: false }], [1, { layers: 3, hiddenStates: [3], final: false }], [1, { hiddenStates: [3], pooling: 'eos' }]] as const) {
    for (let i = 0; i < 2; i++) {
      t0 = performance.now();
      await textEncoderForward(ctx, model.encoders[k]!, ids, o as never);
      await ctx.flush(); console.log('te', k, JSON.stringify(o), performance.now() - t0);
    }
  }
}, 600000);
