/**
 * The CIDM task loop (spec §9.1): per step one example, seeded noise and timestep (noise offset
 * 0.01), the step's forward and backward (cidm-step.ts), the masked or plain ε-MSE, the consolidation
 * loss against every earlier task's ups (from the second task on), AdamW with the two parameter groups
 * and the linear learning-rate decay, and the token-norm early stop.
 *
 * Everything a step draws comes from (seed, step), so a run resumed from a checkpoint at step k
 * continues exactly as the uninterrupted run would (checkpoint(): params, optimizer moments, step
 * counters, the early stop's state). A loss that is not finite stops the run with NaNLossError before
 * the optimizer step, so the parameters keep the last good state.
 */
import type { GpuContext } from '../../gpu/context';
import { NoiseStream } from '../../diffusion/rng';
import { AdamW, type ParamGroup } from './adamw';
import { tokenName, type CidmParams } from './cidm-params';
import { cidmBackward, cidmForward, type CidmModel } from './cidm-step';
import { ConsolidationLoss, type OldTaskUps, type R1Form } from './consolidation';
import { epsMse, maskedEpsMse, prepareLossMask } from './diffusion-loss';
import { assertFiniteLoss } from './errors';
import { linearDecayLr } from './lr-schedule';
import { CIDM_NOISE_OFFSET, DdpmNoiser, drawTrainingNoise, type NoiseScheduleConfig } from './noising';
import { EMB_NORM_THRESHOLD, TokenNormStop } from './token-norm';
import { upName } from './cidm-params';

export interface TrainingExample {
  /** VAE latents (already scaled) [C, h, w] of one (augmented) photo. */
  latents: Float32Array;
  /** Loss mask [h, w] in [0, 1] at latent resolution, or none (plain ε-MSE). */
  mask?: Float32Array;
  /** The caption's ids per text encoder (77 each), placeholder j as vocab_size + j. */
  ids: readonly (readonly number[])[];
  /** SDXL micro-conditioning (orig_h, orig_w, crop_top, crop_left, target_h, target_w). */
  timeIds?: readonly number[];
}

export interface TrainerConfig {
  steps: number;
  seed: number;
  lrLora?: number;
  lrTokens?: number;
  weightDecay?: number;
  noiseOffset?: number;
  gamma?: number;
  r1Form?: R1Form;
  tokenNormThreshold?: number;
  /** Latent shape [C, h, w] shared by the examples. */
  latentShape: readonly [number, number, number];
  schedule: NoiseScheduleConfig;
  /** f16 backward: dL/dε̂ is multiplied by this and the gradients divided by it (default 1024 in f16). */
  lossScale?: number;
  checkpointing?: boolean;
}

export interface StepReport {
  /** 1-based number of the step just done. */
  step: number;
  loss: number;
  diffusion: number;
  consolidation: number;
  lrLora: number;
  tokensFrozen: boolean;
  tokenNorm: number | null;
}

export interface TrainerCheckpoint {
  step: number;
  tokensFrozen: boolean;
  tokensFrozenAt: number | null;
  adamSteps: Record<string, number>;
}

export class CidmTrainer {
  private readonly adam: AdamW;
  private readonly consolidation: ConsolidationLoss;
  private readonly noiser: DdpmNoiser;
  private readonly stop: TokenNormStop;
  /** Completed steps. */
  step = 0;

  constructor(
    private readonly ctx: GpuContext,
    private readonly model: CidmModel,
    readonly params: CidmParams,
    oldTasks: readonly OldTaskUps[],
    private readonly examples: readonly TrainingExample[],
    readonly config: TrainerConfig,
  ) {
    if (!examples.length) throw new RangeError('training needs at least one example');
    if (!Number.isInteger(config.steps) || config.steps < 1) throw new RangeError(`steps ${config.steps} must be a positive integer`);
    const wd = config.weightDecay ?? 0.01;
    const groups: ParamGroup[] = [
      { name: 'lora', params: params.lora, lr: config.lrLora ?? 1e-4, weightDecay: wd },
      { name: 'tokens', params: params.tokens, lr: config.lrTokens ?? 1e-3, weightDecay: wd },
    ];
    this.adam = new AdamW(groups);
    const ups = params.shape.targets.map((t) => upName(t.module));
    this.consolidation = ConsolidationLoss.create(ctx, params.lora, ups, oldTasks, { gamma: config.gamma ?? 0.1, r1Form: config.r1Form ?? 'code' });
    this.noiser = new DdpmNoiser(config.schedule);
    this.stop = new TokenNormStop(config.tokenNormThreshold ?? EMB_NORM_THRESHOLD);
  }

  get done(): boolean {
    return this.step >= this.config.steps;
  }

  /** Which example step k trains on: a seeded draw, independent of earlier steps (resumable). */
  exampleOf(k: number): TrainingExample {
    const r = new NoiseStream(this.config.seed, 0x50000000 + k);
    return this.examples[Math.floor(r.uniform() * this.examples.length) % this.examples.length]!;
  }

  async runStep(): Promise<StepReport> {
    const ctx = this.ctx;
    const k = this.step;
    const [C, h, w] = this.config.latentShape;
    const ex = this.exampleOf(k);
    const draw = drawTrainingNoise(this.config.seed, k, [1, C, h, w], this.noiser.numTrainTimesteps, this.config.noiseOffset ?? CIDM_NOISE_OFFSET);
    const noisyHost = this.noiser.addNoise(ex.latents, draw.noise, 1, draw.timesteps);
    const dtype = this.model.dtype;
    const lossScale = this.config.lossScale ?? (dtype === 'f16' ? 1024 : 1);

    await this.params.lora.zeroGrads(ctx);
    await this.params.tokens.zeroGrads(ctx);
    const noisy = ctx.upload(noisyHost, [1, C, h, w], dtype, 'noisy latents');
    const target = ctx.upload(draw.noise, [1, C, h, w], dtype, 'noise target');
    const f = await cidmForward(ctx, this.model, this.params, { noisy, timesteps: draw.timesteps, timeIds: ex.timeIds, ids: ex.ids }, { lossScale, checkpointing: this.config.checkpointing });
    f.tape.release(noisy);
    const mask = ex.mask ? prepareLossMask(ctx, ex.mask, [1, 1, h, w]) : null;
    const loss = mask ? await maskedEpsMse(ctx, f.pred.t, target, mask, { gradScale: lossScale }) : await epsMse(ctx, f.pred.t, target, { gradScale: lossScale });
    ctx.release(target);
    if (mask) ctx.release(mask.tensor);
    await cidmBackward(ctx, f, loss.grad);
    const reg = await this.consolidation.apply(ctx);
    const diffusion = (await ctx.read(loss.loss))[0]!;
    ctx.release(loss.loss);
    const total = assertFiniteLoss(diffusion + reg.total, k + 1, 'training loss');

    const lrOf = (g: ParamGroup) => linearDecayLr(g.lr, k, this.config.steps);
    await this.adam.step(ctx, lrOf, { skip: this.stop.frozen ? new Set(['tokens']) : new Set() });
    this.step = k + 1;
    let tokenNorm: number | null = null;
    if (!this.stop.frozen) {
      const tables = await Promise.all(this.model.encoders.map(async (te, e) => ({ data: await this.params.tokens.read(ctx, 'param', tokenName(e)), dim: te.config.hiddenSize })));
      this.stop.observe(this.step, tables);
      tokenNorm = this.stop.lastNorm;
    }
    return { step: this.step, loss: total, diffusion, consolidation: reg.total, lrLora: lrOf(this.adam.groups[0]!), tokensFrozen: this.stop.frozen, tokenNorm };
  }

  checkpoint(): TrainerCheckpoint {
    return { step: this.step, tokensFrozen: this.stop.frozen, tokensFrozenAt: this.stop.frozenAtStep, adamSteps: Object.fromEntries(this.adam.completed) };
  }

  /** Continues from a checkpoint (the params and moments were written back into `params` by the caller). */
  restore(c: TrainerCheckpoint): void {
    this.step = c.step;
    this.stop.frozen = c.tokensFrozen;
    this.stop.frozenAtStep = c.tokensFrozenAt;
    for (const [g, n] of Object.entries(c.adamSteps)) this.adam.completed.set(g, n);
  }

  destroy(): void {
    this.consolidation.destroy(this.ctx);
  }
}
