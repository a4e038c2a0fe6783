/**
 * The SD-1.5 family end to end (issue 12 point 2) on a tiny model generated at test time
 * (tiny-sd15.fixture.ts: random UNet weights without the addition embedding, golden/models' CLIP-L-shaped
 * text encoder, VAE at scale 0.18215, SD-1.5's PNDM scheduler config), through the studio's loader and
 * the same loop as SDXL:
 *  - its configs make the 'sd15' family (pipeline-family.ts) and a PNDM run gives a real image;
 *  - the conditioning the UNet sees is what StableDiffusionPipeline.encode_prompt computes, derived
 *    here in plain TS (clip-text.reference.ts): [uncond, cond] = last_hidden_state of "" and of the
 *    prompt (the absent negative is the empty string encoded, not zeros), and the VAE decodes
 *    latents / 0.18215 (the VAE config's scaling_factor);
 *  - the same weights as one LDM single file load through the single-file path and give the same
 *    image bit for bit (F32 both ways).
 * Tolerance for the encoder: 1e-4 of the states' range in f32 (README: whole networks 1e-4), 1e-2 on
 * the f16 path.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison } from '../../tests/numeric';
import { textToImage, type ConditioningRecord, type SdxlPipelineParts, type TextToImageParams } from '../diffusion/text-to-image';
import { NodeModelFiles, NodeSingleFileModelFiles } from '../model/node-model-files';
import { clipTextReference } from '../model/text-encoder/clip-text.reference';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { loadF32Safetensors } from '../model/weights/tiny-single-file.fixture';
import { SD15_VAE_SCALE, writeTinySd15Folder, writeTinySd15SingleFile } from '../model/weights/tiny-sd15.fixture';
import { loadSdxlModel, type LoadedSdxlModel } from './sdxl-model';

const PARAMS: TextToImageParams = { prompt: 'a photo of a red mug on a table', width: 48, height: 32, steps: 4, guidanceScale: 6, scheduler: 'pndm', seed: 11 };

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let folderDir: string | undefined;
const folder = () => {
  if (!folderDir) dirs.push((folderDir = writeTinySd15Folder()));
  return folderDir;
};

async function withModel<T>(files: NodeModelFiles | NodeSingleFileModelFiles, fn: (m: LoadedSdxlModel, dtype: 'f16' | 'f32') => Promise<T>): Promise<T> {
  const ctx = await testContext();
  const dtype = ctx.hasF16 ? 'f16' : 'f32';
  const m = await checked(ctx, 'load', () => loadSdxlModel(ctx, files, { dtype }));
  try {
    return await fn(m, dtype);
  } finally {
    m.destroy();
  }
}

describe(`SD-1.5 family end to end (${TEST_ADAPTER})`, () => {
  let folderImage: Float32Array | undefined;

  it('the configs make an SD-1.5 pipeline; the conditioning is last_hidden_state of "" and the prompt, decoded at 1/0.18215', async () => {
    const dir = folder();
    await withModel(new NodeModelFiles(dir, 'tiny-sd15'), async (m, dtype) => {
      expect(m.family).toBe('sd15');
      expect(m.parts.forceZerosForEmptyPrompt).toBe(false);
      expect(m.parts.vaeScalingFactor).toBe(SD15_VAE_SCALE);
      const ctx = m.parts.ctx;
      const decodedInputs: Float32Array[] = [];
      const parts: SdxlPipelineParts = {
        ...m.parts,
        decode: async (z, signal, o) => {
          decodedInputs.push(await ctx.read(z));
          return m.parts.decode(z, signal, o);
        },
        // the loop decodes straight to the host when the parts can (one read of the image)
        ...(m.parts.decodeToHost
          ? {
              decodeToHost: async (z: Parameters<NonNullable<SdxlPipelineParts['decodeToHost']>>[0], signal?: AbortSignal, o?: { lowMemory?: boolean }) => {
                decodedInputs.push(await ctx.read(z));
                return m.parts.decodeToHost!(z, signal, o);
              },
            }
          : {}),
      };
      let cond: ConditioningRecord | undefined;
      const out = await checked(ctx, 'textToImage', () => textToImage(parts, PARAMS, { previewEvery: 0, observer: { conditioning: (c) => (cond = c) } }));
      folderImage = out.image;
      expect(out.image.every(Number.isFinite)).toBe(true);
      expect(out.image.some((v) => Math.abs(v - out.image[0]!) > 1e-3)).toBe(true); // a real image, not a constant
      // PNDM (PLMS): steps + 1 UNet calls
      expect(cond!.timesteps).toEqual([751, 501, 501, 251, 1]);

      // the plain-TS derivation of encode_prompt
      const tc = JSON.parse(readFileSync(join(dir, 'text_encoder/config.json'), 'utf8')) as { hidden_size: number; num_attention_heads: number; num_hidden_layers: number; layer_norm_eps: number; hidden_act: 'quick_gelu' | 'gelu' };
      const tok = ClipTokenizer.fromFiles(
        readFileSync(join(dir, 'tokenizer/vocab.json'), 'utf8'),
        readFileSync(join(dir, 'tokenizer/merges.txt'), 'utf8'),
        ClipTokenizer.configFromJson(readFileSync(join(dir, 'tokenizer/tokenizer_config.json'), 'utf8')),
      );
      const w = loadF32Safetensors(join(dir, 'text_encoder/model.safetensors'));
      const rc = { hidden: tc.hidden_size, heads: tc.num_attention_heads, layers: tc.num_hidden_layers, eps: tc.layer_norm_eps, act: tc.hidden_act };
      const uncond = clipTextReference(w, rc, tok.tokenize77('').ids);
      const condRef = clipTextReference(w, rc, tok.tokenize77(PARAMS.prompt).ids);
      const want = new Float64Array([...uncond, ...condRef]);
      const got = cond!.encoderHiddenStates;
      expect(got.length).toBe(2 * 77 * tc.hidden_size);
      const cmp = compare(got, want);
      console.log(`[sd15 ${TEST_ADAPTER}] encoder_hidden_states vs plain TS: ${describeComparison(cmp)}`);
      expect(cmp.maxRel).toBeLessThanOrEqual(dtype === 'f32' ? 1e-4 : 1e-2);
      // not zeros: the empty negative's states are CLIP's output for ""
      expect(got.subarray(0, 77 * tc.hidden_size).some((v) => Math.abs(v) > 0.1)).toBe(true);

      // the VAE decodes latents / scaling_factor: PNDM runs the GPU loop, which scales the latents on the
      // GPU by the reciprocal, so in f32 the two sides may be one rounding apart (2⁻²³ ≈ 1.2e-7)
      expect(decodedInputs).toHaveLength(1);
      const scaled = out.latents.map((v) => v / SD15_VAE_SCALE);
      expect(compare(decodedInputs[0]!, scaled).maxRel).toBeLessThanOrEqual(dtype === 'f32' ? 2.4e-7 : 1e-3);
    });
  }, 300_000); // the first run compiles every kernel

  it('the same weights as an LDM single file give the same image', async () => {
    const { dir, file } = writeTinySd15SingleFile();
    dirs.push(dir);
    const image = await withModel(new NodeSingleFileModelFiles(file), async (m) => {
      expect(m.family).toBe('sd15');
      return (await checked(m.parts.ctx, 'textToImage', () => textToImage(m.parts, PARAMS, { previewEvery: 0 }))).image;
    });
    expect(folderImage).toBeDefined();
    expect(image).toEqual(folderImage);
  }, 300_000);
});
