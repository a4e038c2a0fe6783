/**
 * Text-encoder golden cases (any name; the encoders are the case's `models`), e.g. both SDXL text encoders (transformers CLIPTextModel and
 * CLIPTextModelWithProjection, output_hidden_states=True) on the case's token ids, every hidden state,
 * last_hidden_state, the pooled outputs and text_embeds, plus the SDXL prompt conditioning through
 * encodeSdxlPrompt (which skips te1's last layer). One result per tensor, named `text_encoders[te1.…]`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../gpu/tensor';
import { parseTextEncoderConfig } from '../model/text-encoder/config';
import { releaseTextEncoderOutput, textEncoderForward } from '../model/text-encoder/forward';
import { loadTextEncoder, type LoadedTextEncoder } from '../model/text-encoder/load';
import { encodeSdxlPrompt } from '../model/text-encoder/sdxl-prompt';
import { openModelFile, type GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

/** Per env and model folder (e.g. models/text_encoder_2), loaded once. */
const cache = new WeakMap<GoldenEnv, Map<string, Promise<LoadedTextEncoder>>>();

/** Loads models/<dir> (config.json + model.safetensors) of a golden set in the env's dtype. */
export async function loadGoldenTextEncoder(env: GoldenEnv, dir: string, embeddingBlockBytes?: number): Promise<LoadedTextEncoder> {
  const folder = dir.includes('/') ? dir : `models/${dir}`;
  const cfgPath = `${folder}/config.json`;
  const config = parseTextEncoderConfig(JSON.parse(readFileSync(join(env.dir, cfgPath), 'utf8')), { file: cfgPath });
  const file = await openModelFile(env.dir, `${folder}/model.safetensors`);
  try {
    return await loadTextEncoder(env.ctx, file, config, { dtype: env.dtype, packWeights: env.packWeights, ...(embeddingBlockBytes ? { embeddingBlockBytes } : {}) });
  } finally {
    await file.close();
  }
}

function goldenTextEncoder(env: GoldenEnv, folder: string): Promise<LoadedTextEncoder> {
  let byFolder = cache.get(env);
  if (!byFolder) cache.set(env, (byFolder = new Map()));
  let p = byFolder.get(folder);
  if (!p) byFolder.set(folder, (p = loadGoldenTextEncoder(env, folder)));
  return p;
}

/** An I64 id tensor of a case as numbers (ids < 2^53). */
export async function caseIds(c: GoldenCase, name: string): Promise<number[]> {
  const bytes = await c.file.readBytes(name);
  if (c.file.info(name).dtype !== 'I64') throw new Error(`${c.name}: ${name} is ${c.file.info(name).dtype}, expected I64`);
  return Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), Number);
}

/**
 * Every encoder the case lists (`models`), on its ids (input.input_ids_<k>, or input.input_ids for a
 * single encoder): each hidden state, last_hidden_state, the pooled output and text_embeds that the
 * case holds, as te<k>.…; with two encoders and sdxl.* tensors, the SDXL prompt conditioning too.
 */
export async function textEncodersCase(env: GoldenEnv, c: GoldenCase, models: readonly string[] = ['models/text_encoder', 'models/text_encoder_2']): Promise<CaseResult[]> {
  const encoders = await Promise.all(models.map((m) => goldenTextEncoder(env, m)));
  const ctx = env.ctx;
  const tol = env.tol('network');
  const results: CaseResult[] = [];
  const check = async (name: string, t: Tensor | null | undefined) => {
    if (t && c.has(name)) results.push(measure(`${c.name}[${name}]`, await ctx.read(t), await c.f32(name), tol));
  };
  const ids: number[][] = [];
  for (let k = 0; k < encoders.length; k++) {
    const name = c.has(`input.input_ids_${k + 1}`) ? `input.input_ids_${k + 1}` : 'input.input_ids';
    ids.push(await caseIds(c, name));
  }
  for (let k = 0; k < encoders.length; k++) {
    const key = `te${k + 1}`;
    const out = await textEncoderForward(ctx, encoders[k]!, ids[k]!, { hiddenStates: 'all' });
    try {
      for (const [i, h] of out.hiddenStates) await check(`${key}.hidden_states.${i}`, h);
      await check(`${key}.last_hidden_state`, out.lastHiddenState);
      // transformers names the pooled output pooler_output; the shared case stores te2's as pooled_output
      await check(c.has(`${key}.pooler_output`) ? `${key}.pooler_output` : `${key}.pooled_output`, out.pooled);
      await check(`${key}.text_embeds`, out.textEmbeds);
    } finally {
      releaseTextEncoderOutput(ctx, out);
    }
  }
  if (encoders.length === 2 && (c.has('sdxl.prompt_embeds') || c.has('sdxl.pooled_prompt_embeds'))) {
    const sdxl = await encodeSdxlPrompt(ctx, encoders[0]!, encoders[1]!, ids[0]!, ids[1]!);
    try {
      await check('sdxl.prompt_embeds', sdxl.embeds);
      await check('sdxl.pooled_prompt_embeds', sdxl.pooled);
    } finally {
      ctx.release(sdxl.embeds, sdxl.pooled);
    }
  }
  return results;
}
