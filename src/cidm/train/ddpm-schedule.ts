/**
 * DDPM's training noise schedule exactly as torch 1.13 on the CPU computes it for diffusers'
 * DDPMScheduler (golden-training README item 5), bit for bit:
 *   scaled_linear: betas = torch.linspace(sqrt(β_start), sqrt(β_end), T, dtype=float32) ** 2
 *   linear:        betas = torch.linspace(β_start, β_end, T, dtype=float32)
 *   alphas_cumprod = torch.cumprod(1.0 − betas, dim=0)
 * Three details decide the last bits (measured on the first golden set's full 1000-entry table: all
 * three are needed for 0 of 1000 values to differ; without them up to 963 differ by 1-6 ulp):
 *  - torch.linspace's CPU kernel fills 2 vectors of 8 floats per iteration with
 *    Vectorized::arange(base, step), base = start + step·idx (end − step·(T−1−idx) from the halfway
 *    index on, decided once per vector), then the remaining T mod 16 entries one by one; the AVX2
 *    build contracts `a + b·c` into a fused multiply-add (one rounding).
 *  - step = (f32(end) − f32(start)) / (T − 1), in f32.
 *  - torch.cumprod on the CPU accumulates in double (acc_type<float, CPU> = double) and rounds each
 *    output to f32.
 */

const f32 = Math.fround;
const VEC = 8;

const bits = new Float32Array(1);
const ibits = new Int32Array(bits.buffer);

/** The f32 value next to x (an f32) towards +∞ (up) or −∞. */
function nextF32(x: number, up: boolean): number {
  if (x === 0) return up ? 1.401298464324817e-45 : -1.401298464324817e-45;
  bits[0] = x;
  ibits[0] = ibits[0]! + ((x > 0) === up ? 1 : -1);
  return bits[0]!;
}

/**
 * fma(a, b, c) rounded once to f32, for f32 a, c and an integer b < 2²⁹ (a·b is then exact in f64).
 * p + c is exact in f64 up to the TwoSum error e; rounding s = p + c to f32 is wrong only when s is
 * exactly halfway between two f32 values and e ≠ 0: then e says which side the exact sum lies on.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bv = s - p;
  const e = p - (s - bv) + (c - bv);
  const r = f32(s);
  if (e === 0 || r === s) return r;
  const other = nextF32(r, s > r);
  if (Math.abs(s - r) !== Math.abs(other - s)) return r;
  return (e > 0) === (other > r) ? other : r;
}

/** torch.linspace(start, end, steps, dtype=float32) on the CPU (see the header). */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`linspace: ${steps} steps`);
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number) => (idx < halfway ? fmaF32(step, idx, s) : fmaF32(-step, steps - idx - 1, e));
  const vectorEnd = Math.floor(steps / (2 * VEC)) * 2 * VEC;
  let idx = 0;
  for (; idx < vectorEnd; idx += VEC) {
    const base = at(idx);
    for (let k = 0; k < VEC; k++) out[idx + k] = fmaF32(step, k, base);
  }
  for (; idx < steps; idx++) out[idx] = at(idx);
  return out;
}

export interface BetaScheduleConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: string;
}

/** β_t, f32 values (diffusers DDPMScheduler.__init__). */
export function ddpmBetas(c: BetaScheduleConfig): Float32Array {
  const n = c.num_train_timesteps;
  if (c.beta_schedule === 'linear') return torchLinspaceF32(c.beta_start, c.beta_end, n);
  if (c.beta_schedule !== 'scaled_linear') throw new RangeError(`beta_schedule "${c.beta_schedule}" is not supported for training (scaled_linear, linear)`);
  // diffusers: beta_start ** 0.5 in Python doubles (a correctly rounded square root), then torch casts
  // to f32; ** 2 is x·x in f32 (exact in f64, rounded once by the Float32Array)
  return torchLinspaceF32(Math.sqrt(c.beta_start), Math.sqrt(c.beta_end), n).map((v) => v * v);
}

/** ᾱ_t = cumprod(1 − β), f32 values (double accumulation, as torch's CPU cumprod). */
export function ddpmAlphasCumprod(c: BetaScheduleConfig): Float32Array {
  const betas = ddpmBetas(c);
  const out = new Float32Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= f32(1 - betas[i]!);
    out[i] = p;
  }
  return out;
}
