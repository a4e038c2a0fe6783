/**
 * A learned concept: one finished CIDM task (spec §1.2: each task trains its own LoRA and layer-wise
 * tokens from the frozen base). This is what the concept library stores, what EWA aggregates (spec §3)
 * and what the next task's consolidation loss reads (its LoRA ups, spec §2.2).
 */

export interface ConceptLora {
  /** [rank, in], row-major */
  down: Float32Array;
  /** [out, rank], row-major */
  up: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

export interface ConceptHyper {
  steps: number;
  lrLora: number;
  lrTokens: number;
  rank: number;
  seed: number;
  resolution: number;
  masked: boolean;
  gamma: number;
  r1Form: 'code' | 'paper';
}

export interface Concept {
  /** Stable id (uuid). */
  id: string;
  name: string;
  /** The class word(s), e.g. "dog" or "teddy bear". */
  classWord: string;
  /** The placeholder words in prompts, e.g. ["<dog1>", "<dog2>"]. */
  placeholders: string[];
  /** 1-based position in the task sequence (task g); earlier tasks were consolidated against. */
  taskIndex: number;
  /** Cross-attention layers L (70 for SDXL base). */
  layers: number;
  rank: number;
  /** Per text encoder, in model order: token_embeds [L, P, hidden_k] row-major, row l·P + j. */
  tokens: Float32Array[];
  /** Per text encoder, its hidden width. */
  tokenWidths: number[];
  /** LoRA per attn2 linear, keyed by module name (e.g. down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q). */
  lora: Map<string, ConceptLora>;
  hyper: ConceptHyper;
  /** The base model it was trained on (manifest id), so a concept is not applied to another model by mistake. */
  modelId: string;
  createdAt: number;
}
