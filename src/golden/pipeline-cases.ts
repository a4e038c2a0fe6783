/**
 * Pipeline golden cases (any name; SDXL or SD-1.5 family, the model folder's configs say which): the whole text-to-image path
 * (tokenizers → both text encoders → UNet loop with CFG → scheduler → VAE decode) loaded by the
 * studio's own loader (engine/sdxl-model.ts) from the set's diffusers folder, run on the case's
 * init_latents. Checked: the conditioning the UNet sees (encoder_hidden_states, text_embeds, time_ids,
 * timesteps, init_noise_sigma), every step's UNet input, UNet output, guided prediction and latents,
 * the VAE output and the final image.
 *
 * Tolerances (golden/README.md "Tolerance advice"): latents compound over steps and reach |x| ≈ 50 in
 * the random model, so per-step tensors are compared relative to their scale with the network
 * tolerance; the image ([0, 1]) with the op tolerance in f32 (README: atol 2e-3) and the network one
 * in f16.
 */
import { join } from 'node:path';
import { NodeModelFiles } from '../model/node-model-files';
import { loadSdxlModel, type LoadedSdxlModel } from '../engine/sdxl-model';
import { textToImage, type ConditioningRecord, type StepRecord, type TextToImageParams } from '../diffusion/text-to-image';
import type { SchedulerKind } from '../diffusion/schedulers';
import type { GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

/** Per env, per model folder (a set may hold an SDXL and an SD-1.5-family model). */
const loaded = new WeakMap<GoldenEnv, Map<string, Promise<LoadedSdxlModel>>>();

function model(env: GoldenEnv, folder: string): Promise<LoadedSdxlModel> {
  let byFolder = loaded.get(env);
  if (!byFolder) loaded.set(env, (byFolder = new Map()));
  let m = byFolder.get(folder);
  if (!m) {
    m = loadSdxlModel(env.ctx, new NodeModelFiles(join(env.dir, folder), folder), { dtype: env.dtype, packWeights: env.packWeights });
    byFolder.set(folder, m);
  }
  return m;
}

interface Call {
  prompt: string;
  negative_prompt?: string;
  num_inference_steps: number;
  guidance_scale: number;
  original_size?: [number, number];
  crops_coords_top_left?: [number, number];
  target_size?: [number, number];
}

function exact(name: string, actual: readonly number[], expected: ArrayLike<number>): CaseResult {
  const same = actual.length === expected.length && actual.every((v, i) => v === expected[i]);
  return { name, status: same ? 'PASS' : 'FAIL', maxAbs: same ? 0 : Infinity, maxRel: same ? 0 : Infinity, tol: 0, why: same ? undefined : `got [${actual.join(', ')}]` };
}

/** [3, H, W] → [H, W, 3] like the pipeline's output_type='np'. */
function toNhwc(chw: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(chw.length);
  for (let c = 0; c < 3; c++) for (let p = 0; p < h * w; p++) out[p * 3 + c] = chw[c * h * w + p]!;
  return out;
}

export async function pipelineCase(env: GoldenEnv, c: GoldenCase, kind: SchedulerKind, folder = 'models'): Promise<CaseResult[]> {
  const call = c.entry.call as Call;
  const m = await model(env, folder);
  // an ancestral sampler's per-step noise, given in place of torch.randn ([steps, …latent])
  const stepNoiseName = ['input.step_noise', 'step_noise', 'input.noise'].find((n) => c.has(n));
  const [, height, width] = c.shape('output.image') as [number, number, number, number];
  const params: TextToImageParams = {
    prompt: call.prompt,
    negativePrompt: call.negative_prompt ?? '',
    width,
    height,
    steps: call.num_inference_steps,
    guidanceScale: call.guidance_scale,
    scheduler: kind,
    seed: 0,
    micro: { originalSize: call.original_size, cropsTopLeft: call.crops_coords_top_left, targetSize: call.target_size },
    initLatents: await c.f32('input.init_latents'),
    ...(stepNoiseName ? { stepNoise: await c.f32(stepNoiseName) } : {}),
    // the goldens come from diffusers 0.25.1, whose DPM-Solver ends at sigma(0), not the studio's default 0
    dpmFinalSigma: 'sigma_min',
  };
  const net = env.tol('network');
  const r: CaseResult[] = [];
  const name = (t: string) => `${c.name}[${t}]`;
  const seen: { cond?: ConditioningRecord; decoded?: Float32Array } = {};
  const steps: StepRecord[] = [];
  const out = await textToImage(m.parts, params, {
    previewEvery: 0,
    observer: { conditioning: (x) => (seen.cond = x), step: (s) => steps.push(s), decoded: (d) => (seen.decoded = d) },
  });
  const { cond: cd, decoded } = seen;
  if (!cd || !decoded) throw new Error('the pipeline did not report its conditioning or decode');
  // every tensor the case holds is compared; one it lacks is simply not checked
  if (c.has('timesteps')) r.push(exact(name('timesteps'), cd.timesteps, await c.f32('timesteps')));
  if (c.has('init_noise_sigma')) r.push(measure(name('init_noise_sigma'), [cd.initNoiseSigma], await c.f32('init_noise_sigma'), 1e-6));
  // the SD-1.5 family's UNet has no added embedding: its cases carry no time ids or text_embeds
  if (c.has('unet.time_ids')) r.push(exact(name('unet.time_ids'), cd.timeIds, await c.f32('unet.time_ids')));
  if (c.has('unet.encoder_hidden_states')) r.push(measure(name('unet.encoder_hidden_states'), cd.encoderHiddenStates, await c.f32('unet.encoder_hidden_states'), net));
  if (c.has('unet.text_embeds')) r.push(measure(name('unet.text_embeds'), cd.textEmbeds, await c.f32('unet.text_embeds'), net));

  const per = async (tensor: string, pick: (s: StepRecord) => Float32Array) => {
    if (!c.has(tensor)) return;
    const all = await c.f32(tensor);
    const n = all.length / steps.length;
    for (const s of steps) r.push(measure(name(`${tensor}.${s.step}`), pick(s), all.subarray(s.step * n, (s.step + 1) * n), net));
  };
  // one UNet call per scheduler timestep: num_inference_steps for most samplers, one more for PNDM (PLMS repeats t_{n-2})
  if (steps.length !== cd.timesteps.length) throw new Error(`ran ${steps.length} steps, expected ${cd.timesteps.length} (num_inference_steps ${call.num_inference_steps})`);
  await per('unet.sample_per_step', (s) => s.modelInput);
  await per('unet.noise_pred_per_step', (s) => s.noisePred);
  await per('guided_noise_pred_per_step', (s) => s.guided);
  await per('latents_after_step', (s) => s.latentsAfter);
  if (c.has('vae.decode_output')) r.push(measure(name('vae.decode_output'), decoded, await c.f32('vae.decode_output'), net));
  r.push(measure(name('output.image'), toNhwc(out.image, height, width), await c.f32('output.image'), env.mode === 'f32' ? 2e-3 : net));
  return r;
}
