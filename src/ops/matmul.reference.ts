/**
 * Plain-TS references for matmul and linear, accumulated in f64 (so they are the "exact" side of the
 * kernel tests). Same shape rules as the GPU op (matmulProblem): batched over leading dims, a 2-D
 * operand broadcast, transposes by flag; C = alpha · op(A) · op(B) + bias.
 */
import { matmulProblem } from './matmul';

export interface MatmulReferenceOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  bias?: ArrayLike<number>;
}

export interface ReferenceResult {
  data: Float64Array;
  shape: number[];
}

export function matmulReference(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  opts: MatmulReferenceOptions = {},
): ReferenceResult {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const alpha = opts.alpha ?? 1;
  const p = matmulProblem(aShape, bShape, transA, transB);
  const { M, N, K } = p;
  if (opts.bias && opts.bias.length !== N) throw new RangeError(`bias has ${opts.bias.length} values, N=${N}`);
  const out = new Float64Array(p.batch * M * N);
  const row = new Float64Array(K);
  for (let bt = 0; bt < p.batch; bt++) {
    const oa = bt * p.strideA;
    const ob = bt * p.strideB;
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) row[k] = a[oa + (transA ? k * M + m : m * K + k)]!;
      for (let n = 0; n < N; n++) {
        let acc = 0;
        if (transB) {
          const o = ob + n * K;
          for (let k = 0; k < K; k++) acc += row[k]! * b[o + k]!;
        } else {
          for (let k = 0; k < K; k++) acc += row[k]! * b[ob + k * N + n]!;
        }
        out[(bt * M + m) * N + n] = alpha * acc + (opts.bias ? opts.bias[n]! : 0);
      }
    }
  }
  return { data: out, shape: p.outShape };
}

/** y = x · Wᵀ + b with W in PyTorch Linear layout [out, in]; x [..., in] -> y [..., out]. */
export function linearReference(
  x: ArrayLike<number>,
  xShape: readonly number[],
  weight: ArrayLike<number>,
  weightShape: readonly [number, number],
  bias?: ArrayLike<number>,
): ReferenceResult {
  const inF = weightShape[1];
  const rows = x.length / inF;
  const r = matmulReference(x, [rows, inF], weight, weightShape, bias ? { transB: true, bias } : { transB: true });
  return { data: r.data, shape: [...xShape.slice(0, -1), weightShape[0]] };
}
