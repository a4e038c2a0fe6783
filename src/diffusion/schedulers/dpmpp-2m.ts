/**
 * DPMSolverMultistepScheduler as diffusers 0.25.1 defaults it: algorithm 'dpmsolver++' (Lu et al. 2022,
 * "DPM-Solver++", Alg. 2: data-prediction multistep), solver_order 2, solver_type 'midpoint',
 * lower_order_final (only when fewer than 15 steps in 0.25.1). Optional Karras sigmas (rho 7).
 * final_sigmas_type (prediction.ts finalSigmasTypeOf): 'zero', the studio's default as newer diffusers
 * and A1111 (k-diffusion always ends at 0), makes the last sigma 0 and the last step first order
 * (diffusers scheduling_dpmsolver_multistep.py step: lower_order_final `or final_sigmas_type == "zero"`),
 * so the last step returns the denoised x0 itself (alpha = 1, sigma = 0, e^-h = 0); it reproduces the
 * `__diffusers_head` goldens. 'sigma_min' is 0.25.1's end at sigma(0), which the 0.25.1 goldens select.
 * The model output becomes x0 by prediction_type (convert_model_output, prediction.ts vpX0); zero
 * terminal SNR sets the table's last alphas_cumprod to 2^-24 (common.ts sigmaAlphasCumprod).
 */
import { interpSigma, karrasSigmas, map, sigmaAlphasCumprod, sigmaToT, spacedTimesteps, trainSigmas, type Scheduler, type SchedulerConfig } from './common';
import { finalSigmasTypeOf, predictionTypeOf, vpX0, type PredictionType } from './prediction';
import { vpX0Form, type LinearStep, type LinearStepper } from './linear-step';

/** alpha_t = 1/sqrt(sigma^2+1), sigma_t = sigma * alpha_t; lambda = log(alpha_t) - log(sigma_t). */
function alphaSigma(sigma: number): { a: number; s: number; lambda: number } {
  const a = 1 / Math.sqrt(sigma * sigma + 1);
  const s = sigma * a;
  return { a, s, lambda: Math.log(a) - Math.log(s) };
}

export class DPMSolverMultistepScheduler implements Scheduler, LinearStepper {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma = 1;
  private readonly lowerOrderFinal: boolean;
  private readonly zeroFinal: boolean;
  private readonly prediction: PredictionType;
  /** x0 predictions of the previous and current step (model_outputs in diffusers). */
  private prevX0: Float32Array | null = null;
  private lowerOrderNums = 0;

  constructor(c: SchedulerConfig, steps: number) {
    this.prediction = predictionTypeOf(c);
    const ac = sigmaAlphasCumprod(c);
    const table = trainSigmas(ac);
    let timesteps = spacedTimesteps(c, steps, true);
    let sigmas: number[];
    if (c.use_karras_sigmas) {
      // Karras over the full training range (table flipped: max = sigma(999), min = sigma(0)).
      const logs = table.map(Math.log);
      sigmas = karrasSigmas(table[0]!, table[table.length - 1]!, steps).map(Math.fround);
      timesteps = sigmas.map((s) => Math.round(sigmaToT(s, logs)));
    } else {
      sigmas = timesteps.map((t) => Math.fround(interpSigma(table, t)));
    }
    this.zeroFinal = finalSigmasTypeOf(c) === 'zero';
    // 0.25.1 ends at sigma(0) = sqrt((1 - abar_0)/abar_0) (karras: repeats its own last sigma).
    const last = this.zeroFinal ? 0 : c.use_karras_sigmas ? sigmas[sigmas.length - 1]! : Math.fround(Math.sqrt((1 - ac[0]!) / ac[0]!));
    sigmas.push(last);
    // np.unique(return_index) dedup keeps first occurrences (only matters when steps ~ N).
    const seen = new Set<number>();
    const keep = timesteps.map((t) => (seen.has(t) ? false : (seen.add(t), true)));
    this.timesteps = timesteps.filter((_, i) => keep[i]);
    this.sigmas = sigmas;
    this.lowerOrderFinal = true;
    this.lowerOrderFinalShort = this.timesteps.length < 15;
  }

  private readonly lowerOrderFinalShort: boolean;

  scaleModelInput(x: Float32Array): Float32Array {
    return x;
  }

  /**
   * step() as coefficients (linear-step.ts), after `taken` steps of this run: first order
   * x' = ratio·x − φ·x̂₀; second order x' = ratio·x − φ(1 + 1/(2r₀))·x̂₀ + φ/(2r₀)·x̂₀_prev (the kept tensor).
   */
  linearStep(i: number, taken: number): LinearStep {
    const n = this.timesteps.length;
    const finalFirst = i === n - 1 && ((this.lowerOrderFinal && this.lowerOrderFinalShort) || this.zeroFinal);
    const s0 = alphaSigma(this.sigmas[i]!);
    const x0 = vpX0Form(this.prediction, s0.a, s0.s);
    const t = alphaSigma(this.sigmas[i + 1]!);
    const h = t.lambda - s0.lambda;
    const ratio = this.sigmas[i + 1]! === 0 ? 0 : t.s / s0.s;
    const phi = t.a * (Math.exp(-h) - 1);
    // x̂₀ is kept in history slot 0 for the next step's second-order term
    const keep = [{ slot: 0, ...x0 }];
    if (taken < 1 || finalFirst) return { x: ratio - phi * x0.x, out: -phi * x0.out, hist: [], noise: 0, keep };
    const r0 = (s0.lambda - alphaSigma(this.sigmas[i - 1]!).lambda) / h;
    const c = phi * (1 + 0.5 / r0);
    return { x: ratio - c * x0.x, out: -c * x0.out, hist: [(0.5 * phi) / r0], noise: 0, keep };
  }

  step(modelOutput: Float32Array, i: number, x: Float32Array): Float32Array {
    const n = this.timesteps.length;
    const finalFirst = i === n - 1 && ((this.lowerOrderFinal && this.lowerOrderFinalShort) || this.zeroFinal);
    // (lower_order_second only matters for order 3; with order 2 it selects the same 2nd-order update.)
    const s0 = alphaSigma(this.sigmas[i]!);
    // convert_model_output (dpmsolver++): x0 from the model output (epsilon: (x - sigma_t eps) / alpha_t).
    const x0 = vpX0(this.prediction, x, modelOutput, s0.a, s0.s);
    const t = alphaSigma(this.sigmas[i + 1]!);
    const h = t.lambda - s0.lambda;
    const ratio = this.sigmas[i + 1]! === 0 ? 0 : t.s / s0.s;
    const phi = t.a * (Math.exp(-h) - 1);
    let out: Float32Array;
    if (this.lowerOrderNums < 1 || finalFirst || !this.prevX0) {
      // First order (DPM-Solver++ 1 = DDIM in x0 form): x_t = (s_t/s_s) x - alpha_t (e^-h - 1) x0.
      out = map(x.length, (k) => ratio * x[k]! - phi * x0[k]!);
    } else {
      // Second order, midpoint: D1 = (x0 - x0_prev) / r0, r0 = h_prev / h.
      const s1 = alphaSigma(this.sigmas[i - 1]!);
      const r0 = (s0.lambda - s1.lambda) / h;
      const m1 = this.prevX0;
      out = map(x.length, (k) => {
        const d1 = (x0[k]! - m1[k]!) / r0;
        return ratio * x[k]! - phi * x0[k]! - 0.5 * phi * d1;
      });
    }
    this.prevX0 = x0;
    if (this.lowerOrderNums < 2) this.lowerOrderNums++;
    return out;
  }
}
