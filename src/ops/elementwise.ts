/**
 * Elementwise ops: add/sub/mul with numpy broadcasting, scale/affine, and the activations SiLU, GELU
 * (erf, exact), GELU (tanh approximation), quick-GELU (CLIP-L) and erf. All run one kernel
 * (shaders/elementwise.wgsl): out = act(alpha * (a OP b) + beta), the op and activation as defines,
 * shapes and broadcast strides as uniforms. Storage is f32 or f16 per operand; math is f32.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, bindingSize, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/elementwise.wgsl?raw';

export type BinaryOp = 'add' | 'sub' | 'mul';
export type Activation = 'none' | 'silu' | 'gelu' | 'gelu_tanh' | 'quick_gelu' | 'erf';

export interface ElementwiseOptions {
  /** Write here instead of a new tensor (same element count). It may be the first operand itself. */
  out?: Tensor;
  /** dtype of a new result; default the first operand's. */
  dtype?: DType;
  label?: string;
}

export interface BinaryOptions extends ElementwiseOptions {
  /** Fused epilogue applied to the result. */
  activation?: Activation;
}

export interface UnaryOptions extends ElementwiseOptions {
  /** The activation is applied to alpha * x + beta (defaults 1 and 0). */
  alpha?: number;
  beta?: number;
}

/** Collapsed dims after broadcasting: the kernel walks at most this many. */
export const MAX_BROADCAST_DIMS = 8;
const WG = 256;

interface Variant {
  op: BinaryOp | 'none';
  act: Activation;
  a: DType;
  b: DType;
  out: DType;
  bcast: boolean;
  inplace: boolean;
}

export const elementwiseKernel: KernelDescriptor<Variant> = {
  name: 'elementwise',
  source,
  defines: (v) => ({
    A_T: v.a,
    B_T: v.b,
    O_T: v.out,
    F16: v.a === 'f16' || v.b === 'f16' || v.out === 'f16',
    OP: v.op,
    ACT: v.act,
    BCAST: v.bcast,
    INPLACE: v.inplace,
    OUT_BINDING: v.op === 'none' ? 2 : 3,
  }),
  constants: () => ({ WG }),
};

/** numpy broadcasting of two shapes (aligned at the trailing dims); RangeError if incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

export interface BroadcastLayout {
  /** Collapsed output dims, innermost first. */
  dims: number[];
  /** Element strides of each operand along `dims` (0 where it is broadcast). */
  aStrides: number[];
  bStrides: number[];
}

/** Strides of `shape` read as a broadcast to `out` (right-aligned), outermost first. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = 1; i <= shape.length; i++) {
    const d = shape[shape.length - i]!;
    if (d !== 1) strides[out.length - i] = stride;
    stride *= d;
  }
  return strides;
}

/**
 * Drops size-1 output dims and merges neighbours that both operands walk contiguously, so
 * [N,C,H,W] + [N,C,1,1] becomes three dims (HW, C, N) and a same-shape op one dim with stride 1.
 */
export function broadcastLayout(out: readonly number[], a: readonly number[], b: readonly number[]): BroadcastLayout {
  const sa = broadcastStrides(a, out);
  const sb = broadcastStrides(b, out);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = out.length - 1; i >= 0; i--) {
    const n = out[i]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && sa[i] === aStrides[last]! * dims[last]! && sb[i] === bStrides[last]! * dims[last]!) {
      dims[last] = dims[last]! * n;
    } else {
      dims.push(n);
      aStrides.push(sa[i]!);
      bStrides.push(sb[i]!);
    }
  }
  if (dims.length === 0) return { dims: [1], aStrides: [1], bStrides: [1] };
  return { dims, aStrides, bStrides };
}

function vec8(values: number[], pad: number): [number[], number[]] {
  const v = [...values, ...new Array<number>(MAX_BROADCAST_DIMS - values.length).fill(pad)];
  return [v.slice(0, 4), v.slice(4, 8)];
}

function overlaps(x: Tensor, y: Tensor): boolean {
  return x.buffer === y.buffer && x.offset < y.offset + bindingSize(y) && y.offset < x.offset + bindingSize(x);
}

function sameView(x: Tensor, y: Tensor): boolean {
  return x.buffer === y.buffer && x.offset === y.offset && numel(x.shape) === numel(y.shape) && x.dtype === y.dtype;
}

async function run(
  ctx: GpuContext,
  op: BinaryOp | 'none',
  act: Activation,
  a: Tensor,
  b: Tensor | null,
  alpha: number,
  beta: number,
  opts: ElementwiseOptions,
): Promise<Tensor> {
  const shape = b ? broadcastShapes(a.shape, b.shape) : [...a.shape];
  const count = numel(shape);
  const outDtype = opts.out?.dtype ?? opts.dtype ?? a.dtype;
  if (!ctx.hasF16 && [a.dtype, b?.dtype, outDtype].includes('f16')) {
    throw new FeatureMissingError('shader-f16', `elementwise ${op}/${act} on f16 tensors`);
  }
  const out = opts.out ?? ctx.empty(shape, outDtype, opts.label ?? (op === 'none' ? act : op));
  if (numel(out.shape) !== count) {
    throw new RangeError(`elementwise ${op}: out has ${numel(out.shape)} elements, the result ${count}`);
  }
  const inplace = sameView(out, a) && numel(a.shape) === count;
  if ((!inplace && overlaps(out, a)) || (b && overlaps(out, b))) {
    throw new RangeError(`elementwise ${op}: out may be the first operand itself, but must not overlap the others`);
  }
  if (count === 0) return out;
  const layout = broadcastLayout(shape, a.shape, b?.shape ?? a.shape);
  if (layout.dims.length > MAX_BROADCAST_DIMS) {
    const need = layout.dims.length;
    throw new RangeError(`elementwise ${op}: the broadcast needs ${need} dims (at most ${MAX_BROADCAST_DIMS})`);
  }
  const bcast = layout.dims.length > 1 || layout.aStrides[0] !== 1 || layout.bStrides[0] !== 1;
  const variant: Variant = { op, act, a: a.dtype, b: b?.dtype ?? 'f32', out: out.dtype, bcast, inplace };
  const k = await ctx.kernel(elementwiseKernel, variant);
  const [shapeLo, shapeHi] = vec8(layout.dims, 1);
  const [aLo, aHi] = vec8(layout.aStrides, 0);
  const [bLo, bHi] = vec8(layout.bStrides, 0);
  const bindings = [binding(a)];
  if (b) bindings.push(binding(b));
  if (!inplace) bindings.push(binding(out));
  ctx.dispatch(k, {
    uniforms: {
      count,
      ndim: layout.dims.length,
      alpha,
      beta,
      shape_lo: shapeLo,
      shape_hi: shapeHi,
      a_stride_lo: aLo,
      a_stride_hi: aHi,
      b_stride_lo: bLo,
      b_stride_hi: bHi,
    },
    bindings,
    workgroups: grid1d(count, WG),
  });
  return out;
}

/** a OP b with numpy broadcasting of both operands (e.g. [N,C,H,W] + [N,C,1,1], [N,C] + [C]). */
export function binary(ctx: GpuContext, op: BinaryOp, a: Tensor, b: Tensor, opts: BinaryOptions = {}): Promise<Tensor> {
  return run(ctx, op, opts.activation ?? 'none', a, b, 1, 0, opts);
}

export const add = (ctx: GpuContext, a: Tensor, b: Tensor, opts?: BinaryOptions) => binary(ctx, 'add', a, b, opts);
export const sub = (ctx: GpuContext, a: Tensor, b: Tensor, opts?: BinaryOptions) => binary(ctx, 'sub', a, b, opts);
export const mul = (ctx: GpuContext, a: Tensor, b: Tensor, opts?: BinaryOptions) => binary(ctx, 'mul', a, b, opts);

/** act(alpha * x + beta). */
export function unary(ctx: GpuContext, act: Activation, x: Tensor, opts: UnaryOptions = {}): Promise<Tensor> {
  return run(ctx, 'none', act, x, null, opts.alpha ?? 1, opts.beta ?? 0, opts);
}

/** x * s. */
export function scale(ctx: GpuContext, x: Tensor, s: number, opts: ElementwiseOptions = {}): Promise<Tensor> {
  return run(ctx, 'none', 'none', x, null, s, 0, opts);
}

/** x * s + b (scalars). */
export function affine(ctx: GpuContext, x: Tensor, s: number, b: number, opts: ElementwiseOptions = {}): Promise<Tensor> {
  return run(ctx, 'none', 'none', x, null, s, b, opts);
}

export const silu = (ctx: GpuContext, x: Tensor, opts?: UnaryOptions) => unary(ctx, 'silu', x, opts);
export const gelu = (ctx: GpuContext, x: Tensor, opts?: UnaryOptions) => unary(ctx, 'gelu', x, opts);
export const geluTanh = (ctx: GpuContext, x: Tensor, opts?: UnaryOptions) => unary(ctx, 'gelu_tanh', x, opts);
export const quickGelu = (ctx: GpuContext, x: Tensor, opts?: UnaryOptions) => unary(ctx, 'quick_gelu', x, opts);
export const erf = (ctx: GpuContext, x: Tensor, opts?: UnaryOptions) => unary(ctx, 'erf', x, opts);
