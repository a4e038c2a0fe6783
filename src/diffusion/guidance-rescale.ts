/**
 * Guidance rescale φ (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed",
 * §3.4), as diffusers' `rescale_noise_cfg` (pipeline_stable_diffusion_xl.py) applies it after
 * classifier-free guidance when guidance_rescale > 0: scale the guided prediction so its standard
 * deviation matches the conditional one's, then mix φ of that with 1 − φ of the plain guided prediction.
 * Large CFG scales inflate the guided prediction's spread (over-exposed, burnt images, worst with
 * zero terminal SNR); this pulls it back.
 */

/** torch.Tensor.std over every value: the unbiased (n − 1) estimate, torch's default correction. */
function std(x: Float32Array): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i]! - mean) ** 2;
  return Math.sqrt(ss / (x.length - 1));
}

/**
 * φ·(guided · std(cond)/std(guided)) + (1 − φ)·guided for one sample (diffusers takes the std over all
 * but the batch dim; the studio's loop runs batch 1). φ = 0 returns `guided` itself.
 */
export function rescaleNoiseCfg(guided: Float32Array, cond: Float32Array, phi: number): Float32Array {
  if (guided.length !== cond.length) throw new RangeError(`guidance rescale: ${guided.length} guided vs ${cond.length} conditional values`);
  if (phi === 0) return guided;
  const ratio = std(cond) / std(guided);
  const out = new Float32Array(guided.length);
  for (let i = 0; i < guided.length; i++) out[i] = phi * (guided[i]! * ratio) + (1 - phi) * guided[i]!;
  return out;
}
