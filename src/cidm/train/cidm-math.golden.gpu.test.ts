/**
 * The CIDM step's optimizer and loss math against the training golden set (golden-training/README.md,
 * "The CIDM step" items 5-7; manifest cidm_spec): consolidation values and gradient, one AdamW step of
 * both parameter groups, the noising, and the diffusion losses. Cases, modules, earlier tasks and
 * groups are found from the tensors present and the manifest, never from constants.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison } from '../../../tests/numeric';
import {
  caseFileWith, GOLDEN_MODELS_DIR, need, readTrainingManifest, readTrainingSafetensors, type TrainingTensor,
} from '../../../tests/cidm-training-golden';
import type { GpuContext } from '../../gpu/context';
import { roundToF16 } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { adamwScalars, adamwStep, type AdamWHyper } from './adamw';
import { adamwReference } from './adamw.reference';
import { ConsolidationLoss } from './consolidation';
import { epsMse, maskedEpsMse, prepareLossMask } from './diffusion-loss';
import { FlatLayout, FlatParams, type FlatSlot } from './flat-params';
import { DdpmNoiser, type NoiseScheduleConfig } from './noising';

const GROUP = 'cidm';
const manifest = readTrainingManifest();
const inputs = readTrainingSafetensors(caseFileWith(manifest, GROUP, 'param.'));
const grads = readTrainingSafetensors(caseFileWith(manifest, GROUP, 'grad_reg.'));
const adamw = readTrainingSafetensors(caseFileWith(manifest, GROUP, 'adamw.'));
const forward = readTrainingSafetensors(caseFileWith(manifest, GROUP, 'intermediate.model_pred'));
const spec = manifest.cidm_spec.optimizer;

const F32_TOL = 1e-4;
const ADAMW_TOL = 1e-5;
const LOSS_TOL = 1e-5;

/** Trainable tensors by name (without the `param.` prefix). */
const params = new Map([...inputs].filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice('param.'.length), v]));
const loraNames = [...params.keys()].filter((n) => n.includes('lora_'));
const tokenNames = [...params.keys()].filter((n) => n.startsWith('token_embeds_'));
const upNames = loraNames.filter((n) => n.endsWith('lora_up.weight'));

/** old_task.{i}.<up name> → one map per earlier task, in task order. */
function oldTasks(): Map<string, Float32Array>[] {
  const byTask = new Map<number, Map<string, Float32Array>>();
  for (const [k, v] of inputs) {
    const m = /^old_task\.(\d+)\.(.+)$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    if (!byTask.has(i)) byTask.set(i, new Map());
    byTask.get(i)!.set(m[2]!, v.data);
  }
  return [...byTask.keys()].sort((a, b) => a - b).map((i) => byTask.get(i)!);
}

function makeGroup(ctx: GpuContext, label: string, names: string[], grad?: (n: string) => Float32Array): FlatParams {
  const fp = FlatParams.create(ctx, label, new FlatLayout(names.map((n) => ({ name: n, shape: params.get(n)!.shape }))));
  for (const n of names) {
    fp.write(ctx, 'param', n, params.get(n)!.data);
    if (grad) fp.write(ctx, 'grad', n, grad(n));
  }
  return fp;
}

/** max |Δ| / max |ref| over all tensors of a group. */
async function compareGroup(ctx: GpuContext, fp: FlatParams, slot: FlatSlot, names: string[], ref: (n: string) => ArrayLike<number>) {
  const got: number[] = [];
  const want: number[] = [];
  for (const n of names) {
    got.push(...(await fp.read(ctx, slot, n)));
    want.push(...Array.from(ref(n)));
  }
  return compare(got, want);
}

const lossOf = (name: string) => need(forward, name).data[0]!;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe(`CIDM step math vs the training goldens on ${TEST_ADAPTER}`, () => {
  it('finds its data by content: LoRA ups, earlier tasks, two optimizer groups', () => {
    expect(upNames.length).toBeGreaterThan(0);
    expect(loraNames.length).toBe(2 * upNames.length);
    expect(tokenNames.length).toBeGreaterThan(0);
    expect(oldTasks().length).toBeGreaterThan(0);
    for (const t of oldTasks()) expect([...t.keys()].sort()).toEqual([...upNames].sort());
  });

  it('consolidation: grad_reg.* and loss.R1_code / R1_paper / enhan from param.* and old_task.*', async () => {
    const ctx = await testContext();
    const fp = makeGroup(ctx, 'golden lora', loraNames);
    const loss = ConsolidationLoss.create(ctx, fp, upNames, oldTasks());
    const v = await checked(ctx, 'consolidation golden', () => loss.apply(ctx));
    const g = await compareGroup(ctx, fp, 'grad', upNames, (n) => need(grads, `grad_reg.${n}`).data);
    const r = { r1Code: rel(v.r1Code, lossOf('loss.R1_code')), r1Paper: rel(v.r1Paper, lossOf('loss.R1_paper')), enhan: rel(v.enhan, lossOf('loss.enhan')) };
    console.log(`golden consolidation (${oldTasks().length} earlier tasks, ${upNames.length} ups): grad_reg ${describeComparison(g)}; ` +
      `R1_code ${v.r1Code} (rel ${r.r1Code.toExponential(2)}), R1_paper ${v.r1Paper} (rel ${r.r1Paper.toExponential(2)}), enhan ${v.enhan} (rel ${r.enhan.toExponential(2)})`);
    expect(g.maxRel).toBeLessThanOrEqual(F32_TOL);
    for (const [k, e] of Object.entries(r)) expect(e, k).toBeLessThanOrEqual(LOSS_TOL);
    loss.destroy(ctx);
    fp.destroy(ctx);
  });

  for (const gradPrefix of ['grad', 'grad_masked']) {
    it(`AdamW: one step of both groups from ${gradPrefix}.* reproduces ${gradPrefix.replace('grad', 'adamw')}.*`, async () => {
      const ctx = await testContext();
      const outPrefix = gradPrefix.replace('grad', 'adamw');
      const hyper: AdamWHyper = { betas: spec.betas, eps: spec.eps };
      const lrOf = (tokens: boolean) => spec.param_groups.find((pg) => pg.params.includes('token_embeds') === tokens)!.lr;
      for (const [label, names, lr] of [['lora', loraNames, lrOf(false)], ['tokens', tokenNames, lrOf(true)]] as const) {
        const gradOf = (n: string) => need(grads, `${gradPrefix}.${n}`).data;
        const fp = makeGroup(ctx, `golden ${label}`, [...names], gradOf);
        await checked(ctx, `adamw golden ${label}`, () => adamwStep(ctx, { name: label, params: fp, lr, weightDecay: spec.weight_decay }, hyper, 1));
        const s = adamwScalars(hyper, lr, spec.weight_decay, 1);
        for (const [slot, key] of [['param', 'param'], ['expAvg', 'exp_avg'], ['expAvgSq', 'exp_avg_sq']] as const) {
          const want = (n: string) => need(adamw, `${outPrefix}.${key}.${n}`).data;
          const c = await compareGroup(ctx, fp, slot, [...names], want);
          // the CPU emulation of torch's f32 order, against the golden too
          const cpu: number[] = [];
          const ref: number[] = [];
          for (const n of names) {
            const p = params.get(n)!.data;
            const st = adamwReference({ param: p, expAvg: new Float32Array(p.length), expAvgSq: new Float32Array(p.length) }, gradOf(n), s);
            cpu.push(...st[slot]);
            ref.push(...want(n));
          }
          console.log(`golden ${outPrefix} ${label} (lr ${lr}) ${key}: gpu ${describeComparison(c)}; f32 cpu ${describeComparison(compare(cpu, ref))}`);
          expect(c.maxRel, `${label} ${key}`).toBeLessThanOrEqual(ADAMW_TOL);
        }
        fp.destroy(ctx);
      }
    });
  }

  it('noising: alphas_cumprod_t and noisy_latents from the model\'s scheduler config', () => {
    const config = JSON.parse(readFileSync(`${GOLDEN_MODELS_DIR}scheduler/scheduler_config.json`, 'utf8')) as NoiseScheduleConfig;
    const noiser = new DdpmNoiser(config);
    const x0 = need(inputs, 'input.x0');
    const ts = Array.from(need(inputs, 'input.timesteps').data);
    const acRef = need(forward, 'intermediate.alphas_cumprod_t').data;
    const ac = ts.map((t) => noiser.alphasCumprod[t]!);
    const noisy = noiser.addNoise(x0.data, need(inputs, 'input.noise').data, x0.shape[0]!, ts);
    const cAc = compare(ac, acRef);
    const cNoisy = compare(noisy, need(forward, 'intermediate.noisy_latents').data);
    console.log(`golden noising t=[${ts.join(', ')}]: alphas_cumprod_t ${describeComparison(cAc)}; noisy_latents ${describeComparison(cNoisy)}`);
    // CPU math that rounds like torch step by step (ddpm-schedule.ts, noising.ts): bit-identical
    expect(cAc.maxAbs).toBe(0);
    expect(cNoisy.maxAbs).toBe(0);
  });

  const dtypes: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
  for (const dtype of dtypes) {
    it(`loss.diffusion, loss.diffusion_masked and the totals from model_pred, noise and mask (${dtype} prediction)`, async () => {
      const ctx = await testContext();
      if (dtype === 'f16') expect(ctx.hasF16).toBe(true);
      const pred: TrainingTensor = need(forward, 'intermediate.model_pred');
      const noise = need(inputs, 'input.noise');
      const mask = need(inputs, 'input.mask');
      const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
      const keep: Tensor[] = [];
      const [plain, masked] = await checked(ctx, `eps-mse golden ${dtype}`, async () => {
        const p = ctx.upload(round(pred.data), pred.shape, dtype, 'golden pred');
        const n = ctx.upload(round(noise.data), noise.shape, dtype, 'golden noise');
        const m = prepareLossMask(ctx, mask.data, mask.shape);
        keep.push(p, n, m.tensor);
        const a = await epsMse(ctx, p, n);
        const b = await maskedEpsMse(ctx, p, n, m);
        keep.push(a.loss, a.grad, b.loss, b.grad);
        return [(await ctx.read(a.loss))[0]!, (await ctx.read(b.loss))[0]!];
      });
      ctx.release(...keep);
      const tol = dtype === 'f16' ? 5e-3 : LOSS_TOL;
      const r = { diffusion: rel(plain, lossOf('loss.diffusion')), diffusion_masked: rel(masked, lossOf('loss.diffusion_masked')) };
      // the totals: + γ·R1_code + γ·enhan (README item 6), the consolidation part from the golden's own values
      const reg = 0.1 * lossOf('loss.R1_code') + 0.1 * lossOf('loss.enhan');
      const t = { total: rel(plain + reg, lossOf('loss.total')), total_masked: rel(masked + reg, lossOf('loss.total_masked')) };
      console.log(`golden losses (${dtype}): diffusion ${plain} (rel ${r.diffusion.toExponential(2)}), masked ${masked} (rel ${r.diffusion_masked.toExponential(2)}), ` +
        `total rel ${t.total.toExponential(2)}, total_masked rel ${t.total_masked.toExponential(2)}`);
      for (const [k, e] of Object.entries({ ...r, ...t })) expect(e, k).toBeLessThanOrEqual(tol);
    });
  }
});
