/**
 * Layer-wise text states for EWA and for sampling (spec §1.4, §9.2): a prompt's L layer-wise copies
 * (token-table.ts) through every text encoder as one batch, exactly as the CIDM training step encodes
 * a caption (src/cidm/train/cidm-step.ts), so inference reads the states the concepts were learned in:
 *   states[l] = SDXL: cat(te1, te2) of hidden_states[-2] (2048-d); a single-encoder model (SD-1.5): its
 *               last_hidden_state (CIDM's released code, spec §1.4)
 *   pooled    = the projection encoder's text_embeds of the layer-0 copy, pooled at the first EOS (the
 *               learned ids are > 49407, so transformers' argmax pooling would pick a placeholder).
 * A prompt that names no concept has identical copies: it is encoded once, [1, 77, C], and that one
 * state serves every layer.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import { concat } from '../../ops/concat';
import { stridedCopy } from '../../ops/strided-copy';
import { releaseTextEncoderOutput, textEncoderForward } from '../../model/text-encoder/forward';
import type { LoadedTextEncoder } from '../../model/text-encoder/load';

export interface LayerwiseStates {
  /** [Ls, T, C] in the model dtype; Ls = L, or 1 when every layer reads the same prompt. */
  states: Tensor;
  /** [1, projection_dim] of the layer-0 copy when asked for and an encoder has the projection. */
  pooled: Tensor | null;
}

export interface EncodeLayerwiseOptions {
  /** Tokens per sequence (default 77). */
  seq?: number;
  /** Compute the pooled embedding (default false). */
  pooled?: boolean;
}

/**
 * ids[k]: encoder k's ids, Ls·seq (or sequences·seq) of them, layer-major; extra[k]: its learned rows
 * [L·W, hidden_k]. Returns the states cross-attention reads, [Ls, seq, Σ hidden].
 */
export async function encodeLayerwise(
  ctx: GpuContext, encoders: readonly LoadedTextEncoder[], extra: readonly Tensor[], ids: readonly (readonly number[])[], o: EncodeLayerwiseOptions = {},
): Promise<LayerwiseStates> {
  if (ids.length !== encoders.length || extra.length !== encoders.length) throw new RangeError(`EWA: ${ids.length} id lists and ${extra.length} token tables for ${encoders.length} text encoders`);
  const seq = o.seq ?? 77;
  const hidden: Tensor[] = [];
  let pooled: Tensor | null = null;
  try {
    for (const [k, te] of encoders.entries()) {
      const L = te.config.numHiddenLayers;
      const wantPooled = (o.pooled ?? false) && k === encoders.length - 1 && te.config.withProjection;
      // the rule of src/cidm/train/cidm-step.ts, which the concepts were learned with
      const lastState = encoders.length === 1 && !te.config.withProjection;
      const out = await textEncoderForward(ctx, te, ids[k]!, {
        seq,
        extraEmbeddings: extra[k],
        ...(lastState ? {} : wantPooled ? { hiddenStates: [L - 1], pooling: 'eos' as const } : { hiddenStates: [L - 1], layers: L - 1, final: false }),
      });
      if (lastState) {
        hidden.push(out.lastHiddenState!);
        out.lastHiddenState = null;
      } else {
        hidden.push(out.hiddenStates.get(L - 1)!);
        out.hiddenStates.delete(L - 1);
      }
      if (wantPooled) {
        const proj = out.textEmbeds!;
        pooled = ctx.empty([1, proj.shape[1]!], proj.dtype, 'ewa-pooled');
        await stridedCopy(ctx, proj, pooled, { rows: 1, cols: proj.shape[1]! });
      }
      releaseTextEncoderOutput(ctx, out);
    }
    const states = hidden.length === 1 ? hidden[0]! : await concat(ctx, hidden, -1);
    if (hidden.length > 1) ctx.release(...hidden);
    return { states, pooled };
  } catch (err) {
    ctx.releaseLive(...hidden, ...(pooled ? [pooled] : []));
    throw err;
  }
}

export interface LayerContexts {
  /** One [B, T, C] per cross-attention layer (entries repeat when the states are shared). */
  contexts: Tensor[];
  release(): void;
}

/**
 * The UNet's layerContexts from layer-wise states [Ls, T, C]: entry l is [uncond; states[l]] ([2, T, C],
 * the loop's CFG batch order) with an unconditional state [1, T, C], else states[l] alone ([1, T, C]).
 * The unconditional prompt is not layer-wise (spec §1.4: the same embedding for every layer).
 */
export async function layerContexts(ctx: GpuContext, s: Tensor, layers: number, uncond?: Tensor): Promise<LayerContexts> {
  const [Ls, T, C] = s.shape as [number, number, number];
  if (Ls !== layers && Ls !== 1) throw new RangeError(`EWA: ${Ls} layer states for ${layers} cross-attention layers`);
  if (uncond && (uncond.shape[0] !== 1 || uncond.shape[1] !== T || uncond.shape[2] !== C || uncond.dtype !== s.dtype)) {
    throw new RangeError(`EWA: the unconditional state [${uncond.shape}] does not match the layer states [${s.shape}]`);
  }
  const B = uncond ? 2 : 1;
  const dtype: DType = s.dtype;
  const made: Tensor[] = [];
  for (let l = 0; l < Ls; l++) {
    const c = ctx.empty([B, T, C], dtype, `ewa-context-${l}`);
    if (uncond) await stridedCopy(ctx, uncond, c, { rows: 1, cols: T * C });
    await stridedCopy(ctx, s, c, { rows: 1, cols: T * C, srcOffset: l * T * C, dstOffset: (B - 1) * T * C });
    made.push(c);
  }
  const contexts = Ls === 1 ? Array<Tensor>(layers).fill(made[0]!) : made;
  return { contexts, release: () => ctx.releaseLive(...made) };
}
