/**
 * Elastic weight aggregation end to end (spec §3, §9.2), for a library of learned concepts on one model
 * (SDXL: two text encoders; SD-1.5: one):
 *
 *  once per library (EwaLibrary.create):
 *    register every concept's words as added tokens (token-table.ts) and upload the extra rows;
 *    encode the concept prompt's L layer-wise copies → states [sequences·L, 77, C] (kept; a library
 *    past one 77-token sequence is encoded one sequence's L copies at a time, the batch of a prompt,
 *    so no activation outgrows what a prompt needs);
 *    pack all LoRAs per attn2 linear (fold.ts).
 *  once per prompt (prepare):
 *    encode the prompt's layer-wise copies → [L, 77, C] (or [1, 77, C] if it names no concept);
 *    similarity table on the GPU (similarity.ts), read back, w^l per layer in TS (weights.ts);
 *    fold W_eff = W0 + s·Σ w_i U_i D_i into new attn2 tensors.
 * Sampling then runs the UNet on the folded weights with the layer-wise states as layerContexts
 * (encode.ts layerContexts); CFG's unconditional branch uses the same folded weights (spec §3.2).
 */
import { scaleTaskWeights } from './task-scales';
import type { GpuContext } from '../../gpu/context';
import { toF16Array } from '../../gpu/f16';
import type { Tensor } from '../../gpu/tensor';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import type { Concept } from '../concepts/concept';
import { concat } from '../../ops/concat';
import { checkPlaceholders } from '../train/caption-ids';
import type { CidmModel } from '../train/cidm-step';
import { crossAttentionLayers, loraTargets } from '../train/layers';
import { encodeLayerwise, type LayerwiseStates } from './encode';
import { createLoraBank, ewaAdapters, EWA_LORA_SCALE, foldEwa, type EwaAdapters, type EwaLoraBank, type FoldedWeights } from './fold';
import { ewaSimilarity, layerSimilarities, type ConceptRows } from './similarity';
import {
  buildTokenTable, conceptPromptIds, conceptPromptLayout, extraEmbeddingRows, layerwisePromptIds, promptIds, type EwaTokenTable,
} from './token-table';
import { ewaLayerWeights, type EwaForm } from './weights';

export interface EwaOptions {
  /** 'code' (default: cosine, max, mean per task, s⁴/Σs⁴) or 'paper' (Eq. 3: dot, M²/‖M²‖). */
  form?: EwaForm;
  /** s_lora, the global LoRA scale (default 0.8, the code's; the paper has none, i.e. 1). */
  loraScale?: number;
}

export interface EwaPromptStates extends LayerwiseStates {
  /** True when the prompt names no concept (states [1, 77, C] serve every layer). */
  shared: boolean;
  truncated: boolean;
}

export interface EwaPrompt {
  /** w^l for every cross-attention layer, one weight per concept in task order (table.concepts). */
  readonly layerWeights: Float64Array[];
  /** The prompt's layer-wise conditional states and pooled embedding (the caller's until release). */
  readonly prompt: EwaPromptStates;
  /** The UNet weights with the attn2 linears folded. */
  readonly folded: FoldedWeights;
  /** Frees the folded tensors and the prompt states. */
  release(): void;
}

export class EwaLibrary {
  private constructor(
    private readonly ctx: GpuContext,
    readonly model: CidmModel,
    private readonly tokenizers: readonly ClipTokenizer[],
    readonly table: EwaTokenTable,
    /** Per encoder: the extra rows [L·W, hidden_k]. */
    private readonly extra: readonly Tensor[],
    /** The concept prompt's states [sequences·L, 77, C] and each word's row in them. */
    readonly concept: ConceptRows,
    readonly bank: EwaLoraBank,
    readonly options: Required<EwaOptions>,
  ) {}

  /** tokenizers: one per text encoder, in the model's order. */
  static async create(ctx: GpuContext, model: CidmModel, tokenizers: readonly ClipTokenizer[], concepts: readonly Concept[], o: EwaOptions = {}): Promise<EwaLibrary> {
    if (tokenizers.length !== model.encoders.length) throw new RangeError(`EWA: ${tokenizers.length} tokenizers for ${model.encoders.length} text encoders`);
    const layers = crossAttentionLayers(model.unet.arch).length;
    const table = buildTokenTable(concepts, model.encoders.map((e) => e.config), layers);
    // a placeholder that is a vocabulary word would silently change that word everywhere
    for (const tok of tokenizers) checkPlaceholders(tok, table.words);
    const extra: Tensor[] = [];
    const parts: Tensor[] = [];
    let bank: EwaLoraBank | null = null;
    try {
      for (const [k, te] of model.encoders.entries()) {
        const rows = extraEmbeddingRows(table, k);
        const t = ctx.persistent([layers * table.words.length, te.config.hiddenSize], model.dtype, `ewa concept tokens ${k + 1}`);
        extra.push(t);
        ctx.write(t, model.dtype === 'f16' ? toF16Array(rows) : rows);
      }
      const seq = tokenizers[0]!.maxLength;
      const layout = conceptPromptLayout(table, seq);
      const ids = tokenizers.map((tok, k) => conceptPromptIds(table, k, tok));
      for (let s = 0; s < layout.sequences; s++) {
        const one = ids.map((all, k) => layerwisePromptIds(table, k, all.slice(s * seq, (s + 1) * seq)));
        parts.push((await encodeLayerwise(ctx, model.encoders, extra, one, { seq })).states);
      }
      const states = parts.length === 1 ? parts[0]! : await concat(ctx, parts, 0);
      if (parts.length > 1) ctx.release(...parts);
      parts.length = 0;
      parts.push(states);
      // Word w of layer l: row (sequence·L + l)·seq + position = l·seq + (sequence·L·seq + position).
      const concept: ConceptRows = { states, layers, layerStride: seq, rows: layout.places.map((p) => p.sequence * layers * seq + p.position) };
      bank = createLoraBank(ctx, loraTargets(model.unet.arch), table.concepts, model.dtype);
      const options = { form: o.form ?? 'code', loraScale: o.loraScale ?? EWA_LORA_SCALE };
      return new EwaLibrary(ctx, model, tokenizers, table, extra, concept, bank, options);
    } catch (err) {
      for (const t of extra) ctx.destroyTensor(t);
      ctx.releaseLive(...parts);
      bank?.destroy();
      throw err;
    }
  }

  get layers(): number {
    return this.table.layers;
  }

  /** The prompt's layer-wise conditional states (and pooled embedding), as sampling consumes them. */
  async encodePrompt(prompt: string): Promise<EwaPromptStates> {
    const per = this.tokenizers.map((tok, k) => promptIds(this.table, tok, k, prompt));
    const shared = !per.some((p) => p.hasPlaceholders);
    const ids = per.map((p, k) => (shared ? p.ids : layerwisePromptIds(this.table, k, p.ids)));
    const enc = await encodeLayerwise(this.ctx, this.model.encoders, this.extra, ids, { seq: this.tokenizers[0]!.maxLength, pooled: true });
    return { ...enc, shared, truncated: per.some((p) => p.truncated) };
  }

  /** w^l for every layer from prompt states [L or 1, 77, C]. */
  async weights(states: Tensor, form: EwaForm = this.options.form): Promise<Float64Array[]> {
    const t = await ewaSimilarity(this.ctx, this.concept, states);
    const table = await this.ctx.read(t);
    this.ctx.release(t);
    return layerSimilarities(table, this.layers, this.concept.rows.length, states.shape[1]!).map((s) => ewaLayerWeights(s, this.table.spans, form));
  }

  /** Encode, weigh and fold for one prompt; taskScales: a style strength per concept in task order (task-scales.ts). */
  async prepare(prompt: string, o: EwaOptions & { taskScales?: readonly number[] } = {}): Promise<EwaPrompt> {
    const p = await this.encodePrompt(prompt);
    const release = () => this.ctx.releaseLive(p.states, ...(p.pooled ? [p.pooled] : []));
    try {
      const layerWeights = scaleTaskWeights(await this.weights(p.states, o.form ?? this.options.form), o.taskScales);
      const folded = await foldEwa(this.ctx, this.model.unet.weights, this.bank, layerWeights, { scale: o.loraScale ?? this.options.loraScale });
      return {
        layerWeights,
        prompt: p,
        folded,
        release: () => {
          folded.release();
          release();
        },
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The unfolded equivalent of a fold with these weights (GpuUNetBackend's `lora` option). */
  adapters(layerWeights: readonly ArrayLike<number>[], scale = this.options.loraScale): Promise<EwaAdapters> {
    return ewaAdapters(this.ctx, this.model.unet.weights, this.bank, layerWeights, { scale });
  }

  destroy(): void {
    for (const t of this.extra) this.ctx.destroyTensor(t);
    this.ctx.releaseLive(this.concept.states);
    this.bank.destroy();
  }
}
