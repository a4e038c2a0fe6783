/**
 * A finished generation as the PNG the studio stores and downloads: the pixels with the `parameters`
 * text (AUTOMATIC1111's convention, parameters.ts) and the Software key. DOM-free, so the gallery
 * (src/ui/gallery) and the command line (src/cli/generate.ts) write the same bytes for the same result.
 * Nothing time-dependent goes in (no tIME chunk): the same image and parameters give the same file.
 */
import type { GenerateResult } from '../../engine/protocol';
import { encodePng } from './png';
import { formatParameters, type ImageParameters } from './parameters';
import { DEFAULT_MASK_BLUR, DEFAULT_STRENGTH } from '../../engine/edit-input';

/** The Software text key the studio writes into every PNG it makes. */
export const PNG_SOFTWARE = 'CIDM Studio';

/** `modelHash`: the model's A1111 short hash (storage/loras/model-hash.ts), written as "Model hash" when known. */
export function resultParameters(r: GenerateResult, modelName: string, modelHash?: string | null): ImageParameters {
  const p = r.params;
  return {
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    steps: p.steps,
    scheduler: p.scheduler,
    guidanceScale: p.guidanceScale,
    seed: p.seed,
    width: p.width,
    height: p.height,
    ...(modelHash ? { modelHash } : {}),
    model: modelName,
    // the sampling options, only when set (the PNG text then carries them as A1111 does)
    ...(p.guidanceRescale ? { guidanceRescale: p.guidanceRescale } : {}),
    ...(p.zeroTerminalSnr ? { zeroTerminalSnr: true } : {}),
    ...(p.dpmFinalSigma ? { dpmFinalSigma: p.dpmFinalSigma } : {}),
    // torch's CPU noise is written as A1111's "RNG: CPU"; the studio's own noise (the default) writes nothing
    ...(p.noiseSource === 'torch-cpu' ? { noiseSource: 'torch-cpu' as const } : {}),
    // the plain LoRAs the prompt's <lora:…> tags applied, as A1111's "Lora hashes" (the tags stay in the prompt)
    ...(r.loras?.length ? { loraHashes: r.loras.map((l) => ({ name: l.name, hash: l.hash })) } : {}),
    // an edit: strength as A1111 writes it for img2img, "Mask blur" when a mask (or outpainting) made it an inpaint
    ...(p.initImage ? editParameters(p) : {}),
    // other SD tools show unknown keys as they are; the studio keeps which regions shaped the image
    ...(p.regions?.length ? { extra: { Regions: p.regions.map((g) => `${g.name ?? ''}: ${g.prompt}`).join(' | ') } } : {}),
  };
}

/** The edit's keys of an init-image run (the defaults are edit-input.ts's). */
function editParameters(p: GenerateResult['params']): Partial<ImageParameters> {
  const outpaint = p.outpaint?.some((v) => v > 0) ? p.outpaint : undefined;
  const masked = p.mask !== undefined || outpaint !== undefined;
  return {
    denoisingStrength: p.strength ?? DEFAULT_STRENGTH,
    ...(masked ? { maskBlur: p.maskBlur ?? DEFAULT_MASK_BLUR } : {}),
    ...(outpaint ? { outpaint: [...outpaint] } : {}),
    ...(masked && p.keepOutside ? { keepOutside: true } : {}),
  };
}

export interface ResultPng {
  png: Uint8Array;
  params: ImageParameters;
  /** The `parameters` text inside the PNG. */
  parameters: string;
}

export async function encodeResultPng(r: GenerateResult, modelName: string, modelHash?: string | null): Promise<ResultPng> {
  const params = resultParameters(r, modelName, modelHash);
  const parameters = formatParameters(params);
  const png = await encodePng(r.image.rgba, r.image.width, r.image.height, { parameters, Software: PNG_SOFTWARE });
  return { png, params, parameters };
}
