/**
 * matmul(ctx, a, b, opts): C = alpha · op(A) · op(B) + bias, batched over leading dimensions.
 *
 *   A: [...batch, M, K]  (or [...batch, K, M] with transA)
 *   B: [...batch, K, N]  (or [...batch, N, K] with transB: a PyTorch Linear weight [out, in] used as
 *      Bᵀ without a copy); a 2-D operand is broadcast over the other one's batch.
 *   bias: [N], added after the alpha scale.  C: [...batch, M, N], in the inputs' dtype.
 *
 * Variants: `naive` (one output per invocation) and `tiled` (register-blocked, shaders/matmul_tiled.wgsl);
 * `auto` takes tiled except for tiny products. f16 tensors need `shader-f16` (f16 storage, f32
 * accumulation); without it the op refuses them with FeatureMissingError. With f16Math (opt-in) the
 * tiled kernel also does its arithmetic in f16 within each K tile (matmul_tiled.wgsl MATH_F16).
 *
 * Packed weights: an f32 A with an f16 B reads B as packed f16 pairs in u32 words (`unpack2x16float`,
 * core WGSL), so a device without `shader-f16` keeps weights at half the bytes (DESIGN.md, "GPUs as
 * Chrome offers them"); C, the bias and the math are f32. Either transpose of B works.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../gpu/kernel';
import { binding, BYTES_PER_ELEMENT, describe, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import { matmulTuningKey, tunedTile } from './matmul-tile-choice';
import naiveSource from '../../shaders/matmul_naive.wgsl?raw';
import tiledSource from '../../shaders/matmul_tiled.wgsl?raw';

export type MatmulVariant = 'auto' | 'naive' | 'tiled';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [N], same dtype as A and B; added after the alpha scale. */
  bias?: Tensor;
  /** Scale of the product (default 1). */
  alpha?: number;
  variant?: MatmulVariant;
  /** Split-K slices for the tiled kernel: 'auto' (default) splits thin outputs with a long K. */
  splitK?: number | 'auto';
  /** Tile configuration for the tiled kernel (default: chooseTile by shape). */
  tile?: TileConfig;
  /** Added to the result in the same dispatch (shape [...batch, M, N], the output's dtype): C = alpha·A·B + bias + residual. */
  residual?: Tensor;
  /** Write into this tensor (shape [...batch, M, N], the inputs' dtype) instead of a new one. */
  out?: Tensor;
  /** f16 arithmetic in the tiled kernel for f16 tensors (default ctx.f16Math); the naive kernel stays f32. */
  f16Math?: boolean;
  /**
   * An unfolded LoRA added in the same dispatch (matmul_tiled.wgsl LORA): C += (A·downᵀ)·upᵀ, down
   * [R, K] and up [N, R] in A's dtype, R ≤ LORA_EPILOGUE_MAX_RANK, A not transposed. It takes the tiled
   * kernel with TILE_LORA and no split-K, and is not scaled by alpha.
   */
  lora?: { down: Tensor; up: Tensor };
  label?: string;
}

/** The largest rank the in-kernel LoRA term holds (4 vec4 accumulators per tile row). */
export const LORA_EPILOGUE_MAX_RANK = 16;

/** The problem a pair of shapes describes; throws a RangeError naming the mismatch. */
export interface MatmulProblem {
  batch: number;
  M: number;
  K: number;
  N: number;
  /** Elements between batch matrices (0 = the operand is 2-D and broadcast). */
  strideA: number;
  strideB: number;
  outShape: number[];
}

export function matmulProblem(
  aShape: readonly number[],
  bShape: readonly number[],
  transA = false,
  transB = false,
): MatmulProblem {
  const where = `matmul [${aShape.join(',')}]${transA ? 'ᵀ' : ''} · [${bShape.join(',')}]${transB ? 'ᵀ' : ''}`;
  if (aShape.length < 2 || bShape.length < 2) throw new RangeError(`${where}: operands need at least 2 dims`);
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) throw new RangeError(`${where}: inner dimensions ${K} and ${Kb} differ`);
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const batchShape = batchA.length ? batchA : batchB;
  if (batchA.length && batchB.length && (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i]))) {
    throw new RangeError(`${where}: batch dimensions differ (only a 2-D operand is broadcast)`);
  }
  return {
    batch: numel(batchShape),
    M,
    K,
    N,
    strideA: batchA.length ? M * K : 0,
    strideB: batchB.length ? K * N : 0,
    outShape: [...batchShape, M, N],
  };
}

interface NaiveVariant {
  dtype: DType;
  /** B is a packed-f16 weight read as u32 pairs; dtype (A, C, bias) is then f32. */
  packedB: boolean;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  /** The residual epilogue: C = alpha·A·B + bias + R. */
  residual: boolean;
}

/**
 * Binding numbers of the optional epilogue operands and C: the storage bindings are dense (1..n in the
 * order the op passes them, kernel.ts), so bias, the residual and C follow the inputs in that order.
 */
function epilogueAt(first: number, bias: boolean, residual: boolean): { BIAS_AT: number; RES_AT: number; C_AT: number } {
  const BIAS_AT = first;
  const RES_AT = first + (bias ? 1 : 0);
  return { BIAS_AT, RES_AT, C_AT: RES_AT + (residual ? 1 : 0) };
}

/** The LoRA operands' bindings follow C. */
function loraAt<T extends { C_AT: number }>(at: T): T & { LD_AT: number; LU_AT: number } {
  return { ...at, LD_AT: at.C_AT + 1, LU_AT: at.C_AT + 2 };
}

export const matmulNaiveKernel: KernelDescriptor<NaiveVariant> = {
  name: 'matmul_naive',
  source: naiveSource,
  defines: (v) => ({ DTYPE: v.dtype, PACKED_B: v.packedB, TRANS_A: v.transA, TRANS_B: v.transB, BIAS: v.bias, RESIDUAL: v.residual, ...epilogueAt(3, v.bias, v.residual) }),
  constants: () => ({ WG_X: 16, WG_Y: 16 }),
};

/**
 * A tile configuration: a workgroup of wgX × wgY threads, each holding rb×rb register blocks of 4×4
 * outputs, so the workgroup tile is (4·rb·wgY) × (4·rb·wgX); K-step bk (a multiple of 4).
 * Workgroup memory: 2 · bk · 4·rb·wg · 4 bytes.
 */
export interface TileConfig {
  wgX: number;
  wgY: number;
  rb: 1 | 2;
  bk: number;
}

/** 64×64 tile from 16×16 threads with 4×4 outputs each, BK 32: 16 KiB of workgroup memory. */
export const TILE_64: TileConfig = { wgX: 16, wgY: 16, rb: 1, bk: 32 };
/** 64×64 tile from 8×8 threads with 8×8 outputs each, BK 32: twice the FMAs per workgroup-memory load. */
export const TILE_64X8: TileConfig = { wgX: 8, wgY: 8, rb: 2, bk: 32 };
/** 32×32 tile from 4×4 threads with 8×8 outputs each, BK 32: 8 KiB (CPU adapters, few output tiles). */
export const TILE_32X8: TileConfig = { wgX: 4, wgY: 4, rb: 2, bk: 32 };
/** 128×128 tile from 16×16 threads with 8×8 outputs each, BK 16: 16 KiB. */
export const TILE_128: TileConfig = { wgX: 16, wgY: 16, rb: 2, bk: 16 };
/**
 * The tile of a matmul with the LoRA term: 64×64 from 8×8 threads (one thread per tile row sums its
 * low-rank values, so threads ≥ rows), BK 16 so that A, B, D's slice and t fit in 13 KiB of the 16 KiB
 * every device has.
 */
export const TILE_LORA: TileConfig = { wgX: 8, wgY: 8, rb: 2, bk: 16 };

export const tileRows = (t: TileConfig) => 4 * t.rb * t.wgY;
export const tileCols = (t: TileConfig) => 4 * t.rb * t.wgX;

export interface TiledVariant extends NaiveVariant {
  tile: TileConfig;
  vecA: boolean;
  vecB: boolean;
  vecC: boolean;
  /** 'gemm' writes C; 'split' writes f32 partials; 'reduce' sums them into C. */
  stage: 'gemm' | 'split' | 'reduce';
  /** f16 tiles and per-K-tile f16 sums (f16 storage only; GpuContext.f16Math). */
  f16Math: boolean;
  /** The LoRA term C += (A·Dᵀ)·Uᵀ in the same dispatch (gemm stage only). */
  lora?: boolean;
}

export const matmulTiledKernel: KernelDescriptor<TiledVariant> = {
  name: 'matmul_tiled',
  source: tiledSource,
  defines: (v) => {
    const elem = v.stage === 'split' ? 'f32' : v.dtype;
    return {
      DTYPE: v.dtype,
      CTYPE: v.vecC ? `vec4<${elem}>` : elem,
      BLOCK8: v.tile.rb === 2,
      TRANS_A: v.transA,
      TRANS_B: v.transB,
      PACKED_B: v.packedB && v.stage !== 'reduce',
      VEC_A: v.vecA,
      VEC_B: v.vecB,
      VEC_C: v.vecC,
      BIAS: v.bias && v.stage !== 'split',
      // the split stage writes f32 partials: the epilogue (bias, residual) belongs to the reduce
      RESIDUAL: v.residual && v.stage !== 'split',
      SPLIT: v.stage === 'split',
      REDUCE: v.stage === 'reduce',
      MATH_F16: v.f16Math && v.dtype === 'f16' && !v.packedB && v.stage !== 'reduce',
      LORA: v.lora === true && v.stage === 'gemm',
      ...loraAt(epilogueAt(v.stage === 'reduce' ? 2 : 3, v.bias && v.stage !== 'split', v.residual && v.stage !== 'split')),
    };
  },
  constants: (v) => ({ WG_X: v.tile.wgX, WG_Y: v.tile.wgY, BK: v.tile.bk }),
};

/** Below this many multiply-adds `auto` takes the naive kernel: a tile would be mostly idle. */
export const NAIVE_MAX_MACS = 32 * 32 * 32;
/** Split-K scratch cap: partial sums beyond it are not worth the extra traffic. */
const SPLIT_SCRATCH_BYTES = 32 * 1024 * 1024;
const REDUCE_WG = 256;

/**
 * CPU adapters (SwiftShader, lavapipe) run a few workgroups per core and pay a fixed cost per
 * workgroup, so they want few, fat workgroups; a GPU wants enough workgroups to fill its cores.
 * Measured on SwiftShader against the same kernel: split-K 7 made 77×2048×640 2× slower.
 */
export function isCpuAdapter(ctx: GpuContext): boolean {
  const s = ctx.handle.summary;
  return s.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/i.test(
    `${s.vendor} ${s.architecture} ${s.device} ${s.description}`,
  );
}

/**
 * 8×8 outputs per thread in both tiles: half the workgroup-memory loads per FMA of a 4×4 block (the
 * step from siboehm's kernel 4 to 5); on SwiftShader and lavapipe it measured 1.6-2× the 4×4 tile.
 * The 128×128 tile also halves global traffic, where there are enough tiles to fill a GPU.
 */
export function chooseTile(p: MatmulProblem, cpu: boolean): TileConfig {
  const tiles128 = ceilDiv(p.M, 128) * ceilDiv(p.N, 128) * p.batch;
  if (cpu) {
    // Fewer than 64 tiles of 64×64 (a small model's layers, e.g. 512×256×32): the 32×32 tile ran them
    // 1.6-2.6× faster on SwiftShader (less waste on 32- and 48-wide outputs, a quarter of the
    // workgroup memory to zero per workgroup) and as fast on 512×256×320 and 1024×640×640.
    return ceilDiv(p.M, 64) * ceilDiv(p.N, 64) * p.batch < 64 ? TILE_32X8 : TILE_64X8;
  }
  return p.M >= 256 && p.N >= 256 && tiles128 >= 96 ? TILE_128 : TILE_64X8;
}

/**
 * Split-K slices (GPU adapters only): a thin output with a long K (77×2048×640: 20 tiles of 64×64)
 * leaves most of a GPU idle, so K is cut into slices of at least 128 up to about 256 workgroups.
 */
export function chooseSplitK(p: MatmulProblem, tile: TileConfig, cpu: boolean): number {
  const tiles = ceilDiv(p.M, tileRows(tile)) * ceilDiv(p.N, tileCols(tile)) * p.batch;
  if (cpu || tiles >= 128 || p.K < 512) return 1;
  const byWork = Math.ceil(256 / tiles);
  const byK = Math.floor(p.K / 128);
  const byScratch = Math.floor(SPLIT_SCRATCH_BYTES / (4 * p.M * p.N * p.batch));
  return Math.max(1, Math.min(byWork, byK, byScratch, 16));
}

/**
 * Whether B is a packed-f16 weight for an f32 A: then the kernels read B as u32 pairs. On a device
 * without shader-f16 every f16 tensor is such a weight (GpuContext.packedWeight); on one with it, an
 * f16 weight under f32 activations takes the same path, which needs no f16 arithmetic.
 */
export function isPackedOperand(a: Tensor, b: Tensor): boolean {
  return a.dtype === 'f32' && b.dtype === 'f16';
}

export async function matmul(ctx: GpuContext, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Promise<Tensor> {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const label = opts.label ?? 'matmul';
  const p = matmulProblem(a.shape, b.shape, transA, transB);
  const dtype = a.dtype;
  const packedB = isPackedOperand(a, b);
  if (b.dtype !== dtype && !packedB) throw new TypeError(`${label}: A is ${describe(a)} but B is ${describe(b)}`);
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  if (opts.bias && (opts.bias.dtype !== dtype || numel(opts.bias.shape) !== p.N)) {
    throw new RangeError(`${label}: bias ${describe(opts.bias)} does not match N=${p.N} ${dtype}`);
  }
  const out = opts.out ?? ctx.empty(p.outShape, dtype, label);
  if (out.dtype !== dtype || numel(out.shape) !== numel(p.outShape)) {
    throw new RangeError(`${label}: out ${describe(out)} does not match [${p.outShape.join('×')}] ${dtype}`);
  }
  if (opts.residual && (opts.residual.dtype !== dtype || numel(opts.residual.shape) !== numel(p.outShape))) {
    throw new RangeError(`${label}: residual ${describe(opts.residual)} does not match [${p.outShape.join('×')}] ${dtype}`);
  }
  const lora = opts.lora ?? null;
  if (lora) {
    const R = lora.down.shape[0]!;
    if (transA || lora.down.shape.length !== 2 || lora.down.shape[1] !== p.K || lora.up.shape.length !== 2 || lora.up.shape[0] !== p.N || lora.up.shape[1] !== R) {
      throw new RangeError(`${label}: LoRA down ${describe(lora.down)} / up ${describe(lora.up)} do not fit ${p.M}×${p.K}·${p.K}×${p.N} (A not transposed)`);
    }
    if (R < 1 || R > LORA_EPILOGUE_MAX_RANK) throw new RangeError(`${label}: LoRA rank ${R} is outside 1..${LORA_EPILOGUE_MAX_RANK} of the in-kernel term`);
    if (lora.down.dtype !== dtype || lora.up.dtype !== dtype) throw new RangeError(`${label}: LoRA down/up must be ${dtype} like A, got ${lora.down.dtype}/${lora.up.dtype}`);
  }
  if (numel(p.outShape) === 0) return out;
  const base: NaiveVariant = { dtype, packedB, transA, transB, bias: Boolean(opts.bias), residual: Boolean(opts.residual) };
  const alpha = opts.alpha ?? 1;
  const variant = opts.variant ?? 'auto';
  if (lora && variant === 'naive') throw new RangeError(`${label}: the LoRA term needs the tiled kernel`);
  const naive = !lora && (variant === 'naive' || (variant === 'auto' && p.M * p.N * p.K <= NAIVE_MAX_MACS));
  const maxZ = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const extra = [...(opts.bias ? [binding(opts.bias)] : []), ...(opts.residual ? [binding(opts.residual)] : [])];

  if (naive || p.K === 0) {
    const k = await ctx.kernel(matmulNaiveKernel, base);
    for (let b0 = 0; b0 < p.batch; b0 += maxZ) {
      const uniforms = { M: p.M, N: p.N, K: p.K, strideA: p.strideA, strideB: p.strideB, batchBase: b0, alpha };
      const workgroups = [ceilDiv(p.N, 16), ceilDiv(p.M, 16), Math.min(maxZ, p.batch - b0)] as const;
      ctx.dispatch(k, { uniforms, bindings: [binding(a), binding(b), ...extra, binding(out)], workgroups });
    }
    return out;
  }

  const cpu = isCpuAdapter(ctx);
  // a tile measured fastest for this shape on this adapter (matmul-tuning.ts), else the heuristic; the
  // LoRA term has its own tile
  const tuningKey = matmulTuningKey({ p, dtype, transA, transB, packedB });
  if (!lora) ctx.onTunable?.('matmul', tuningKey, { p, dtype, transA, transB, packedB });
  const tile = lora ? TILE_LORA : (opts.tile ?? tunedTile(ctx, tuningKey) ?? chooseTile(p, cpu));
  const aligned = (t: Tensor, contiguous: number) => contiguous % 4 === 0 && t.offset % (4 * BYTES_PER_ELEMENT[t.dtype]) === 0;
  const vec = {
    vecA: aligned(a, transA ? p.M : p.K),
    vecB: aligned(b, transB ? p.K : p.N),
    vecC: aligned(out, p.N),
  };
  const requested = lora ? 1 : (opts.splitK ?? 'auto');
  const wanted = requested === 'auto' ? chooseSplitK(p, tile, cpu) : Math.max(1, Math.floor(requested));
  // Slices are whole multiples of BK, so every slice but the last is full.
  const kSplit = Math.ceil(ceilDiv(p.K, wanted) / tile.bk) * tile.bk;
  const splits = ceilDiv(p.K, kSplit);
  const stage = splits > 1 ? 'split' : 'gemm';
  const f16Math = dtype === 'f16' && (opts.f16Math ?? ctx.f16Math);
  const gemm = await ctx.kernel(matmulTiledKernel, { ...base, ...vec, tile, stage, f16Math, ...(lora ? { lora: true } : {}) });
  // The reduce stage reads only the f32 partials: one variant per dtype and bias.
  const reduceVariant: TiledVariant = {
    ...base, packedB: false, transA: false, transB: false, vecA: false, vecB: false, vecC: false, tile: TILE_64, stage: 'reduce', f16Math: false,
  };
  const reduce = splits > 1 ? await ctx.kernel(matmulTiledKernel, reduceVariant) : null;
  const batchesPerDispatch = Math.max(1, Math.floor(maxZ / splits));
  const scratch = reduce ? splitScratch(ctx, splits * Math.min(p.batch, batchesPerDispatch) * p.M * p.N * 4) : null;
  const grid = [ceilDiv(p.N, tileCols(tile)), ceilDiv(p.M, tileRows(tile))] as const;
  for (let b0 = 0; b0 < p.batch; b0 += batchesPerDispatch) {
    const nb = Math.min(batchesPerDispatch, p.batch - b0);
    const uniforms = {
      M: p.M, N: p.N, K: p.K, strideA: p.strideA, strideB: p.strideB, batchBase: b0, kSplit, splits, alpha, rank: lora ? lora.down.shape[0]! : 0,
    };
    if (!reduce || !scratch) {
      const loraBindings = lora ? [binding(lora.down), binding(lora.up)] : [];
      ctx.dispatch(gemm, { uniforms, bindings: [binding(a), binding(b), ...extra, binding(out), ...loraBindings], workgroups: [...grid, nb] });
      continue;
    }
    const part: GPUBufferBinding = { buffer: scratch, offset: 0, size: splits * nb * p.M * p.N * 4 };
    ctx.dispatch(gemm, { uniforms, bindings: [binding(a), binding(b), part], workgroups: [...grid, nb * splits] });
    const [gx, gy] = grid1d(p.M * p.N, REDUCE_WG);
    ctx.dispatch(reduce, { uniforms, bindings: [part, ...extra, binding(out)], workgroups: [gx, gy, nb] });
  }
  return out;
}

/**
 * One split-K scratch buffer per device, reused by every matmul: the commands that use it run in
 * stream order, so reuse is safe, and it never goes back to the pool (where an upload could write
 * into it ahead of a recorded-but-unsubmitted reduce). It only grows; an outgrown buffer is dropped,
 * not destroyed, because recorded commands may still reference it.
 */
const scratchByDevice = new WeakMap<GPUDevice, GPUBuffer>();

function splitScratch(ctx: GpuContext, bytes: number): GPUBuffer {
  const have = scratchByDevice.get(ctx.device);
  if (have && have.size >= bytes) return have;
  const size = Math.max(bytes, 1 << 20);
  const buffer = ctx.device.createBuffer({ label: 'matmul split-K partials', size, usage: GPUBufferUsage.STORAGE });
  scratchByDevice.set(ctx.device, buffer);
  return buffer;
}
