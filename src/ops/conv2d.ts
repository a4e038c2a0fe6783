/**
 * conv2d(x, weight, options): 2-D convolution, NCHW activations, PyTorch weight layout [Cout, Cin, kh, kw],
 * as one implicit-GEMM dispatch (shaders/conv2d.wgsl) with the bias and an optional residual add fused
 * into the epilogue (out = conv(x) + bias + residual, the tail of diffusers' ResnetBlock2D).
 *
 * Every stride, padding and kernel size works; SDXL uses 3×3 (stride 1 or 2, padding 1) and 1×1
 * (padding 0). Output size follows PyTorch: floor((H + 2·pad − kh) / stride) + 1.
 * f16 tensors mean f16 storage with f32 accumulation and need `shader-f16` (FeatureMissingError otherwise).
 * An f16 weight under f32 activations is a packed weight (f16 pairs in u32 words, unpacked in the
 * kernel): the path of devices without `shader-f16`, where x, bias, residual and out are f32.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../gpu/tensor';
import { MAX_GRID_X } from './grid';
import source from '../../shaders/conv2d.wgsl?raw';

export interface Conv2dTuning {
  /** Threads per workgroup side T; the tile is 8T pixels × 8T couts (4 → 32×32, 8 → 64×64, 16 → 128×128). */
  threads: 4 | 8 | 16;
  /** K-slice depth staged in workgroup memory per barrier pair: a multiple of `threads`, at most 256/threads. */
  bk: number;
}

export interface Conv2dVariant {
  dtype: DType;
  /** The weight is packed f16 (u32 pairs) while dtype, the activations', is f32. */
  packedWeight: boolean;
  hasBias: boolean;
  residual: boolean;
  threads: Conv2dTuning['threads'];
  /** The K-slice depth: it sizes the workgroup tiles (2·T·bk vec4 each), which every workgroup zeroes first. */
  bk: number;
}

export const conv2dKernel: KernelDescriptor<Conv2dVariant> = {
  name: 'conv2d',
  source,
  defines: ({ dtype, packedWeight, hasBias, residual }) => ({ DTYPE: dtype, PACKED_W: packedWeight, HAS_BIAS: hasBias, RESIDUAL: residual }),
  // WebGPU zero-fills workgroup memory at every workgroup's start; tiles sized for the slice in use
  // rather than the deepest one made the small convs of a 16-48-channel UNet ~30% faster on SwiftShader.
  constants: ({ threads, bk }) => ({ T: threads, TILE_VEC4: 2 * threads * bk }),
};

export interface Conv2dOptions {
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side; default floor(kh / 2) (1 for 3×3, 0 for 1×1). */
  padding?: number;
  /**
   * Extra zero rows/columns after the bottom and right edges only, i.e. F.pad(x, (0, p, 0, p)) before
   * the conv: diffusers' Downsample2D with padding=0 (the VAE encoder) pads (0, 1, 0, 1). Default 0.
   * The shader needs no change: it already reads every tap outside [0, H)×[0, W) as zero, so only the
   * output size grows.
   */
  padEnd?: number;
  /**
   * Zero rows [above, below] x, replacing `padding` and `padEnd` vertically (columns keep them). A band
   * of a taller image (the VAE's banded decode, model/vae/banded.ts) carries its neighbours' rows as a
   * halo and takes zero rows only at the image's own top and bottom edges. Default [padding,
   * padding + padEnd].
   */
  rowPadding?: readonly [number, number];
  /** [Cout]; omitted or null for a convolution without bias. */
  bias?: Tensor | null;
  /** Added to the result; same shape as the output (the ResnetBlock2D skip connection). */
  residual?: Tensor | null;
  /** A preallocated output of the output shape and x's dtype. */
  out?: Tensor;
  label?: string;
  /** Overrides the tile choice (benchmarks and tuning sweeps); normally picked from the shape. */
  tuning?: Partial<Conv2dTuning>;
}

export function conv2dOutputSize(
  h: number, w: number, kh: number, kw: number, stride: number, pad: number, padEnd = 0, rowPadding?: readonly [number, number],
): [number, number] {
  const rows = rowPadding ? rowPadding[0] + rowPadding[1] : 2 * pad + padEnd;
  return [Math.floor((h + rows - kh) / stride) + 1, Math.floor((w + 2 * pad + padEnd - kw) / stride) + 1];
}

function sameBuffer(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset === b.offset;
}

export async function conv2d(ctx: GpuContext, x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Promise<Tensor> {
  const label = options.label ?? 'conv2d';
  if (x.shape.length !== 4) throw new RangeError(`${label}: x must be [N, C, H, W], got ${describe(x)}`);
  if (weight.shape.length !== 4) throw new RangeError(`${label}: weight must be [Cout, Cin, kh, kw], got ${describe(weight)}`);
  const [batch, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
  const stride = options.stride ?? 1;
  const pad = options.padding ?? Math.floor(kh / 2);
  if (wcin !== cin) throw new RangeError(`${label}: weight ${describe(weight)} expects ${wcin} input channels, x has ${cin}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${label}: stride ${stride} must be a positive integer`);
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`${label}: padding ${pad} must be a non-negative integer`);
  const padEnd = options.padEnd ?? 0;
  if (!Number.isInteger(padEnd) || padEnd < 0) throw new RangeError(`${label}: padEnd ${padEnd} must be a non-negative integer`);
  const rowPadding = options.rowPadding;
  if (rowPadding && !rowPadding.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new RangeError(`${label}: rowPadding [${rowPadding.join(', ')}] must be non-negative integers`);
  }
  const [hout, wout] = conv2dOutputSize(h, w, kh, kw, stride, pad, padEnd, rowPadding);
  if (hout < 1 || wout < 1) throw new RangeError(`${label}: a ${kh}×${kw} kernel does not fit ${describe(x)} with padding ${pad}`);
  const outShape = [batch, cout, hout, wout];

  const dtype = x.dtype;
  const bias = options.bias ?? null;
  const residual = options.residual ?? null;
  const packedWeight = dtype === 'f32' && weight.dtype === 'f16';
  const operands: [string, Tensor | null][] = [['weight', packedWeight ? null : weight], ['bias', bias], ['residual', residual], ['out', options.out ?? null]];
  for (const [name, t] of operands) {
    if (t && t.dtype !== dtype) throw new RangeError(`${label}: ${name} is ${describe(t)} but x is ${dtype}`);
  }
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  if (bias && !sameShape(bias.shape, [cout])) throw new RangeError(`${label}: bias ${describe(bias)} must be [${cout}]`);
  if (residual && !sameShape(residual.shape, outShape)) {
    throw new RangeError(`${label}: residual ${describe(residual)} must be [${outShape.join(', ')}]`);
  }
  const out = options.out ?? ctx.empty(outShape, dtype, label);
  if (!sameShape(out.shape, outShape)) throw new RangeError(`${label}: out ${describe(out)} must be [${outShape.join(', ')}]`);
  if (sameBuffer(out, x) || (residual && sameBuffer(out, residual))) {
    throw new RangeError(`${label}: out must not alias x or residual (one buffer cannot be read and written in a dispatch)`);
  }
  if (numel(outShape) === 0 || cin === 0) {
    if (numel(outShape) !== 0) throw new RangeError(`${label}: zero input channels`);
    return out;
  }

  const m = batch * hout * wout;
  const { threads, bk } = { ...pickTuning(cin, cout), ...options.tuning };
  if (bk % threads !== 0 || bk < threads || bk > 256 / threads) {
    throw new RangeError(`${label}: K-slice ${bk} must be a multiple of ${threads} and at most ${256 / threads}`);
  }
  const tile = 8 * threads;
  const mtiles = ceilDiv(m, tile);
  const k = await ctx.kernel(conv2dKernel, { dtype, packedWeight, hasBias: bias !== null, residual: residual !== null, threads, bk });
  const bindings = [binding(x), binding(weight), binding(out)];
  if (bias) bindings.push(binding(bias));
  if (residual) bindings.push(binding(residual));
  ctx.dispatch(k, {
    uniforms: { cin, h, w, cout, hout, wout, stride, pad, kh, kw, pad_top: rowPadding ? rowPadding[0] : pad, m, mtiles, bk },
    bindings,
    workgroups: [Math.min(mtiles, MAX_GRID_X), ceilDiv(mtiles, MAX_GRID_X), ceilDiv(cout, tile)],
  });
  return out;
}

/**
 * 64×64 tiles (8×8 threads with 8×8 register blocks) measured fastest on both CPU adapters, 1.3-1.7×
 * the 128×128 ones. The K-slice is as deep as Cin allows up to 32: deeper slices mean fewer barriers
 * per FLOP, and a slice deeper than Cin would only stage zeros (conv_in has Cin = 4).
 */
function pickTuning(cin: number, cout: number): Conv2dTuning {
  // At most 32 output channels fill a 32-wide cout tile (4×4 threads) but only half or a quarter of a
  // 64-wide one: on SwiftShader 16→16 and 32→32 convs ran 1.8-2× faster so (tiny UNet, 32² and 16²);
  // SDXL's only such conv is the VAE's conv_out (3 channels).
  if (cout <= 32) return { threads: 4, bk: Math.min(32, ceilDiv(cin, 4) * 4) };
  return { threads: 8, bk: Math.min(32, ceilDiv(cin, 8) * 8) };
}
