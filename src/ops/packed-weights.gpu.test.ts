/**
 * Packed-f16 weights (f16 pairs in u32 words, unpacked in the kernels; DESIGN.md "GPUs as Chrome offers
 * them"): every kernel that reads a weight, checked against the plain-TS references with the weights
 * rounded to f16 there, on odd shapes (odd element counts leave the last u32 word half filled) and
 * both transposes. On SwiftShader (no shader-f16) this is the path SDXL takes; on lavapipe an f16
 * weight under f32 activations takes the same kernels, so both adapters run these.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray, rng } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { GpuContext } from '../gpu/context';
import { conv2d } from './conv2d';
import { conv2dReference } from './conv2d.reference';
import { conv2dInputGrad } from './backward/conv2d-backward';
import { conv2dInputGradReference } from './backward/conv2d-backward.reference';
import { embedding, embeddingReference } from './embedding';
import { foldLora, packLora } from './lora';
import { matmul, type MatmulVariant } from './matmul';
import { matmulReference } from './matmul.reference';

// f32 math on f16-exact weights: the only error left is f32 summation order (as the f32 matmul tests).
const TOL = 1e-5;
let seed = 100;

async function packedMatmul(ctx: GpuContext, c: { M: number; K: number; N: number; transB: boolean; bias?: boolean; batchB?: number }, variant: MatmulVariant) {
  const bShape = [...(c.batchB ? [c.batchB] : []), ...(c.transB ? [c.N, c.K] : [c.K, c.N])];
  const aShape = [...(c.batchB ? [c.batchB] : []), c.M, c.K];
  const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const a = randomArray(n(aShape), seed++);
  const w = roundToF16(randomArray(n(bShape), seed++));
  const bias = c.bias ? randomArray(c.N, seed++) : null;
  const ta = ctx.upload(a, aShape, 'f32', 'A');
  const tw = ctx.uploadWeight(w, bShape, 'f16', 'W packed');
  const tb = bias ? ctx.upload(bias, [c.N], 'f32', 'bias') : null;
  const tag = `packed ${variant} ${aShape.join('×')}·${bShape.join('×')}${c.transB ? 'ᵀ' : ''}`;
  const got = await checked(ctx, tag, async () => {
    const out = await matmul(ctx, ta, tw, { transB: c.transB, variant, ...(tb ? { bias: tb } : {}) });
    expect(out.dtype).toBe('f32');
    const data = await ctx.read(out);
    ctx.release(out);
    return data;
  });
  ctx.release(ta, ...(tb ? [tb] : []));
  ctx.destroyTensor(tw);
  const ref = matmulReference(a, aShape, w, bShape, { transB: c.transB, ...(bias ? { bias } : {}) });
  const cmp = compare(got, ref.data);
  expect(cmp.maxRel, `${tag}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(TOL);
  expect(cmp.scale).toBeGreaterThan(0);
}

describe(`packed-f16 weights on ${TEST_ADAPTER}`, () => {
  it('the weight is stored as f16 pairs: half the bytes, an odd count padded to a whole word', async () => {
    const ctx = await testContext();
    const w = ctx.uploadWeight([1.5, -2, 0.25], [3], 'f16', 'odd weight');
    expect(w.dtype).toBe('f16');
    expect(w.buffer.size).toBe(8);
    expect(ctx.isPacked(w)).toBe(!ctx.hasF16);
    expect(Array.from(await ctx.read(w))).toEqual([1.5, -2, 0.25]);
    ctx.destroyTensor(w);
    // Activations never become packed: an f16 activation still needs shader-f16.
    if (!ctx.hasF16) expect(() => ctx.empty([4], 'f16', 'activation')).toThrow(FeatureMissingError);
  });

  it.each(['naive', 'tiled'] as const)('matmul %s: f32 A · packed B, both transposes, odd and vec4 shapes, bias, broadcast batch', async (variant) => {
    const ctx = await testContext();
    for (const transB of [false, true]) {
      await packedMatmul(ctx, { M: 17, K: 33, N: 65, transB, bias: true }, variant); // 33·65 odd: last word half filled
      await packedMatmul(ctx, { M: 20, K: 36, N: 68, transB }, variant); // vec4 loads of B (u32 pairs)
    }
    await packedMatmul(ctx, { M: 9, K: 13, N: 7, transB: true, batchB: 3 }, variant); // batched B at odd strides
  });

  it('matmul: split-K with a packed B', async () => {
    const ctx = await testContext();
    const a = randomArray(21 * 700, seed++);
    const w = roundToF16(randomArray(45 * 700, seed++));
    const ta = ctx.upload(a, [21, 700], 'f32', 'A');
    const tw = ctx.uploadWeight(w, [45, 700], 'f16', 'W');
    const got = await checked(ctx, 'packed split-K', async () => {
      const out = await matmul(ctx, ta, tw, { transB: true, variant: 'tiled', splitK: 3 });
      const d = await ctx.read(out);
      ctx.release(out);
      return d;
    });
    ctx.release(ta);
    ctx.destroyTensor(tw);
    const cmp = compare(got, matmulReference(a, [21, 700], w, [45, 700], { transB: true }).data);
    expect(cmp.maxRel, describeComparison(cmp)).toBeLessThanOrEqual(TOL);
  });

  it('conv2d: packed [Cout, Cin, kh, kw] weights, 3×3 stride 1 and 2 and 1×1, bias and residual', async () => {
    const ctx = await testContext();
    const cases = [
      { n: 2, cin: 5, h: 9, w: 7, cout: 11, k: 3, stride: 1, residual: true },
      { n: 1, cin: 7, h: 10, w: 9, cout: 6, k: 3, stride: 2, residual: false },
      { n: 1, cin: 3, h: 5, w: 6, cout: 9, k: 1, stride: 1, residual: false },
    ];
    for (const c of cases) {
      const xShape = [c.n, c.cin, c.h, c.w];
      const wShape = [c.cout, c.cin, c.k, c.k];
      const x = randomArray(xShape.reduce((a, b) => a * b), seed++);
      const w = roundToF16(randomArray(wShape.reduce((a, b) => a * b), seed++));
      const bias = randomArray(c.cout, seed++);
      const pad = Math.floor(c.k / 2);
      const ref0 = conv2dReference(x, xShape, w, wShape, { stride: c.stride, padding: pad, bias });
      const res = c.residual ? randomArray(ref0.data.length, seed++) : null;
      const ref = res ? conv2dReference(x, xShape, w, wShape, { stride: c.stride, padding: pad, bias, residual: res }) : ref0;
      const tx = ctx.upload(x, xShape, 'f32', 'x');
      const tw = ctx.uploadWeight(w, wShape, 'f16', 'conv W packed');
      const tb = ctx.upload(bias, [c.cout], 'f32', 'bias');
      const tr = res ? ctx.upload(res, ref.shape, 'f32', 'residual') : null;
      const got = await checked(ctx, `packed conv ${JSON.stringify(c)}`, async () => {
        const out = await conv2d(ctx, tx, tw, { stride: c.stride, padding: pad, bias: tb, residual: tr });
        expect(out.dtype).toBe('f32');
        const d = await ctx.read(out);
        ctx.release(out);
        return d;
      });
      ctx.release(tx, tb, ...(tr ? [tr] : []));
      ctx.destroyTensor(tw);
      const cmp = compare(got, ref.data);
      expect(cmp.maxRel, `${JSON.stringify(c)}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(TOL);
    }
  });

  it('conv2d input gradient (training): packed weights, 3×3 stride 1 and 2 and 1×1', async () => {
    const ctx = await testContext();
    const cases = [
      { n: 2, cin: 5, h: 9, w: 7, cout: 11, k: 3, stride: 1 },
      { n: 1, cin: 7, h: 10, w: 9, cout: 6, k: 3, stride: 2 },
      { n: 1, cin: 3, h: 5, w: 6, cout: 9, k: 1, stride: 1 },
    ];
    for (const c of cases) {
      const pad = Math.floor(c.k / 2);
      const ho = Math.floor((c.h + 2 * pad - c.k) / c.stride) + 1;
      const wo = Math.floor((c.w + 2 * pad - c.k) / c.stride) + 1;
      const dyShape = [c.n, c.cout, ho, wo];
      const wShape = [c.cout, c.cin, c.k, c.k] as const;
      const dy = randomArray(dyShape.reduce((a, b) => a * b), seed++);
      const w = roundToF16(randomArray(wShape.reduce((a, b) => a * b), seed++));
      const tdy = ctx.upload(dy, dyShape, 'f32', 'dY');
      const tw = ctx.uploadWeight(w, wShape, 'f16', 'conv W packed');
      const got = await checked(ctx, `packed conv input grad ${JSON.stringify(c)}`, async () => {
        const dx = await conv2dInputGrad(ctx, tdy, tw, { stride: c.stride, padding: pad, inputSize: [c.h, c.w] });
        expect(dx.dtype).toBe('f32');
        const d = await ctx.read(dx);
        ctx.release(dx);
        return d;
      });
      ctx.release(tdy);
      ctx.destroyTensor(tw);
      const ref = conv2dInputGradReference(dy, w, { xShape: [c.n, c.cin, c.h, c.w], wShape, stride: c.stride, padding: pad });
      const cmp = compare(got, ref);
      expect(cmp.maxRel, `${JSON.stringify(c)}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(TOL);
    }
  });

  it('embedding: a packed table in odd row blocks beside f32 concept rows, f32 positions', async () => {
    const ctx = await testContext();
    const vocab = 23, extra = 3, dim = 7, seq = 5; // 7-wide rows: blocks start mid-word
    const table = roundToF16(randomArray(vocab * dim, seed++));
    const extraRows = randomArray(extra * dim, seed++);
    const pos = randomArray(seq * dim, seed++);
    const r = rng(seed++);
    const ids = Array.from({ length: 2 * seq }, () => Math.floor(r() * (vocab + extra)));
    ids[0] = vocab; ids[1] = vocab - 1;
    const blocks = [
      { start: 0, tensor: ctx.uploadWeight(table.subarray(0, 10 * dim), [10, dim], 'f16', 'rows 0') },
      { start: 10, tensor: ctx.uploadWeight(table.subarray(10 * dim), [vocab - 10, dim], 'f16', 'rows 10') },
      { start: vocab, tensor: ctx.upload(extraRows, [extra, dim], 'f32', 'concept rows') },
    ];
    const tp = ctx.upload(pos, [seq, dim], 'f32', 'positions');
    const got = await checked(ctx, 'packed embedding', async () => {
      const out = await embedding(ctx, ids, blocks, { positions: tp, seq });
      expect(out.dtype).toBe('f32');
      const d = await ctx.read(out);
      ctx.release(out);
      return d;
    });
    ctx.destroyTensor(blocks[0]!.tensor);
    ctx.destroyTensor(blocks[1]!.tensor);
    ctx.release(blocks[2]!.tensor, tp);
    const all = new Float32Array([...table, ...extraRows]);
    const cmp = compare(got, embeddingReference(ids, all, dim, pos, seq));
    expect(cmp.maxAbs, describeComparison(cmp)).toBe(0); // one f32 addition of the same values
  });

  it('foldLora writes W + U·D back as packed pairs (odd element count), rounded to f16 once', async () => {
    const ctx = await testContext();
    const out = 7, inF = 5, rank = 2; // 35 elements: the last word holds one value
    const w = roundToF16(randomArray(out * inF, seed++));
    const down = randomArray(rank * inF, seed++);
    const up = randomArray(out * rank, seed++);
    const tw = ctx.uploadWeight(w, [out, inF], 'f16', 'W packed');
    const td = ctx.upload(down, [rank, inF], 'f32', 'down');
    const tu = ctx.upload(up, [out, rank], 'f32', 'up');
    const packed = await packLora(ctx, tw, [{ down: td, up: tu, scale: 0.6 }]);
    const folded = await checked(ctx, 'packed fold', () => foldLora(ctx, tw, packed));
    expect(folded.dtype).toBe('f16');
    expect(folded.buffer.size).toBe(tw.buffer.size);
    const got = await ctx.read(folded);
    const expected = new Float32Array(out * inF);
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < inF; k++) {
        let d = 0;
        for (let r = 0; r < rank; r++) d += 0.6 * up[o * rank + r]! * down[r * inF + k]!;
        expected[o * inF + k] = w[o * inF + k]! + d;
      }
    }
    const cmp = compare(got, roundToF16(expected));
    // pack2x16float may round either way at a tie or by one ulp: at most one f16 ulp (2^-10 relative).
    expect(cmp.maxRel, describeComparison(cmp)).toBeLessThanOrEqual(2 ** -10);
    // The padding half of the last word stays zero, so the weight reads back exactly 35 values.
    const raw = new Uint32Array(await readRaw(ctx, folded.buffer));
    expect(raw[raw.length - 1]! >>> 16).toBe(0);
    ctx.release(td, tu, packed.down, packed.up);
    ctx.destroyTensor(tw);
    ctx.destroyTensor(folded);
  });
});

async function readRaw(ctx: GpuContext, buffer: GPUBuffer): Promise<ArrayBuffer> {
  const staging = ctx.device.createBuffer({ size: buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  ctx.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.destroy();
  return out;
}
