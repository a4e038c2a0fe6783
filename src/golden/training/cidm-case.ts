/**
 * The `cidm` group of a training golden set: one whole CIDM training step (golden-training README,
 * "The CIDM step"), spread over several case files that the runner merges into one tensor lookup.
 * Everything is read from the content: the model folder from `cidm_spec.model.path`, the rank, layer
 * count, placeholder count and token widths from the `param.*` shapes, the earlier tasks from the
 * `old_task.<i>.` prefixes, the learning rates from `cidm_spec.optimizer`, the noise schedule from the
 * model's scheduler config. A tensor the set does not have is not compared; nothing is assumed about
 * names beyond the golden convention (param./grad./grad_masked./grad_reg./adamw[_masked].*).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import type { SchedulerConfig } from '../../diffusion/schedulers/common';
import { AdamW, type ParamGroup } from '../../cidm/train/adamw';
import { cidmShape, createCidmParams, destroyCidmParams, tokenName, upName, type CidmParams } from '../../cidm/train/cidm-params';
import { cidmBackward, cidmForward, type CidmModel } from '../../cidm/train/cidm-step';
import { ConsolidationLoss, type OldTaskUps } from '../../cidm/train/consolidation';
import { epsMse, maskedEpsMse, prepareLossMask } from '../../cidm/train/diffusion-loss';
import { DdpmNoiser } from '../../cidm/train/noising';
import { measure, type CaseResult } from '../result';
import { loadModelFolder } from './model-folder';

/** What the runner hands the group: every tensor of its cases, and the manifest's cidm_spec. */
export interface CidmGroupView {
  /** Prefix of every result line (the group's first case name). */
  name: string;
  has(tensor: string): boolean;
  shape(tensor: string): number[];
  f32(tensor: string): Promise<Float32Array>;
  /** Integer tensors (I64 ids, timesteps) as numbers. */
  ints(tensor: string): Promise<number[]>;
  names(): string[];
  spec: CidmSpecJson;
  /** The set's directory (the model path is relative to it). */
  dir: string;
}

export interface CidmSpecJson {
  model?: { path?: string };
  lora?: { alpha?: number };
  losses?: Record<string, string>;
  optimizer?: {
    param_groups?: { params: string; lr: number }[];
    betas?: [number, number];
    eps?: number;
    weight_decay?: number;
  };
}

/**
 * Tolerances (max |Δ| / max |reference| per tensor). f32: the reference's own fp32-vs-fp64 noise is
 * ≤ 1.6e-6 on the gradient groups; ours adds the kernels' different summation order over a whole
 * network and its backward, so 1e-3 per tensor (a small tensor's max is a small scale). f16 storage:
 * every activation of the forward and the backward is rounded to 11 bits, through two text encoders and
 * a UNet and back: 5e-2.
 */
export const CIDM_TOLERANCE: Record<DType, { forward: number; grad: number; adamw: number }> = {
  f32: { forward: 1e-4, grad: 1e-3, adamw: 1e-3 },
  f16: { forward: 2e-2, grad: 5e-2, adamw: 5e-2 },
};

function gammaOf(spec: CidmSpecJson): number {
  const m = /([0-9.e-]+)\s*\*\s*R1/.exec(spec.losses?.total ?? '');
  return m ? Number(m[1]) : 0.1;
}

export async function cidmGroupCase(ctx: GpuContext, dtype: DType, g: CidmGroupView): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const tol = CIDM_TOLERANCE[dtype];
  const cmp = async (tensor: string, actual: ArrayLike<number>, t: number) => {
    if (g.has(tensor)) results.push(measure(`${g.name}[${tensor}]`, actual, await g.f32(tensor), t));
  };
  const modelDir = join(g.dir, g.spec.model?.path ?? 'models');
  const model = await loadModelFolder(ctx, modelDir, dtype);
  const names = g.names();

  // Shapes from the parameters themselves.
  // Golden names: token_embeds_<k> per encoder (a single-encoder set may say token_embeds), input_ids_<k>.
  const tokenTensor = (k: number) => (g.has(`param.${tokenName(k)}`) || k > 0 || !g.has('param.token_embeds') ? tokenName(k) : 'token_embeds');
  const idsTensor = (k: number) => (g.has(`input.input_ids_${k + 1}`) || k > 0 || !g.has('input.input_ids') ? `input.input_ids_${k + 1}` : 'input.input_ids');
  const tokenShapes = model.encoders.map((_, k) => g.shape(`param.${tokenTensor(k)}`));
  const [L, P] = tokenShapes[0]! as [number, number, number];
  const anyDown = names.find((n) => n.startsWith('param.') && n.endsWith('.lora_down.weight'));
  if (!anyDown) throw new Error('the cidm group has no param.*.lora_down.weight');
  const rank = g.shape(anyDown)[0]!;
  const shape = cidmShape(model.unet.arch, P, rank, tokenShapes.map((s) => s[2]!));
  if (shape.layers !== L) throw new Error(`the set has tokens for ${L} layers, the model has ${shape.layers} cross-attention layers`);
  const params = createCidmParams(ctx, shape);
  const loraAlpha = g.spec.lora?.alpha ?? 1;
  const alias = new Map(model.encoders.map((_, k) => [tokenName(k), tokenTensor(k)]));
  const oldIdx = [...new Set(names.map((n) => /^old_task\.(\d+)\./.exec(n)?.[1]).filter((x): x is string => x !== undefined))].sort((a, b) => +a - +b);
  const upNames = shape.targets.map((t) => upName(t.module));
  const oldTasks: OldTaskUps[] = [];
  for (const i of oldIdx) oldTasks.push(new Map(await Promise.all(upNames.map(async (u) => [u, await g.f32(`old_task.${i}.${u}`)] as const))));
  const consolidation = ConsolidationLoss.create(ctx, params.lora, upNames, oldTasks, { gamma: gammaOf(g.spec) });

  const unalias = (golden: string) => [...alias].find(([, a]) => a === golden)?.[0] ?? golden;
  try {
    // Noising (DDPM add_noise with the model's training schedule).
    const schedPath = join(modelDir, 'scheduler/scheduler_config.json');
    // diffusers' DDPM defaults for SD-family models when the folder has no scheduler config.
    const sched = (existsSync(schedPath)
      ? JSON.parse(readFileSync(schedPath, 'utf8'))
      : { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }) as SchedulerConfig;
    const noiser = new DdpmNoiser(sched);
    const x0 = await g.f32('input.x0');
    const noise = await g.f32('input.noise');
    const timesteps = await g.ints('input.timesteps');
    const B = g.shape('input.x0')[0]!;
    await cmp('intermediate.alphas_cumprod_t', timesteps.map((t) => noiser.alphasCumprod[t]!), tol.forward);
    const noisyHost = noiser.addNoise(x0, noise, B, timesteps);
    await cmp('intermediate.noisy_latents', noisyHost, tol.forward);
    const latentShape = g.shape('input.x0');
    const ids = await Promise.all(model.encoders.map((_, k) => g.ints(idsTensor(k))));
    const timeIds = g.has('input.time_ids') ? Array.from(await g.f32('input.time_ids')) : undefined;

    const variants: { masked: boolean; grad: string; adamw: string; total: string }[] = [
      { masked: false, grad: 'grad', adamw: 'adamw', total: 'loss.total' },
      ...(g.has('input.mask') ? [{ masked: true, grad: 'grad_masked', adamw: 'adamw_masked', total: 'loss.total_masked' }] : []),
    ];
    for (const [vi, v] of variants.entries()) {
      await writeParams(ctx, g, params, alias);
      await params.lora.zeroGrads(ctx);
      await params.tokens.zeroGrads(ctx);
      const noisy = ctx.upload(noisyHost, latentShape, dtype, 'noisy latents');
      const target = ctx.upload(noise, latentShape, dtype, 'noise target');
      // f16: the same static loss scale as the trainer, so the backward's small gradients stay normal.
      const lossScale = dtype === 'f16' ? 1024 : 1;
      const f = await cidmForward(ctx, model as CidmModel, params, { noisy, timesteps, timeIds, ids }, { lossScale, loraAlpha });
      if (vi === 0) {
        await cmp('intermediate.encoder_hidden_states', await ctx.read(f.states.t), tol.forward);
        if (f.pooled) await cmp('intermediate.text_embeds', await ctx.read(f.pooled.t), tol.forward);
        await cmp('intermediate.model_pred', await ctx.read(f.pred.t), tol.forward);
      }
      const mask = v.masked ? prepareLossMask(ctx, await g.f32('input.mask'), g.shape('input.mask')) : null;
      const loss = mask ? await maskedEpsMse(ctx, f.pred.t, target, mask, { gradScale: lossScale }) : await epsMse(ctx, f.pred.t, target, { gradScale: lossScale });
      const diffusion = (await ctx.read(loss.loss))[0]!;
      ctx.release(loss.loss, noisy, target);
      if (mask) ctx.release(mask.tensor);
      await cidmBackward(ctx, f, loss.grad);
      const reg = await consolidation.apply(ctx);
      await cmp(v.masked ? 'loss.diffusion_masked' : 'loss.diffusion', [diffusion], tol.forward);
      if (vi === 0 && reg.active) {
        await cmp('loss.R1_code', [reg.r1Code], tol.forward);
        await cmp('loss.R1_paper', [reg.r1Paper], tol.forward);
        await cmp('loss.enhan', [reg.enhan], tol.forward);
      }
      await cmp(v.total, [diffusion + reg.total], tol.forward);
      for (const n of names.filter((x) => x.startsWith(`${v.grad}.`))) await cmp(n, await readParam(ctx, params, unalias(n.slice(v.grad.length + 1)), 'grad'), tol.grad);
      await adamwStep(ctx, g.spec, params);
      for (const n of names.filter((x) => x.startsWith(`${v.adamw}.`))) {
        const [, slot, ...rest] = n.split('.');
        const s = slot === 'param' ? 'param' : slot === 'exp_avg' ? 'expAvg' : 'expAvgSq';
        await cmp(n, await readParam(ctx, params, unalias(rest.join('.')), s), tol.adamw);
      }
    }
    // The consolidation gradient alone (grad_reg.*): from the initial ups, zero diffusion gradient.
    if (names.some((n) => n.startsWith('grad_reg.'))) {
      await writeParams(ctx, g, params, alias);
      await params.lora.zeroGrads(ctx);
      await consolidation.apply(ctx);
      for (const n of names.filter((x) => x.startsWith('grad_reg.'))) await cmp(n, await readParam(ctx, params, n.slice('grad_reg.'.length), 'grad'), tol.forward * 10);
    }
  } finally {
    consolidation.destroy(ctx);
    destroyCidmParams(ctx, params);
    model.destroy();
  }
  return results;
}

async function writeParams(ctx: GpuContext, g: CidmGroupView, p: CidmParams, alias: ReadonlyMap<string, string>): Promise<void> {
  for (const group of [p.lora, p.tokens]) {
    await group.resetMoments(ctx);
    for (const name of group.layout.names) group.write(ctx, 'param', name, await g.f32(`param.${alias.get(name) ?? name}`));
  }
}

function readParam(ctx: GpuContext, p: CidmParams, name: string, slot: 'param' | 'grad' | 'expAvg' | 'expAvgSq'): Promise<Float32Array> {
  const group = p.lora.layout.entries.has(name) ? p.lora : p.tokens;
  return group.read(ctx, slot, name);
}

/** One fresh AdamW step with the set's parameter groups (tokens: the group whose params name them). */
async function adamwStep(ctx: GpuContext, spec: CidmSpecJson, p: CidmParams): Promise<void> {
  const o = spec.optimizer ?? {};
  const groups = o.param_groups ?? [];
  const lrFor = (tokens: boolean) => groups.find((x) => /token/i.test(x.params) === tokens)?.lr ?? (tokens ? 1e-3 : 1e-4);
  const wd = o.weight_decay ?? 0.01;
  const pg: ParamGroup[] = [
    { name: 'lora', params: p.lora, lr: lrFor(false), weightDecay: wd },
    { name: 'tokens', params: p.tokens, lr: lrFor(true), weightDecay: wd },
  ];
  await new AdamW(pg, { betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8 }).step(ctx);
}

