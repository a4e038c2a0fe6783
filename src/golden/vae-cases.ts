/**
 * VAE golden cases on the tiny AutoencoderKL (models/vae): vae_decode (every intermediate the case
 * holds, then output.image), vae_encode (encoder_out, moments and the posterior derived from them),
 * and the per-op cases op_vae_mid_attention and op_vae_up_block1, each run through the real forward.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../gpu/tensor';
import { parseVaeConfig } from '../model/config';
import { vaeAttention, vaeUpBlock } from '../model/vae/forward';
import { samplePosterior, scaled } from '../model/vae/image';
import { loadVae, type LoadedVae } from '../model/vae/load';
import { vaeBackend, vaeDecode, vaeEncode } from '../model/vae/vae';
import { openModelFile, type GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

export const VAE_CASES = new Set(['vae_decode', 'vae_encode', 'op_vae_mid_attention', 'op_vae_up_block1']);

const loaded = new WeakMap<GoldenEnv, Promise<LoadedVae>>();

/** The tiny VAE (both halves), loaded once per env in the env's dtype. */
export function goldenVae(env: GoldenEnv, model = 'models/vae'): Promise<LoadedVae> {
  let p = loaded.get(env);
  if (!p) {
    p = (async () => {
      const config = parseVaeConfig(JSON.parse(readFileSync(join(env.dir, model, 'config.json'), 'utf8')), `${model}/config.json`);
      const file = await openModelFile(env.dir, `${model}/diffusion_pytorch_model.safetensors`);
      try {
        return await loadVae(env.ctx, file, config, { dtype: env.dtype });
      } finally {
        await file.close();
      }
    })();
    loaded.set(env, p);
  }
  return p;
}

async function decodeCase(env: GoldenEnv, c: GoldenCase, vae: LoadedVae): Promise<CaseResult[]> {
  const tol = env.tol('network');
  const out: CaseResult[] = [];
  const z = env.upload(await c.f32('input.z'), c.shape('input.z'), 'input.z');
  try {
    const image = await vaeDecode(env.ctx, vae, z, async (name, t) => {
      const key = `intermediate.${name}`;
      if (c.has(key)) out.push(measure(`${c.name}[${key}]`, await env.ctx.read(t), await c.f32(key), tol));
    });
    const data = await env.ctx.read(image);
    env.ctx.release(image);
    out.push(measure(`${c.name}[output.image]`, data, await c.f32('output.image'), tol));
  } finally {
    env.ctx.release(z);
  }
  return out;
}

async function encodeCase(env: GoldenEnv, c: GoldenCase, vae: LoadedVae): Promise<CaseResult[]> {
  const tol = env.tol('network');
  const out: CaseResult[] = [];
  const x = env.upload(await c.f32('input.image'), c.shape('input.image'), 'input.image');
  try {
    const { moments, posterior } = await vaeEncode(env.ctx, vae, x, async (name, t) => {
      const key = `intermediate.${name}`;
      if (c.has(key)) out.push(measure(`${c.name}[${key}]`, await env.ctx.read(t), await c.f32(key), tol));
    });
    const derived: [string, Float32Array][] = [
      ['moments', moments.data],
      ['mean', posterior.mean],
      ['logvar', posterior.logvar],
      ['std', posterior.std],
      ['latents_scaled', scaled(posterior.mean, vae.arch.scalingFactor)],
      ['sample_with_eps', samplePosterior(posterior, await c.f32('input.eps'))],
    ];
    for (const [name, data] of derived) out.push(measure(`${c.name}[output.${name}]`, data, await c.f32(`output.${name}`), tol));
  } finally {
    env.ctx.release(x);
  }
  return out;
}

async function opCase(env: GoldenEnv, c: GoldenCase, vae: LoadedVae): Promise<CaseResult[]> {
  const be = vaeBackend(env.ctx, vae);
  const x = env.upload(await c.f32('input.x'), c.shape('input.x'), 'input.x');
  try {
    // both blocks consume x
    const y: Tensor = c.name === 'op_vae_mid_attention'
      ? await vaeAttention(be, vae.arch, vae.arch.decoder.mid.attention, x)
      : await vaeUpBlock(be, vae.arch, vae.arch.decoder.up[1]!, x);
    const data = await env.ctx.read(y);
    env.ctx.release(y);
    return [measure(c.name, data, await c.f32('output'), env.tol('op'))];
  } finally {
    env.ctx.releaseLive(x);
  }
}

export async function vaeCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  if (!VAE_CASES.has(c.name)) throw new Error(`vaeCase: no VAE handler for ${c.name}`);
  const vae = await goldenVae(env, c.entry.model ?? 'models/vae');
  if (c.name === 'vae_decode') return decodeCase(env, c, vae);
  if (c.name === 'vae_encode') return encodeCase(env, c, vae);
  return opCase(env, c, vae);
}
