/**
 * The banded VAE backend: the same forward (forward.ts) on activations held as horizontal bands, each its
 * own binding under the limit, so an image whose activations exceed one binding (SDXL 1024²: 512 MiB
 * in f16 at up_blocks.2's upsample) decodes as the untiled computation, up to summation order:
 *   - 3×3 conv: each output band convolves a scratch copy of its input rows plus one halo row from each
 *     neighbour (conv2d's rowPadding puts zero rows only at the image's own top and bottom), so every
 *     output row sees exactly the inputs it sees untiled;
 *   - GroupNorm: ops/norm.ts groupNormBands, statistics of the whole tensor (torch.nn.GroupNorm over the
 *     full H·W: biased variance, eps from the arch) normalise every band;
 *   - nearest 2× upsample: per band (output boundaries even, so each output row's source row is local);
 *   - the mid block's attention runs at latent resolution: its input is gathered into one tensor.
 * A tensor whose bound size fits the limit is one band and every op is the plain GPU op, so small
 * layers (and whole small images) take exactly the untiled kernels. Bands are re-split per op from its
 * output's row size (splitRows), so they shrink as the image grows through the upsamplers.
 */
import type { GpuContext } from '../../gpu/context';
import { numel, type DType, type Tensor } from '../../gpu/tensor';
import { conv2d, conv2dOutputSize } from '../../ops/conv2d';
import { add } from '../../ops/elementwise';
import { groupNormBands } from '../../ops/norm';
import { stridedCopy } from '../../ops/strided-copy';
import { upsampleNearest } from '../../ops/upsample';
import type { TensorRef } from '../unet/backend';
import type { VaeBackend } from './backend';
import { GpuVaeBackend } from './backend';
import { bandsOver, rowBytes, splitRows, type BandRows } from './bands';

/** One NCHW tensor as bands of rows (a non-image tensor is one band). */
export interface Banded extends TensorRef {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly bands: readonly Tensor[];
  readonly rows: readonly BandRows[];
  /** Not released by release(): the caller's input or a weight. */
  readonly borrowed?: boolean;
}

export function wholeBand(t: Tensor, borrowed = false): Banded {
  return { shape: t.shape, dtype: t.dtype, bands: [t], rows: [{ start: 0, end: t.shape.length === 4 ? t.shape[2]! : 1 }], borrowed };
}

function notVae(op: string): never {
  throw new Error(`banded VAE backend: ${op} is not an op of the VAE forward`);
}

export class BandedVaeBackend implements VaeBackend<Banded> {
  private readonly inner: GpuVaeBackend;
  /** Largest band bound so far (tests check it against the limit). */
  largestBandBytes = 0;
  /** Most bands one tensor was split into. */
  mostBands = 1;

  constructor(
    private readonly ctx: GpuContext,
    weights: ReadonlyMap<string, Tensor>,
    readonly dtype: DType,
    private readonly limit: number,
    file = 'vae',
  ) {
    this.inner = new GpuVaeBackend(ctx, weights, dtype, file);
  }

  weight(name: string): Banded {
    return wholeBand(this.inner.weight(name), true);
  }
  hasWeight(name: string): boolean {
    return this.inner.hasWeight(name);
  }

  private empty(shape: number[], label: string): Tensor {
    const t = this.ctx.empty(shape, this.dtype, label);
    const bytes = Math.ceil((numel(shape) * (this.dtype === 'f16' ? 2 : 4)) / 4) * 4;
    if (bytes > this.limit) throw new RangeError(`banded VAE: ${label} [${shape}] needs a ${bytes}-byte binding over the ${this.limit}-byte limit`);
    this.largestBandBytes = Math.max(this.largestBandBytes, bytes);
    return t;
  }

  private banded(shape: number[], bands: Tensor[], rows: BandRows[]): Banded {
    this.mostBands = Math.max(this.mostBands, bands.length);
    return { shape, dtype: this.dtype, bands, rows };
  }

  /**
   * Rows [r0, r1) of x as one tensor [N, C, r1 − r0, W]: the band itself when it is exactly one band
   * (owned false), else a new scratch tensor filled by one strided copy per overlapping band.
   */
  private async gather(x: Banded, r0: number, r1: number): Promise<{ t: Tensor; owned: boolean }> {
    const one = x.rows.findIndex((b) => b.start === r0 && b.end === r1);
    if (one >= 0) return { t: x.bands[one]!, owned: false };
    const [n, c, , w] = x.shape as [number, number, number, number];
    const t = this.empty([n, c, r1 - r0, w], 'vae-band-gather');
    for (const o of bandsOver(x.rows, r0, r1)) {
      const src = x.rows[o.index]!;
      // one copy row per (n, c) plane: the overlap's rows are contiguous in both tensors
      await stridedCopy(this.ctx, x.bands[o.index]!, t, {
        rows: n * c,
        cols: (o.end - o.start) * w,
        srcOffset: (o.start - src.start) * w,
        srcStride: (src.end - src.start) * w,
        dstOffset: (o.start - r0) * w,
        dstStride: (r1 - r0) * w,
      });
    }
    return { t, owned: true };
  }

  private drop(...g: { t: Tensor; owned: boolean }[]): void {
    for (const x of g) if (x.owned) this.ctx.release(x.t);
  }

  /** The whole tensor as one new binding (it must fit the limit); consumes x. The decoder's output. */
  async merged(x: Banded): Promise<Tensor> {
    if (x.bands.length === 1 && !x.borrowed) return x.bands[0]!;
    const t = (await this.gather(x, 0, x.shape[2]!)).t;
    this.release(x);
    return t;
  }

  private async single(x: Banded): Promise<{ t: Tensor; owned: boolean }> {
    if (x.bands.length === 1) return { t: x.bands[0]!, owned: false };
    return this.gather(x, 0, x.shape[2]!);
  }

  /**
   * A stride-1 conv (kh = 2·padding + 1) band by band: output band [o0, o1) reads input rows
   * [o0 − padding, o1 + padding) clipped to the image, zero rows standing in only beyond its edges.
   */
  async conv2d(x: Banded, w: Banded, b: Banded | null, o: { stride: 1 | 2; padding: 0 | 1; residual?: Banded }): Promise<Banded> {
    const [n, , h, wd] = x.shape as [number, number, number, number];
    const wt = w.bands[0]!;
    const [cout, , kh, kw] = wt.shape as [number, number, number, number];
    if (o.stride !== 1) throw new RangeError('banded VAE: only stride-1 convs are banded (the downsample has its own op)');
    const [hout, wout] = conv2dOutputSize(h, wd, kh, kw, 1, o.padding);
    const outShape = [n, cout, hout, wout];
    const per = Math.max(rowBytes(x.shape, this.dtype), rowBytes(outShape, this.dtype));
    const split = splitRows(hout, per, this.limit, { halo: kh - 1 });
    const bias = b?.bands[0] ?? null;
    const bands: Tensor[] = [];
    for (const r of split) {
      const lo = r.start - o.padding;
      const hi = r.end - o.padding + kh - 1;
      const src = await this.gather(x, Math.max(lo, 0), Math.min(hi, h));
      const res = o.residual ? await this.gather(o.residual, r.start, r.end) : null;
      const out = this.empty([n, cout, r.end - r.start, wout], 'vae-band-conv');
      await conv2d(this.ctx, src.t, wt, {
        stride: 1, padding: o.padding, rowPadding: [Math.max(-lo, 0), Math.max(hi - h, 0)], bias, residual: res?.t ?? null, out,
      });
      this.drop(src, ...(res ? [res] : []));
      bands.push(out);
    }
    return this.banded(outShape, bands, split);
  }

  /**
   * Downsample2D's conv(F.pad(x, (0, 1, 0, 1)), stride 2): output rows [o0, o1) read input rows
   * [2·o0, 2·o1 + 1); only the image's last row may need the one zero row below it.
   */
  async downsampleConv(x: Banded, w: Banded, b: Banded): Promise<Banded> {
    const [n, , h, wd] = x.shape as [number, number, number, number];
    const wt = w.bands[0]!;
    const cout = wt.shape[0]!;
    const [hout, wout] = conv2dOutputSize(h, wd, 3, 3, 2, 0, 1);
    const outShape = [n, cout, hout, wout];
    // an output row binds two input rows; the halo is the one extra input row (≤ two at the same size)
    const per = Math.max(2 * rowBytes(x.shape, this.dtype), rowBytes(outShape, this.dtype));
    const split = splitRows(hout, per, this.limit, { halo: 1 });
    const bands: Tensor[] = [];
    for (const r of split) {
      const hi = 2 * r.end + 1;
      const src = await this.gather(x, 2 * r.start, Math.min(hi, h));
      const out = this.empty([n, cout, r.end - r.start, wout], 'vae-band-downsample');
      await conv2d(this.ctx, src.t, wt, { stride: 2, padding: 0, padEnd: 1, rowPadding: [0, Math.max(hi - h, 0)], bias: b.bands[0]!, out });
      this.drop(src);
      bands.push(out);
    }
    return this.banded(outShape, bands, split);
  }

  async groupNorm(x: Banded, gamma: Banded, beta: Banded, o: { groups: number; eps: number; silu: boolean }): Promise<Banded> {
    const ys = await groupNormBands(this.ctx, x.bands, gamma.bands[0]!, beta.bands[0]!, o);
    return this.banded([...x.shape], ys, [...x.rows]);
  }

  async add(a: Banded, b: Banded): Promise<Banded> {
    if (a.shape.join() !== b.shape.join()) throw new RangeError(`banded VAE: add of [${a.shape}] and [${b.shape}] (the VAE adds equal shapes only)`);
    const bands: Tensor[] = [];
    for (const [i, r] of a.rows.entries()) {
      const other = await this.gather(b, r.start, r.end);
      bands.push(await add(this.ctx, a.bands[i]!, other.t));
      this.drop(other);
    }
    return this.banded([...a.shape], bands, [...a.rows]);
  }

  /** Nearest 2× (Upsample2D): output band [o0, o1) with even ends is the 2× of input rows [o0/2, o1/2). */
  async upsampleNearest(x: Banded, height: number, width: number): Promise<Banded> {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    if (height !== 2 * h || width !== 2 * w) throw new RangeError(`banded VAE: upsample ${h}×${w} → ${height}×${width} is not the VAE's 2×`);
    const outShape = [n, c, height, width];
    const split = splitRows(height, rowBytes(outShape, this.dtype), this.limit, { unit: 2 });
    const bands: Tensor[] = [];
    for (const r of split) {
      const src = await this.gather(x, r.start / 2, r.end / 2);
      bands.push(await upsampleNearest(this.ctx, src.t, { out: this.empty([n, c, r.end - r.start, width], 'vae-band-upsample') }));
      this.drop(src);
    }
    return this.banded(outShape, bands, split);
  }

  async toTokens(x: Banded): Promise<Banded> {
    const s = await this.single(x);
    const t = await this.inner.toTokens(s.t);
    this.drop(s);
    return wholeBand(t);
  }
  async fromTokens(t: Banded, height: number, width: number, residual?: Banded): Promise<Banded> {
    // tokens are one band (the attention runs at the VAE's smallest size); the residual is gathered
    const r = residual ? await this.single(residual) : undefined;
    const out = await this.inner.fromTokens(t.bands[0]!, height, width, r?.t);
    if (r) this.drop(r);
    return wholeBand(out);
  }
  async linear(x: Banded, w: Banded, b: Banded | null, residual?: Banded): Promise<Banded> {
    return wholeBand(await this.inner.linear(x.bands[0]!, w.bands[0]!, b?.bands[0] ?? null, residual?.bands[0]));
  }
  async attention(q: Banded, k: Banded, v: Banded, heads: number): Promise<Banded> {
    return wholeBand(await this.inner.attention(q.bands[0]!, k.bands[0]!, v.bands[0]!, heads));
  }

  release(...tensors: Banded[]): void {
    for (const t of tensors) if (!t.borrowed) this.ctx.release(...t.bands);
  }

  timestepEmbedding(): never { return notVae('timestepEmbedding'); }
  layerNorm(): never { return notVae('layerNorm'); }
  regionalAttention(): never { return notVae('regionalAttention'); }
  geglu(): never { return notVae('geglu'); }
  silu(): never { return notVae('silu'); }
  concatChannels(): never { return notVae('concatChannels'); }
  concatLast(): never { return notVae('concatLast'); }
  reshape(): never { return notVae('reshape'); }
}
