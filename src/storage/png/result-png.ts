/**
 * A finished generation as the PNG the studio stores and downloads: the pixels with the `parameters`
 * text (AUTOMATIC1111's convention, parameters.ts) and the Software key. DOM-free, so the gallery
 * (src/ui/gallery) and the command line (src/cli/generate.ts) write the same bytes for the same result.
 * Nothing time-dependent goes in (no tIME chunk): the same image and parameters give the same file.
 */
import type { GenerateResult } from '../../engine/protocol';
import { encodePng } from './png';
import { formatParameters, type ImageParameters } from './parameters';

/** The Software text key the studio writes into every PNG it makes. */
export const PNG_SOFTWARE = 'CIDM Studio';

export function resultParameters(r: GenerateResult, modelName: string): ImageParameters {
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
    model: modelName,
    // the sampling options, only when set (the PNG text then carries them as A1111 does)
    ...(p.guidanceRescale ? { guidanceRescale: p.guidanceRescale } : {}),
    ...(p.zeroTerminalSnr ? { zeroTerminalSnr: true } : {}),
    ...(p.dpmFinalSigma ? { dpmFinalSigma: p.dpmFinalSigma } : {}),
    // torch's CPU noise is written as A1111's "RNG: CPU"; the studio's own noise (the default) writes nothing
    ...(p.noiseSource === 'torch-cpu' ? { noiseSource: 'torch-cpu' as const } : {}),
    // other SD tools show unknown keys as they are; the studio keeps which regions shaped the image
    ...(p.regions?.length ? { extra: { Regions: p.regions.map((g) => `${g.name ?? ''}: ${g.prompt}`).join(' | ') } } : {}),
  };
}

export interface ResultPng {
  png: Uint8Array;
  params: ImageParameters;
  /** The `parameters` text inside the PNG. */
  parameters: string;
}

export async function encodeResultPng(r: GenerateResult, modelName: string): Promise<ResultPng> {
  const params = resultParameters(r, modelName);
  const parameters = formatParameters(params);
  const png = await encodePng(r.image.rgba, r.image.width, r.image.height, { parameters, Software: PNG_SOFTWARE });
  return { png, params, parameters };
}
