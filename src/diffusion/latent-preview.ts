/**
 * A live preview of the denoising, for free: SDXL latents map almost linearly to RGB, so a 4×3 matrix
 * gives a recognisable 1/8-size image without running the VAE. The factors are the widely used SDXL
 * latent→RGB fit (as in ComfyUI's latent_formats.SDXL), applied to the model's current estimate of the
 * clean latents x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ (DDPM, Ho et al. 2020 eq. 15) rather than to the noisy x_t.
 */

export const SDXL_LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];
export const SDXL_LATENT_RGB_BIAS = [0.1084, -0.0175, -0.0011] as const;

export interface PreviewImage {
  width: number;
  height: number;
  /** RGBA8, row-major. */
  rgba: Uint8ClampedArray;
}

/** x̂₀ from the model input x_in (= x_t in DDPM scale) and the guided ε̂ at ᾱ_t. */
export function predictX0(modelInput: Float32Array, eps: Float32Array, alphaBar: number): Float32Array {
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  const out = new Float32Array(eps.length);
  for (let i = 0; i < eps.length; i++) out[i] = (modelInput[i]! - s * eps[i]!) / a;
  return out;
}

/** Latents [4, h, w] (first sample of a batch) → an RGBA preview of h×w pixels. */
export function latentPreview(latents: Float32Array, h: number, w: number): PreviewImage {
  const plane = h * w;
  if (latents.length < 4 * plane) throw new RangeError(`latent preview needs 4×${h}×${w} values, got ${latents.length}`);
  const rgba = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = SDXL_LATENT_RGB_BIAS[c]!;
      for (let k = 0; k < 4; k++) v += latents[k * plane + p]! * SDXL_LATENT_RGB[k]![c]!;
      // the fit maps to [-1, 1]
      rgba[p * 4 + c] = Math.round(((v + 1) / 2) * 255);
    }
    rgba[p * 4 + 3] = 255;
  }
  return { width: w, height: h, rgba };
}

/** A decoded image [3, H, W] in [0, 1] (the pipeline's output) → RGBA8. */
export function imageToRgba(image: Float32Array, height: number, width: number): PreviewImage {
  const plane = height * width;
  const rgba = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = Math.round(image[c * plane + p]! * 255);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}
