/**
 * Synthetic concepts for EWA's checks and bench: seeded random layer-wise tokens and LoRAs of the
 * right shapes for a model, with no training behind them. Token rows are drawn large (σ = tokenStd,
 * default 4: a row's norm is then ~4·√hidden, while the tiny random encoders' states have norms ~15
 * and a large part shared by all positions, cos ≈ 0.4 between unrelated ones), so each concept's
 * words dominate the states at their positions and concepts are told apart clearly, as learned tokens
 * are on a trained model. LoRA ups are non-zero (a freshly initialised up is 0 and would make every
 * fold a no-op).
 */
import { NoiseStream } from '../../diffusion/rng';
import type { UNetArch } from '../../model/unet/arch';
import type { Concept, ConceptLora } from '../concepts/concept';
import { crossAttentionLayers, loraTargets } from '../train/layers';

export interface SyntheticConceptOptions {
  /** Placeholder words per concept (default 2). */
  words?: number;
  rank?: number;
  seed?: number;
  /** σ of the token rows (default 4). */
  tokenStd?: number;
  /** σ of the LoRA downs and ups (default 0.1). */
  loraStd?: number;
}

function normals(rng: NoiseStream, n: number, std: number): Float32Array {
  const out = rng.normals(n);
  for (let i = 0; i < n; i++) out[i]! *= std;
  return out;
}

/** `count` concepts for tasks 1..count, words "<sN_j>" (N = concept number), for UNet `arch` and encoders of these widths. */
export function syntheticConcepts(arch: UNetArch, tokenWidths: readonly number[], count: number, o: SyntheticConceptOptions = {}): Concept[] {
  const words = o.words ?? 2;
  const rank = o.rank ?? 4;
  const layers = crossAttentionLayers(arch).length;
  const targets = loraTargets(arch);
  return Array.from({ length: count }, (_, i) => {
    const rng = new NoiseStream(o.seed ?? 1234, 1000 + i);
    const lora = new Map<string, ConceptLora>();
    for (const t of targets) {
      lora.set(t.module, {
        down: normals(rng, rank * t.inFeatures, o.loraStd ?? 0.1),
        up: normals(rng, t.outFeatures * rank, o.loraStd ?? 0.1),
        inFeatures: t.inFeatures,
        outFeatures: t.outFeatures,
      });
    }
    return {
      id: `synthetic-${i + 1}`,
      name: `synthetic ${i + 1}`,
      classWord: 'thing',
      placeholders: Array.from({ length: words }, (_, j) => `<s${i + 1}_${j + 1}>`),
      taskIndex: i + 1,
      layers,
      rank,
      tokens: tokenWidths.map((h) => normals(rng, layers * words * h, o.tokenStd ?? 4)),
      tokenWidths: [...tokenWidths],
      lora,
      hyper: { steps: 0, lrLora: 0, lrTokens: 0, rank, seed: o.seed ?? 1234, resolution: 0, masked: false, gamma: 0, r1Form: 'code' },
      modelId: 'synthetic',
      createdAt: 0,
    };
  });
}
