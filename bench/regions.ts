/**
 * `npm run bench -- --suite regions`: what painted regions cost (CIDM §4, src/cidm/regional).
 * 1. One sampling step's UNet forward of the tiny golden UNet with 0 (plain CFG batch of 2), 1, 2 and
 *    4 regions, batched as the loop batches them (regional-step.ts: B = 2 for one region, else 2 + U),
 *    relative to plain. Per pass = ms / B relative to plain's, i.e. the regional attention's own cost.
 * 2. The attn2 kernel alone at an SDXL width (the `attention_cross_small` shape, 2×1024×640 q, 10
 *    heads, 77 keys): regional attention with U regions against the flash attention of plain attn2.
 * Masks: U overlapping vertical bands over 90% of the width (the rest is global only), as painted.
 * No peer exists for this work; ratios are within one run on one adapter.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { unetForward, type RegionalInputs } from '../src/model/unet/forward';
import { attention } from '../src/ops/attention';
import { regionalAttention } from '../src/ops/regional-attention';
import { buildRegionMasks, levelGrid, resampleMask } from '../src/cidm/regional/masks';
import { tinyUNet, TINY_TIMESTEPS } from './block-cases';
import { makeInput } from './inputs';
import { timeRuns } from './timing';

export interface RegionBenchRow {
  what: string;
  regions: number;
  batch: number;
  ms: number;
  /** ms relative to 0 regions. */
  vsPlain: number;
  /** (ms / batch) relative to plain's. */
  perPassVsPlain: number;
}

const REGION_COUNTS = [0, 1, 2, 4];

function bands(U: number, h: number, w: number): Float32Array[] {
  return Array.from({ length: U }, (_, u) => {
    const lo = Math.floor(((u * 0.9) / U) * w);
    const hi = Math.min(w, Math.ceil((((u + 1) * 0.9) / U) * w + 0.05 * w));
    return Float32Array.from({ length: h * w }, (_, i) => (i % w >= lo && i % w < hi ? 1 : 0));
  });
}

const rand = (n: number, seed: number) => makeInput({ name: 'x', shape: [n], role: 'activation' }, seed);

async function time(ctx: GpuContext, maxRuns: number, step: () => Promise<Tensor>): Promise<number> {
  let last: Tensor | null = null;
  const t = await timeRuns(async () => {
    if (last) ctx.release(last);
    last = await step();
    await ctx.flush();
  }, maxRuns);
  ctx.release(last!);
  return t.medianMs;
}

async function unetRows(ctx: GpuContext, maxRuns: number, log: (s: string) => void): Promise<RegionBenchRow[]> {
  const { be, arch } = await tinyUNet(ctx);
  const [lh, lw] = [32, 32]; // 256×256 image, the tiny UNet's sample size
  const rows: RegionBenchRow[] = [];
  let plainMs = 0;
  for (const U of REGION_COUNTS) {
    const B = U > 1 ? 2 + U : 2;
    const up = (data: Float32Array, shape: number[], label: string) => ctx.upload(data, shape, 'f32', label);
    const sample = up(rand(B * 4 * lh * lw, 1), [B, 4, lh, lw], 'sample');
    const ehs = up(rand(B * 77 * arch.crossDim, 2), [B, 77, arch.crossDim], 'ehs');
    const pooled = arch.addition!.projectionInputDim - 6 * arch.addition!.timeEmbedDim;
    const textEmbeds = up(rand(B * pooled, 3), [B, pooled], 'text_embeds');
    let regional: RegionalInputs<Tensor> | undefined;
    if (U > 0) {
      const set = buildRegionMasks(bands(U, 8 * lh, 8 * lw).map((data) => ({ data, height: 8 * lh, width: 8 * lw })), arch, 8 * lh, 8 * lw);
      const active = Float32Array.from({ length: B * U }, (_, i) => (Math.floor(i / U) < 2 || Math.floor(i / U) - 2 === i % U ? 1 : 0));
      regional = {
        embeds: up(rand(B * U * 77 * arch.crossDim, 4), [B, U, 77, arch.crossDim], 'region-embeds'),
        masks: new Map([...set.attention].map(([k, m]) => [k, up(m.data, [1, U, m.grid.h * m.grid.w], `masks-${k}`)])),
        active: up(active, [B, U], 'active'),
      };
    }
    const ts = Array.from({ length: B }, (_, i) => TINY_TIMESTEPS[i % 2]!);
    const timeIds = Array.from({ length: B }, () => [256, 256, 0, 0, 256, 256]).flat();
    const ms = await time(ctx, maxRuns, () => unetForward(be, arch, { sample, timesteps: ts, encoderHiddenStates: ehs, textEmbeds, timeIds, ...(regional ? { regional } : {}) }));
    if (U === 0) plainMs = ms;
    rows.push({ what: 'tiny UNet step 256²', regions: U, batch: B, ms, vsPlain: ms / plainMs, perPassVsPlain: ms / B / (plainMs / 2) });
    log(`regions tiny_unet U=${U} B=${B}: ${ms.toFixed(1)} ms (${(ms / plainMs).toFixed(2)}× plain)`);
    ctx.release(sample, ehs, textEmbeds, ...(regional ? [regional.embeds, regional.active, ...regional.masks.values()] : []));
  }
  return rows;
}

async function kernelRows(ctx: GpuContext, maxRuns: number, log: (s: string) => void): Promise<RegionBenchRow[]> {
  const [B, gh, gw, C, heads, tk] = [2, 32, 32, 640, 10, 77];
  const up = (n: number, shape: number[], seed: number) => ctx.upload(rand(n, seed), shape, 'f32', 'bench');
  const q = up(B * gh * gw * C, [B, gh * gw, C], 1);
  const k = up(B * tk * C, [B, tk, C], 2);
  const v = up(B * tk * C, [B, tk, C], 3);
  const rows: RegionBenchRow[] = [];
  let plainMs = 0;
  for (const U of REGION_COUNTS) {
    let ms: number;
    if (U === 0) ms = plainMs = await time(ctx, maxRuns, () => attention(ctx, q, k, v, { heads }));
    else {
      // masks at the 32×32 grid from the bands painted on a 256×256 image
      const masks = new Float32Array(U * gh * gw);
      bands(U, 8 * gh, 8 * gw).forEach((m, u) => masks.set(resampleMask(m, 8 * gh, 8 * gw, gh, gw, levelGrid(gh, gw, 0)), u * gh * gw));
      const x = {
        q,
        k: up(B * (1 + U) * tk * C, [B, 1 + U, tk, C], 4),
        v: up(B * (1 + U) * tk * C, [B, 1 + U, tk, C], 5),
        masks: ctx.upload(masks, [1, U, gh * gw], 'f32', 'masks'),
        active: ctx.upload(new Float32Array(B * U).fill(1), [B, U], 'f32', 'active'),
      };
      ms = await time(ctx, maxRuns, () => regionalAttention(ctx, x, { heads }));
      ctx.release(x.k, x.v, x.masks, x.active);
    }
    rows.push({ what: `attn2 kernel ${B}×${gh * gw}×${C}`, regions: U, batch: B, ms, vsPlain: ms / plainMs, perPassVsPlain: ms / plainMs });
    log(`regions attn2 U=${U}: ${ms.toFixed(1)} ms (${(ms / plainMs).toFixed(2)}× flash attention)`);
  }
  ctx.release(q, k, v);
  return rows;
}

export async function runRegionsBench(ctx: GpuContext, maxRuns: number, log: (s: string) => void): Promise<RegionBenchRow[]> {
  return [...(await kernelRows(ctx, maxRuns, log)), ...(await unetRows(ctx, maxRuns, log))];
}
