import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import { numel, type DType, type Tensor } from '../gpu/tensor';
import type { GpuContext } from '../gpu/context';
import { groupNorm, groupNormBands, layerNorm, LN_SHORT_ROW } from './norm';
import { groupNormReference, layerNormReference } from './norm.reference';

interface GnCase {
  name: string;
  shape: number[];
  groups: number;
  silu: boolean;
  eps?: number;
  /** Added to every input value: a large common mean breaks naive sum/sum-of-squares statistics. */
  offset?: number;
}

const GN_CASES: GnCase[] = [
  { name: 'G=4', shape: [2, 16, 5, 7], groups: 4, silu: false },
  { name: 'G=4 + SiLU', shape: [2, 16, 5, 7], groups: 4, silu: true },
  // 4·33·65 = 8580 elements per group: three 4096-element chunks, the last one partial
  { name: 'G=2, 3 chunks per group + SiLU', shape: [1, 8, 33, 65], groups: 2, silu: true, eps: 1e-6 },
  { name: 'G=3, mean 100 (stability)', shape: [2, 6, 37, 41], groups: 3, silu: false, offset: 100 },
];

/** A tensor cut into horizontal bands of these heights (they sum to H), normalised as one. */
interface BandCase extends GnCase {
  bands: number[];
}

const BAND_CASES: BandCase[] = [
  // a one-row band, bands of uneven heights, a mean of 100: the bands' absolute means must merge stably
  { name: 'G=3, bands 10+1+26, mean 100', shape: [2, 6, 37, 41], groups: 3, silu: false, offset: 100, bands: [10, 1, 26] },
  // 4·17·65 = 4420 elements per group in the first band: two chunks in one band, one in the other
  { name: 'G=2, bands 17+16 (multi-chunk) + SiLU', shape: [1, 8, 33, 65], groups: 2, silu: true, eps: 1e-6, bands: [17, 16] },
];

/** Rows [r0, r1) of every (n, c) plane of an NCHW host array. */
function rowsOf(x: Float32Array, shape: number[], r0: number, r1: number): Float32Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(n * c * (r1 - r0) * w);
  for (let p = 0; p < n * c; p++) out.set(x.subarray((p * h + r0) * w, (p * h + r1) * w), p * (r1 - r0) * w);
  return out;
}

async function runGroupNormBands(ctx: GpuContext, c: BandCase, dtype: DType, seed: number) {
  const [n, ch, h, w] = c.shape as [number, number, number, number];
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  const x = round(randomArray(numel(c.shape), seed).map((v) => v * 2 + (c.offset ?? 0)));
  const gamma = round(randomArray(ch, seed + 1, 0.5, 1.5));
  const beta = round(randomArray(ch, seed + 2, -0.5, 0.5));
  const expected = groupNormReference(x, c.shape, gamma, beta, { groups: c.groups, eps: c.eps, silu: c.silu });
  const keep: Tensor[] = [];
  let r0 = 0;
  const parts = c.bands.map((bh) => {
    const shape = [n, ch, bh, w];
    const t = upload(ctx, keep, rowsOf(x, c.shape, r0, r0 + bh), shape, dtype, 'band');
    r0 += bh;
    return t;
  });
  expect(r0).toBe(h);
  const got = await checked(ctx, `groupnorm bands ${c.name}`, async () => {
    const ys = await groupNormBands(ctx, parts, upload(ctx, keep, gamma, [ch], dtype, 'gamma'), upload(ctx, keep, beta, [ch], dtype, 'beta'),
      { groups: c.groups, eps: c.eps, silu: c.silu });
    keep.push(...ys);
    return Promise.all(ys.map((y) => ctx.read(y)));
  });
  ctx.release(...keep);
  r0 = 0;
  const want = c.bands.map((bh) => rowsOf(expected, c.shape, r0, (r0 += bh)));
  return compare(Float32Array.from(got.flatMap((a) => [...a])), Float32Array.from(want.flatMap((a) => [...a])));
}

interface LnCase {
  name: string;
  shape: number[];
  offset?: number;
}

const LN_CASES: LnCase[] = [
  { name: 'rows of 65', shape: [3, 77, 65] },
  { name: 'rows of 1000 (longer than the workgroup)', shape: [5, 1000] },
  { name: 'rows of 640, mean 100 (stability)', shape: [2, 3, 640], offset: 100 },
  // at most LN_SHORT_ROW: one invocation per row; 3·131 rows is not a multiple of the workgroup
  { name: 'rows of 33, one invocation each', shape: [3, 131, 33] },
  { name: 'rows of 64 (the longest short row), mean 100', shape: [2, 70, 64], offset: 100 },
  { name: 'rows of 1', shape: [5, 1] },
];

function upload(ctx: GpuContext, keep: Tensor[], data: Float32Array, shape: number[], dtype: DType, label: string): Tensor {
  const t = ctx.upload(data, shape, dtype, label);
  keep.push(t);
  return t;
}

async function runGroupNorm(ctx: GpuContext, c: GnCase, dtype: DType, seed: number) {
  const ch = c.shape[1]!;
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  const x = round(randomArray(numel(c.shape), seed).map((v) => v * 2 + (c.offset ?? 0)));
  const gamma = round(randomArray(ch, seed + 1, 0.5, 1.5));
  const beta = round(randomArray(ch, seed + 2, -0.5, 0.5));
  const expected = groupNormReference(x, c.shape, gamma, beta, { groups: c.groups, eps: c.eps, silu: c.silu });
  const keep: Tensor[] = [];
  const got = await checked(ctx, `groupnorm ${c.name}`, async () => {
    const y = await groupNorm(ctx, upload(ctx, keep, x, c.shape, dtype, 'x'), upload(ctx, keep, gamma, [ch], dtype, 'gamma'),
      upload(ctx, keep, beta, [ch], dtype, 'beta'), { groups: c.groups, eps: c.eps, silu: c.silu });
    keep.push(y);
    return ctx.read(y);
  });
  ctx.release(...keep);
  return compare(got, expected);
}

async function runLayerNorm(ctx: GpuContext, c: LnCase, dtype: DType, seed: number) {
  const d = c.shape[c.shape.length - 1]!;
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  const x = round(randomArray(numel(c.shape), seed).map((v) => v * 2 + (c.offset ?? 0)));
  const gamma = round(randomArray(d, seed + 1, 0.5, 1.5));
  const beta = round(randomArray(d, seed + 2, -0.5, 0.5));
  const expected = layerNormReference(x, c.shape, gamma, beta, 1e-5);
  const keep: Tensor[] = [];
  const got = await checked(ctx, `layernorm ${c.name}`, async () => {
    const y = await layerNorm(ctx, upload(ctx, keep, x, c.shape, dtype, 'x'), upload(ctx, keep, gamma, [d], dtype, 'gamma'),
      upload(ctx, keep, beta, [d], dtype, 'beta'));
    keep.push(y);
    return ctx.read(y);
  });
  ctx.release(...keep);
  return compare(got, expected);
}

describe(`groupNorm and layerNorm on ${TEST_ADAPTER}`, () => {
  it('groupNorm matches the reference in f32 (odd shapes, SiLU, multi-chunk groups, offset data)', async () => {
    const ctx = await testContext();
    let seed = 10;
    for (const c of GN_CASES) {
      const r = await runGroupNorm(ctx, c, 'f32', (seed += 10));
      console.log(`groupnorm f32 ${c.name} [${c.shape.join(',')}]: ${describeComparison(r)}`);
      expect(r.maxRel, c.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it('groupNormBands normalises every band with the whole tensor\'s statistics (odd band heights, offset data)', async () => {
    const ctx = await testContext();
    let seed = 700;
    for (const c of BAND_CASES) {
      const r = await runGroupNormBands(ctx, c, 'f32', (seed += 10));
      console.log(`groupnorm bands f32 ${c.name} [${c.shape.join(',')}]: ${describeComparison(r)}`);
      expect(r.maxRel, c.name).toBeLessThanOrEqual(1e-5);
    }
    if (ctx.hasF16) {
      const r = await runGroupNormBands(ctx, BAND_CASES[1]!, 'f16', (seed += 10));
      console.log(`groupnorm bands f16 ${BAND_CASES[1]!.name}: ${describeComparison(r)}`);
      expect(r.maxRel).toBeLessThanOrEqual(3e-3);
    }
    const a = ctx.upload(new Float32Array(2 * 4 * 3), [1, 2, 3, 4], 'f32', 'a');
    const b = ctx.upload(new Float32Array(2 * 2 * 5), [1, 2, 2, 5], 'f32', 'b');
    const g = ctx.upload(new Float32Array(2), [2], 'f32', 'g');
    await expect(groupNormBands(ctx, [a, b], g, g, { groups: 1 })).rejects.toThrow(/is not a band of/);
    ctx.release(a, b, g);
  });

  it('layerNorm matches the reference in f32 (odd row lengths, long rows, offset data)', async () => {
    const ctx = await testContext();
    let seed = 70;
    // both layernorm kernels run: a workgroup per row, and one invocation per short row
    const lengths = LN_CASES.map((c) => c.shape[c.shape.length - 1]!);
    expect(lengths.some((d) => d <= LN_SHORT_ROW) && lengths.some((d) => d > LN_SHORT_ROW)).toBe(true);
    for (const c of LN_CASES) {
      const r = await runLayerNorm(ctx, c, 'f32', (seed += 10));
      console.log(`layernorm f32 ${c.name} [${c.shape.join(',')}]: ${describeComparison(r)}`);
      expect(r.maxRel, c.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it('groupNorm handles SDXL-sized groups and groups of more chunks than the workgroup has threads', async () => {
    const ctx = await testContext();
    const cases: GnCase[] = [
      // the first SDXL level at 1024²: 10 channels × 128² per group, 40 chunks
      { name: 'SDXL 320×128², G=32', shape: [1, 320, 128, 128], groups: 32, silu: true },
      // 1,081,800 elements in one group: 265 chunks, so each apply thread merges two partials
      { name: '265 chunks, G=1', shape: [1, 3, 600, 601], groups: 1, silu: false },
    ];
    for (const c of cases) {
      const r = await runGroupNorm(ctx, c, 'f32', 900);
      console.log(`groupnorm f32 ${c.name} [${c.shape.join(',')}]: ${describeComparison(r)}`);
      expect(r.maxRel, c.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it('the subgroup variants (the default where the adapter has subgroups) and the portable kernels both meet the bounds; the subgroup merge is the same bits run after run', async () => {
    const ctx = await testContext();
    // both CPU adapters expose `subgroups` (SwiftShader: 4 lanes; lavapipe: 8 or more), so both variants run on each
    expect(ctx.handle.hasSubgroups).toBe(true);
    expect(ctx.useSubgroups).toBe(true);
    const dtypes: DType[] = ctx.hasF16 ? ['f32', 'f16'] : ['f32'];
    try {
      for (const subgroups of [false, true]) {
        ctx.useSubgroups = subgroups;
        for (const dtype of dtypes) {
          const bound = dtype === 'f16' ? 3e-3 : 1e-5;
          let seed = 1300;
          for (const c of GN_CASES.filter((k) => dtype === 'f32' || !k.offset)) {
            const r = await runGroupNorm(ctx, c, dtype, (seed += 10));
            console.log(`groupnorm ${dtype} ${subgroups ? 'subgroups' : 'portable'} ${c.name}: ${describeComparison(r)}`);
            expect(r.maxRel, `${c.name} ${dtype} subgroups=${subgroups}`).toBeLessThanOrEqual(bound);
          }
          for (const c of LN_CASES.filter((k) => dtype === 'f32' || !k.offset)) {
            const r = await runLayerNorm(ctx, c, dtype, (seed += 10));
            console.log(`layernorm ${dtype} ${subgroups ? 'subgroups' : 'portable'} ${c.name}: ${describeComparison(r)}`);
            expect(r.maxRel, `${c.name} ${dtype} subgroups=${subgroups}`).toBeLessThanOrEqual(bound);
          }
        }
      }
      // one leader per subgroup, merged in index order: no run-to-run variation
      const x = ctx.upload(randomArray(3 * 1000, 5).map((v) => v + 3), [3, 1000], 'f32', 'x');
      const g = ctx.upload(randomArray(1000, 6), [1000], 'f32', 'g');
      const xg = ctx.upload(randomArray(2 * 8 * 33 * 65, 7), [2, 8, 33, 65], 'f32', 'xg');
      const gg = ctx.upload(randomArray(8, 8), [8], 'f32', 'gg');
      const once = async () => {
        const y = await layerNorm(ctx, x, g, g);
        const z = await groupNorm(ctx, xg, gg, gg, { groups: 2, silu: true });
        const out = [await ctx.read(y), await ctx.read(z)];
        ctx.release(y, z);
        return out;
      };
      const [a, b] = [await once(), await once()];
      expect(a[0]).toEqual(b[0]);
      expect(a[1]).toEqual(b[1]);
      ctx.release(x, g, xg, gg);
    } finally {
      ctx.useSubgroups = true;
    }
  });

  it('rejects a channel count that the groups do not divide', async () => {
    const ctx = await testContext();
    const x = ctx.upload(new Float32Array(2 * 10 * 3), [2, 10, 3], 'f32', 'x');
    const g = ctx.upload(new Float32Array(10), [10], 'f32', 'g');
    await expect(groupNorm(ctx, x, g, g, { groups: 4 })).rejects.toThrow(/10 channels cannot be split into 4 groups/);
    ctx.release(x, g);
  });

  it('runs f16 storage where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      let seed = 300;
      for (const c of GN_CASES.filter((k) => !k.offset)) {
        const r = await runGroupNorm(ctx, c, 'f16', (seed += 10));
        console.log(`groupnorm f16 ${c.name}: ${describeComparison(r)}`);
        expect(r.maxRel, c.name).toBeLessThanOrEqual(3e-3);
      }
      for (const c of LN_CASES.filter((k) => !k.offset)) {
        const r = await runLayerNorm(ctx, c, 'f16', (seed += 10));
        console.log(`layernorm f16 ${c.name}: ${describeComparison(r)}`);
        expect(r.maxRel, c.name).toBeLessThanOrEqual(3e-3);
      }
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(new Float32Array(8), [1, 2, 4], 'f16', 'x16')).toThrow(FeatureMissingError);
      const x = ctx.upload(new Float32Array(8), [1, 2, 4], 'f32', 'x');
      const g2 = ctx.upload(new Float32Array(2), [2], 'f32', 'g2');
      const g4 = ctx.upload(new Float32Array(4), [4], 'f32', 'g4');
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(groupNorm(ctx, fake(x), fake(g2), fake(g2), { groups: 2 })).rejects.toThrow(FeatureMissingError);
      await expect(layerNorm(ctx, fake(x), fake(g4), fake(g4))).rejects.toThrow(FeatureMissingError);
      ctx.release(x, g2, g4);
    }
  });
});
