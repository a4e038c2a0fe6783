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
import type { CrossAttentionKvCache } from './cross-attention-kv-cache';

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

/** The step's zero inputs made by `make` (the caller releases `all`). */
export interface SyntheticStepInputs<T> {
  sample: T;
  encoderHiddenStates: T;
  textEmbeds?: T;
  all: T[];
}

export function syntheticStepInputs<T extends TensorRef>(arch: UNetArch, o: SyntheticStepSize, make: (shape: number[], label: string) => T): SyntheticStepInputs<T> {
  const f = o.latentFactor ?? 8;
  const crossDim = arch.down.flatMap((b) => b.attentions)[0]?.crossDim ?? arch.mid.attention?.crossDim ?? 768;
  const sample = make([o.batch, arch.inChannels, o.height / f, o.width / f], 'sample');
  const ehs = make([o.batch, o.tokens ?? 77, crossDim], 'encoder_hidden_states');
  const pooledDim = arch.addition ? arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim : 0;
  const textEmbeds = arch.addition ? make([o.batch, pooledDim], 'text_embeds') : undefined;
  return { sample, encoderHiddenStates: ehs, ...(textEmbeds ? { textEmbeds } : {}), all: [sample, ehs, ...(textEmbeds ? [textEmbeds] : [])] };
}

/**
 * One forward on given synthetic inputs; with `crossAttentionKv` as a sampling run's step (the same inputs
 * and cache on a later step read the cached attn2 K/V, cross-attention-kv-cache.ts).
 */
export function runSyntheticStepOn<T extends TensorRef>(be: UNetBackend<T>, arch: UNetArch, o: SyntheticStepSize, inputs: SyntheticStepInputs<T>, crossAttentionKv?: CrossAttentionKvCache<T>): Promise<T> {
  const { textEmbeds } = inputs;
  return unetForward(be, arch, {
    sample: inputs.sample,
    timesteps: new Array<number>(o.batch).fill(500),
    encoderHiddenStates: inputs.encoderHiddenStates,
    ...(textEmbeds ? { textEmbeds, timeIds: Array.from({ length: o.batch }, () => [o.height, o.width, 0, 0, o.height, o.width]).flat() } : {}),
    ...(crossAttentionKv ? { crossAttentionKv } : {}),
  });
}

/** Runs one forward on zero inputs made by `make`; gives back the output and the inputs (the caller releases them). */
export async function runSyntheticStep<T extends TensorRef>(
  be: UNetBackend<T>,
  arch: UNetArch,
  o: SyntheticStepSize,
  make: (shape: number[], label: string) => T,
): Promise<{ out: T; inputs: T[] }> {
  const inputs = syntheticStepInputs(arch, o, make);
  const out = await runSyntheticStepOn(be, arch, o, inputs);
  return { out, inputs: inputs.all };
}
