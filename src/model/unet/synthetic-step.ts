/**
 * One UNet step on synthetic inputs of the right shapes (zeros), for the tools that run the real
 * forward to measure it rather than to sample: the dispatch count, the FLOP count, the matmul
 * autotune's shape list and the step benchmark. The shapes come from the architecture (latent
 * channels, cross-attention width, the pooled width of an SDXL-style added embedding), never from
 * SDXL-base constants.
 */
import type { UNetArch } from './arch';
import type { TensorRef, UNetBackend } from './backend';
import { unetForward } from './forward';

export interface SyntheticStepSize {
  width: number;
  height: number;
  /** 2: a CFG step (uncond and cond together). */
  batch: number;
  /** Image pixels per latent pixel (the VAE's factor); default 8. */
  latentFactor?: number;
  /** Text tokens the UNet attends to (77 for one CLIP chunk). */
  tokens?: number;
}

/** Runs one forward on zero inputs made by `make`; gives back the output and the inputs (the caller releases them). */
export async function runSyntheticStep<T extends TensorRef>(
  be: UNetBackend<T>,
  arch: UNetArch,
  o: SyntheticStepSize,
  make: (shape: number[], label: string) => T,
): Promise<{ out: T; inputs: T[] }> {
  const f = o.latentFactor ?? 8;
  const crossDim = arch.down.flatMap((b) => b.attentions)[0]?.crossDim ?? arch.mid.attention?.crossDim ?? 768;
  const sample = make([o.batch, arch.inChannels, o.height / f, o.width / f], 'sample');
  const ehs = make([o.batch, o.tokens ?? 77, crossDim], 'encoder_hidden_states');
  const pooledDim = arch.addition ? arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim : 0;
  const textEmbeds = arch.addition ? make([o.batch, pooledDim], 'text_embeds') : undefined;
  const out = await unetForward(be, arch, {
    sample,
    timesteps: new Array<number>(o.batch).fill(500),
    encoderHiddenStates: ehs,
    ...(textEmbeds ? { textEmbeds, timeIds: Array.from({ length: o.batch }, () => [o.height, o.width, 0, 0, o.height, o.width]).flat() } : {}),
  });
  return { out, inputs: [sample, ehs, ...(textEmbeds ? [textEmbeds] : [])] };
}
