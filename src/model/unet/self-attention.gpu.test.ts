/**
 * Self-attention with one q/k/v matmul (self-attention.ts, fused-qkv.ts) on odd shapes: the weights laid
 * out as the UNet loader lays them out (q/k/v views of one buffer) give the same output as three
 * separate weight buffers, and both match the plain-TS reference, in f32, with packed f16 weights under
 * f32 activations (the no-shader-f16 path) and in f16 where the adapter has it. A LoRA folded into to_q
 * (a new tensor: the layer falls back to three matmuls) or applied as fused adapters changes the output
 * exactly as on separate buffers, and leaves the shared buffer untouched.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { roundToF16, toF16Array } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { attentionReference, denseView } from '../../ops/attention.reference';
import { foldLora, packLora, releasePacked, type PackedLora } from '../../ops/lora';
import { linearReference } from '../../ops/matmul.reference';
import { allocateWeightsFusingQkv, destroyWeights, qkvWeightNames, weightBufferBytes } from './fused-qkv';
import { GpuUNetBackend } from './gpu-backend';
import { selfAttentionModule } from './self-attention';

const P = 'blk.attn1';
type Mode = 'f32' | 'packed' | 'f16';
/** Activation dtype and matrix storage dtype of each mode. */
const DTYPES: Record<Mode, { act: DType; matrix: DType }> = { f32: { act: 'f32', matrix: 'f32' }, packed: { act: 'f32', matrix: 'f16' }, f16: { act: 'f16', matrix: 'f16' } };

function shapesOf(C: number): Map<string, number[]> {
  return new Map([
    [`${P}.to_q.weight`, [C, C]], [`${P}.to_k.weight`, [C, C]], [`${P}.to_v.weight`, [C, C]],
    [`${P}.to_out.0.weight`, [C, C]], [`${P}.to_out.0.bias`, [C]],
  ]);
}

/** Random weights, rounded to f16 where they are stored as f16 (so the reference sees the stored values). */
function weightData(C: number, mode: Mode): Map<string, Float32Array> {
  return new Map(Array.from(shapesOf(C), ([n, s], i) => {
    const d = randomArray(s.reduce((a, b) => a * b, 1), 70 + i, -0.4, 0.4);
    const stored = s.length > 1 ? DTYPES[mode].matrix : DTYPES[mode].act;
    return [n, stored === 'f16' ? roundToF16(d) : d];
  }));
}

function write(ctx: GpuContext, t: Tensor, d: Float32Array): void {
  ctx.write(t, t.dtype === 'f16' ? toF16Array(d) : d);
}

/** The weights as the loader stores them (q/k/v fused where aligned) and as separate buffers. */
function layouts(ctx: GpuContext, C: number, mode: Mode, data: Map<string, Float32Array>) {
  const { act, matrix } = DTYPES[mode];
  const storage = (s: readonly number[]) => (s.length > 1 ? matrix : act);
  const fused = allocateWeightsFusingQkv(ctx, shapesOf(C), storage, [P]);
  const separate = allocateWeightsFusingQkv(ctx, shapesOf(C), storage, []);
  for (const m of [fused, separate]) for (const [n, t] of m) write(ctx, t, data.get(n)!);
  return { fused, separate };
}

/** Counts the backend's matmuls (linear calls) of one module run. */
function countingBackend(be: GpuUNetBackend): { be: GpuUNetBackend; linears: () => number } {
  let n = 0;
  const linear = be.linear.bind(be);
  be.linear = (...a) => (n++, linear(...a));
  return { be, linears: () => n };
}

async function run(ctx: GpuContext, be: GpuUNetBackend, x: Tensor, residual: Tensor, heads: number): Promise<Float32Array> {
  return checked(ctx, 'self-attention', async () => {
    const y = await selfAttentionModule(be, P, heads, x, residual);
    const d = await ctx.read(y);
    ctx.release(y);
    return d;
  });
}

/** to_out(attention(x·Wqᵀ, x·Wkᵀ, x·Wvᵀ)) + b + residual in f64, from the stored weight values. */
function reference(x: Float32Array, res: Float32Array, B: number, T: number, C: number, heads: number, w: (n: string) => Float32Array): Float32Array {
  const proj = (n: string) => linearReference(x, [B * T, C], w(`${P}.${n}.weight`), [C, C]).data;
  const D = C / heads;
  const op = (data: ArrayLike<number>) => ({ data, view: denseView(T, C, D) });
  const a = attentionReference({ batch: B, heads, tq: T, tk: T, headDim: D, scale: 1 / Math.sqrt(D), causal: false }, op(proj('to_q')), op(proj('to_k')), op(proj('to_v')));
  const out = linearReference(a, [B * T, C], w(`${P}.to_out.0.weight`), [C, C], w(`${P}.to_out.0.bias`)).data;
  return Float32Array.from(out, (v, i) => v + res[i]!);
}

/** max |ours − reference| / max |reference| allowed: f32 ~1e-6 noise; f16 activations round each stored tensor to 11 bits. */
const TOL: Record<Mode, number> = { f32: 1e-5, packed: 1e-5, f16: 5e-3 };

describe(`self-attention with one q/k/v matmul on ${TEST_ADAPTER}`, () => {
  // C = 48 (3 heads of 16): C·C·bytes is a multiple of 256 in f32 and f16, so q/k/v are fused;
  // C = 20 (4 heads of 5): 1600 bytes in f32, 800 in f16, neither is, so the layer stays three buffers.
  const cases: { C: number; heads: number; fusable: boolean }[] = [{ C: 48, heads: 3, fusable: true }, { C: 20, heads: 4, fusable: false }];
  const [B, T] = [2, 37];

  // f16 activations need shader-f16 (lavapipe); SwiftShader runs f32 and the packed path
  const modes: Mode[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'packed', 'f16'] : ['f32', 'packed'];
  for (const mode of modes) {
    for (const { C, heads, fusable } of cases) {
      it(`${mode}, C=${C}, ${heads} heads, ${B}×${T} tokens: ${fusable ? 'one matmul equals three' : 'not fusable, three matmuls'}, both equal the reference`, async () => {
        const ctx = await testContext();
        if (mode === 'f16') expect(ctx.hasF16).toBe(true);
        const { act } = DTYPES[mode];
        const data = weightData(C, mode);
        const { fused, separate } = layouts(ctx, C, mode, data);
        // views, not copies: the same bytes of weight memory either way
        expect(weightBufferBytes(fused.values())).toBe(weightBufferBytes(separate.values()));
        const names = qkvWeightNames(P);
        const round = (d: Float32Array) => (act === 'f16' ? roundToF16(d) : d);
        const x = round(randomArray(B * T * C, 11));
        const res = round(randomArray(B * T * C, 12));
        const tx = ctx.upload(x, [B, T, C], act, 'x');
        const tr = ctx.upload(res, [B, T, C], act, 'residual');
        try {
          const a = countingBackend(new GpuUNetBackend(ctx, fused, act, 'fused'));
          const b = countingBackend(new GpuUNetBackend(ctx, separate, act, 'separate'));
          expect(a.be.fusedWeight(names) !== null).toBe(fusable);
          expect(b.be.fusedWeight(names)).toBeNull();
          const one = await run(ctx, a.be, tx, tr, heads);
          const three = await run(ctx, b.be, tx, tr, heads);
          expect(a.linears()).toBe(fusable ? 2 : 4); // qkv + to_out, or q, k, v + to_out
          expect(b.linears()).toBe(4);
          const same = compare(one, three);
          console.log(`[self-attention] ${mode} C=${C}: one q/k/v matmul vs three ${describeComparison(same)}`);
          // The same dot products summed in the same k order: the matmul tiles rows and columns and, on a
          // CPU adapter, never splits k (ops/matmul.ts chooseSplitK), so the outputs are bit-identical
          // (measured on SwiftShader and lavapipe, f32, packed and f16). On a GPU a split-K chosen by
          // the tile count could differ between [3C, C] and [C, C] and move the sums by an ulp.
          expect(same.maxAbs).toBe(0);
          const ref = reference(x, res, B, T, C, heads, (n) => data.get(n)!);
          const cmp = compare(one, ref);
          expect(cmp.maxRel, describeComparison(cmp)).toBeLessThanOrEqual(TOL[mode]);
        } finally {
          ctx.release(tx, tr);
          destroyWeights(ctx, [...fused.values(), ...separate.values()]);
        }
      });
    }
  }

  it('a LoRA folded into to_q or fused onto it: the layer runs three matmuls, as on separate buffers; the shared buffer is untouched', async () => {
    const ctx = await testContext();
    const [C, heads, rank] = [48, 3, 3];
    const data = weightData(C, 'f32');
    const { fused, separate } = layouts(ctx, C, 'f32', data);
    const x = randomArray(B * T * C, 21);
    const res = randomArray(B * T * C, 22);
    const down = randomArray(rank * C, 23, -0.3, 0.3);
    const up = randomArray(C * rank, 24, -0.3, 0.3);
    const scale = 0.7;
    const tx = ctx.upload(x, [B, T, C], 'f32', 'x');
    const tr = ctx.upload(res, [B, T, C], 'f32', 'residual');
    const td = ctx.upload(down, [rank, C], 'f32', 'lora down');
    const tu = ctx.upload(up, [C, rank], 'f32', 'lora up');
    const qName = `${P}.to_q.weight`;
    const names = qkvWeightNames(P);
    const packs: PackedLora[] = [];
    const folds: Tensor[] = [];
    try {
      const pack = async (w: Tensor) => (packs.push(await packLora(ctx, w, [{ down: td, up: tu, scale }])), packs[packs.length - 1]!);
      const plain = await run(ctx, new GpuUNetBackend(ctx, fused, 'f32', 'fused'), tx, tr, heads);

      // folded: W_q' = W_q + s·U·D is a new tensor (ops/lora.ts foldLora), as the engine's folded LoRA view makes it
      const foldOnFused = await foldLora(ctx, fused.get(qName)!, await pack(fused.get(qName)!));
      const foldOnSeparate = await foldLora(ctx, separate.get(qName)!, await pack(separate.get(qName)!));
      folds.push(foldOnFused, foldOnSeparate);
      const foldedFused = new GpuUNetBackend(ctx, new Map(fused).set(qName, foldOnFused), 'f32', 'fused + folded lora');
      const foldedSeparate = new GpuUNetBackend(ctx, new Map(separate).set(qName, foldOnSeparate), 'f32', 'separate + folded lora');
      expect(foldedFused.fusedWeight(names)).toBeNull();
      const viaFoldFused = await run(ctx, foldedFused, tx, tr, heads);
      const viaFoldSeparate = await run(ctx, foldedSeparate, tx, tr, heads);
      expect(compare(viaFoldFused, viaFoldSeparate).maxAbs).toBe(0);

      // fused adapters on the base to_q (the engine's low-memory mode): keyed by the view, so no q/k/v fusion
      const adaptersOnFused = new GpuUNetBackend(ctx, fused, 'f32', 'fused + lora adapters', new Map([[fused.get(qName)!, await pack(fused.get(qName)!)]]));
      expect(adaptersOnFused.fusedWeight(names)).toBeNull();
      const viaAdapters = await run(ctx, adaptersOnFused, tx, tr, heads);

      // the reference with W_q + s·U·D in f64
      const wq = data.get(qName)!;
      const wq2 = Float32Array.from(wq, (v, i) => {
        const [o, k] = [Math.floor(i / C), i % C];
        let d = 0;
        for (let r = 0; r < rank; r++) d += up[o * rank + r]! * down[r * C + k]!;
        return v + scale * d;
      });
      const ref = reference(x, res, B, T, C, heads, (n) => (n === qName ? wq2 : data.get(n)!));
      for (const [what, got] of [['folded', viaFoldFused], ['adapters', viaAdapters]] as const) {
        const cmp = compare(got, ref);
        expect(cmp.maxRel, `${what}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(1e-5);
      }
      expect(compare(viaFoldFused, plain).maxAbs).toBeGreaterThan(1e-3); // the LoRA did change the output

      // the fold wrote a new tensor: the shared q/k/v buffer and the fused path are as before
      expect(await ctx.read(fused.get(qName)!)).toEqual(data.get(qName));
      const again = await run(ctx, new GpuUNetBackend(ctx, fused, 'f32', 'fused'), tx, tr, heads);
      expect(compare(again, plain).maxAbs).toBe(0);
    } finally {
      for (const p of packs) releasePacked(ctx, p);
      for (const t of folds) ctx.destroyTensor(t);
      ctx.release(tx, tr, td, tu);
      destroyWeights(ctx, [...fused.values(), ...separate.values()]);
    }
  });
});
