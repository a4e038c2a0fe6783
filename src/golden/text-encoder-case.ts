/**
 * Golden case `text_encoders`: both SDXL text encoders (transformers CLIPTextModel and
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

export interface GoldenTextEncoders {
  te1: LoadedTextEncoder;
  te2: LoadedTextEncoder;
}

const cache = new WeakMap<GoldenEnv, Promise<GoldenTextEncoders>>();

/** Loads models/<dir> (config.json + model.safetensors) of a golden set in the env's dtype. */
export async function loadGoldenTextEncoder(env: GoldenEnv, dir: string, embeddingBlockBytes?: number): Promise<LoadedTextEncoder> {
  const cfgPath = `models/${dir}/config.json`;
  const config = parseTextEncoderConfig(JSON.parse(readFileSync(join(env.dir, cfgPath), 'utf8')), { file: cfgPath });
  const file = await openModelFile(env.dir, `models/${dir}/model.safetensors`);
  try {
    return await loadTextEncoder(env.ctx, file, config, { dtype: env.dtype, ...(embeddingBlockBytes ? { embeddingBlockBytes } : {}) });
  } finally {
    await file.close();
  }
}

/** Both encoders, loaded once per env and kept for later cases (pipelines reuse them). */
export function goldenTextEncoders(env: GoldenEnv): Promise<GoldenTextEncoders> {
  let p = cache.get(env);
  if (!p) {
    p = (async () => ({ te1: await loadGoldenTextEncoder(env, 'text_encoder'), te2: await loadGoldenTextEncoder(env, 'text_encoder_2') }))();
    cache.set(env, p);
  }
  return p;
}

/** An I64 id tensor of a case as numbers (ids < 2^53). */
export async function caseIds(c: GoldenCase, name: string): Promise<number[]> {
  const bytes = await c.file.readBytes(name);
  if (c.file.info(name).dtype !== 'I64') throw new Error(`${c.name}: ${name} is ${c.file.info(name).dtype}, expected I64`);
  return Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), Number);
}

export async function textEncodersCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  const { te1, te2 } = await goldenTextEncoders(env);
  const ctx = env.ctx;
  const tol = env.tol('network');
  const results: CaseResult[] = [];
  const check = async (name: string, t: Tensor) => {
    results.push(measure(`${c.name}[${name}]`, await ctx.read(t), await c.f32(name), tol));
  };
  const ids = { te1: await caseIds(c, 'input.input_ids_1'), te2: await caseIds(c, 'input.input_ids_2') };
  for (const [key, te] of [['te1', te1], ['te2', te2]] as const) {
    const out = await textEncoderForward(ctx, te, ids[key], { hiddenStates: 'all' });
    try {
      for (const [i, h] of out.hiddenStates) await check(`${key}.hidden_states.${i}`, h);
      await check(`${key}.last_hidden_state`, out.lastHiddenState!);
      // transformers names the pooled output pooler_output; the case stores te2's as pooled_output
      await check(c.has(`${key}.pooler_output`) ? `${key}.pooler_output` : `${key}.pooled_output`, out.pooled!);
      if (out.textEmbeds) await check(`${key}.text_embeds`, out.textEmbeds);
    } finally {
      releaseTextEncoderOutput(ctx, out);
    }
  }
  const sdxl = await encodeSdxlPrompt(ctx, te1, te2, ids.te1, ids.te2);
  try {
    await check('sdxl.prompt_embeds', sdxl.embeds);
    await check('sdxl.pooled_prompt_embeds', sdxl.pooled);
  } finally {
    ctx.release(sdxl.embeds, sdxl.pooled);
  }
  return results;
}
