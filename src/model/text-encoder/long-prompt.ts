/**
 * SDXL's prompt conditioning for prompts longer than 77 tokens (issue 12 point 4), the A1111 convention
 * (stable-diffusion-webui modules/sd_hijack_clip.py, re-implemented from its behaviour; Compel's
 * long-prompt mode is the same): each tokenizer's ids are cut into 75-token chunks (prompt-chunks.ts),
 * all chunks go through both text encoders as one batch [k, 77], and
 *   prompt_embeds        = the k chunks' [77, h1 + h2] states one after another  → [1, 77·k, h1 + h2]
 *   pooled_prompt_embeds = te2.text_embeds of the FIRST chunk                    → [1, P]
 * (A1111's SDXL conditioner keeps the pooled output of chunk 0 only.) Every chunk starts again at
 * position 0 with its own BOS, so a one-chunk prompt is exactly the diffusers (truncate) encoding.
 *
 * Emphasis (A1111's "Original" emphasis, sd_hijack_clip.py process_tokens / emphasis.py): per chunk
 * and per text encoder, z = that encoder's [77, h] states; m = mean(z); z ← z · w_token (each token row
 * times its weight); z ← z · m / mean(z). Done on the CPU (a read-back of [k, 77, 2048] floats, once per
 * prompt) only when some weight is not 1, so a prompt without brackets never leaves the GPU.
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { stridedCopy } from '../../ops/strided-copy';
import type { ClipTokenizer } from '../tokenizer/clip-bpe';
import { chunkPrompt, padChunks, type ChunkOptions } from '../tokenizer/prompt-chunks';
import type { LoadedTextEncoder } from './load';
import { encodeSdxlPrompt, type SdxlPromptEmbeds, type SdxlPromptOptions } from './sdxl-prompt';

/** 'truncate': diffusers (cut to 77, the default); 'chunked': A1111's 75-token chunks. */
export type PromptMode = 'truncate' | 'chunked';

/** How a prompt is turned into conditioning (the sampling loop's encodePrompt option). */
export interface PromptEncoding {
  mode: PromptMode;
  /** A1111's (word:1.2) syntax, chunked mode only. */
  emphasis?: boolean;
  /** Chunked: pad with empty chunks to at least this many (CFG's two prompts need the same length). */
  chunks?: number;
}

/** Both tokenizers' chunks of one prompt, flattened: k sequences of 77 ids and weights each. */
export interface SdxlChunkedIds {
  chunks: number;
  ids1: number[];
  ids2: number[];
  weights1: number[];
  weights2: number[];
}

/**
 * Chunks a prompt for both encoders. Each tokenizer is chunked on its own (as A1111 wraps each SDXL
 * embedder on its own); in the rare case their counts differ (tokenizer_2 reads "!" as its pad token)
 * the shorter one is padded with empty chunks, as is everything below `minChunks`.
 */
export function tokenizeSdxlChunked(tok1: ClipTokenizer, tok2: ClipTokenizer, prompt: string, o: ChunkOptions & { minChunks?: number } = {}): SdxlChunkedIds {
  const c1 = chunkPrompt(tok1, prompt, o);
  const c2 = chunkPrompt(tok2, prompt, o);
  const chunks = Math.max(c1.chunks.length, c2.chunks.length, o.minChunks ?? 1);
  const p1 = padChunks(tok1, c1, chunks).chunks;
  const p2 = padChunks(tok2, c2, chunks).chunks;
  return {
    chunks,
    ids1: p1.flatMap((c) => c.ids),
    ids2: p2.flatMap((c) => c.ids),
    weights1: p1.flatMap((c) => c.weights),
    weights2: p2.flatMap((c) => c.weights),
  };
}

/** How many chunks a prompt needs on SDXL (the larger of the two tokenizers' counts). */
export function sdxlPromptChunks(tok1: ClipTokenizer, tok2: ClipTokenizer, prompt: string, o: ChunkOptions = {}): number {
  return Math.max(chunkPrompt(tok1, prompt, o).chunks.length, chunkPrompt(tok2, prompt, o).chunks.length);
}

/** One encoder's channels [from, to) of the concatenated states and the weight of every token row. */
export interface EmphasisSpan {
  from: number;
  to: number;
  weights: ArrayLike<number>;
}

/**
 * A1111's emphasis on states z [k·seq, C] (row-major, chunk after chunk), in place: for each chunk and
 * each span, rows scaled by their weights, then the whole [seq, to − from] block rescaled so that its
 * mean is what it was before. Means are summed in f64.
 */
export function applyEmphasis(z: Float32Array, seq: number, channels: number, spans: readonly EmphasisSpan[]): Float32Array {
  const rows = z.length / channels;
  if (!Number.isInteger(rows) || rows % seq !== 0) throw new RangeError(`emphasis: ${z.length} values are not whole chunks of ${seq}×${channels}`);
  for (const s of spans) {
    if (s.weights.length !== rows) throw new RangeError(`emphasis: ${s.weights.length} weights for ${rows} token rows`);
    if (s.from < 0 || s.to > channels || s.from >= s.to) throw new RangeError(`emphasis: channels [${s.from}, ${s.to}) outside [0, ${channels})`);
  }
  const blockMean = (r0: number, s: EmphasisSpan) => {
    let sum = 0;
    for (let r = r0; r < r0 + seq; r++) for (let c = s.from; c < s.to; c++) sum += z[r * channels + c]!;
    return sum / (seq * (s.to - s.from));
  };
  for (let r0 = 0; r0 < rows; r0 += seq) {
    for (const s of spans) {
      let plain = true;
      for (let r = r0; r < r0 + seq; r++) if (s.weights[r] !== 1) plain = false;
      if (plain) continue; // ×1 and ×(m/m): nothing changes, keep the bits
      const before = blockMean(r0, s);
      for (let r = r0; r < r0 + seq; r++) {
        const w = s.weights[r]!;
        for (let c = s.from; c < s.to; c++) z[r * channels + c]! *= w;
      }
      const ratio = before / blockMean(r0, s);
      for (let r = r0; r < r0 + seq; r++) for (let c = s.from; c < s.to; c++) z[r * channels + c]! *= ratio;
    }
  }
  return z;
}

/**
 * The conditioning of a chunked prompt: embeds [1, 77·k, h1 + h2] and pooled [1, P] (chunk 0's).
 * The caller owns both (ctx.release).
 */
export async function encodeSdxlChunked(
  ctx: GpuContext, te1: LoadedTextEncoder, te2: LoadedTextEncoder, c: SdxlChunkedIds, o: SdxlPromptOptions = {},
): Promise<SdxlPromptEmbeds> {
  const e = await encodeSdxlPrompt(ctx, te1, te2, c.ids1, c.ids2, o);
  const [k, seq, channels] = e.embeds.shape as [number, number, number];
  let pooled: Tensor = e.pooled;
  let embeds: Tensor = e.embeds;
  try {
    if (k > 1) {
      const P = e.pooled.shape[1]!;
      pooled = ctx.empty([1, P], e.pooled.dtype, 'long-prompt-pooled');
      await stridedCopy(ctx, e.pooled, pooled, { rows: 1, cols: P });
      ctx.release(e.pooled);
    }
    const h1 = te1.config.hiddenSize;
    const emphasised = [...c.weights1, ...c.weights2].some((w) => w !== 1);
    if (emphasised) {
      const z = applyEmphasis(await ctx.read(e.embeds), seq, channels, [
        { from: 0, to: h1, weights: c.weights1 },
        { from: h1, to: channels, weights: c.weights2 },
      ]);
      embeds = ctx.upload(z, [1, k * seq, channels], e.embeds.dtype, 'long-prompt-embeds');
      ctx.release(e.embeds);
    } else {
      // the k sequences are already one after another: a view, no copy
      embeds = { ...e.embeds, shape: [1, k * seq, channels] };
    }
    return { embeds, pooled };
  } catch (err) {
    ctx.releaseLive(e.embeds, e.pooled, pooled, embeds);
    throw err;
  }
}
