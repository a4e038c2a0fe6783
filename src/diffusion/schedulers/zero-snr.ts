/**
 * Zero terminal SNR (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * Algorithm 1), as diffusers' `rescale_zero_terminal_snr` (scheduling_ddim.py, copied into the Euler,
 * Euler ancestral and DPM-Solver schedulers) applies it when the config sets `rescale_betas_zero_snr`:
 * shift √ᾱ so its last value is 0, scale it so its first value is unchanged, and turn it back into betas.
 * Every operation is rounded to float32, the dtype diffusers keeps the betas in.
 */

const f = Math.fround;

/**
 * diffusers sets alphas_cumprod[-1] to this (the smallest positive f16 subnormal) in the sigma-based
 * schedulers (Euler, Euler a, DPM-Solver) after the rescale, so the first sigma sqrt((1-ᾱ)/ᾱ) is large
 * (≈ 4096) instead of infinite. DDIM keeps ᾱ_T = 0.
 */
export const ZERO_SNR_LAST_ALPHA_CUMPROD = 2 ** -24;

/** Betas whose cumulative product of (1 - β) ends at exactly 0, with ᾱ_0 kept (within float32 rounding). */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const n = betas.length;
  const sqrtAbar = new Float64Array(n);
  let p = 1;
  for (let i = 0; i < n; i++) {
    p = f(p * f(1 - betas[i]!));
    sqrtAbar[i] = f(Math.sqrt(p));
  }
  const first = sqrtAbar[0]!;
  const last = sqrtAbar[n - 1]!;
  const scale = f(first / f(first - last));
  const abar = sqrtAbar.map((s) => {
    const shifted = f(f(s - last) * scale);
    return f(shifted * shifted);
  });
  const out = new Float64Array(n);
  // alphas = ᾱ_t / ᾱ_{t-1} (ᾱ_0 itself for the first); betas = 1 - alphas
  for (let i = 0; i < n; i++) out[i] = f(1 - (i === 0 ? abar[0]! : f(abar[i]! / abar[i - 1]!)));
  return out;
}
