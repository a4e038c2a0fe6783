/**
 * VAE golden cases (any name; the runner picks them by their tensors and weights line, case-kind.ts)
 * on the AutoencoderKL of the case's model folder: a decode (input.z; every intermediate the case
 * holds, then the image), an encode (input.image; encoder_out, moments and the posterior derived from
 * them, where the case holds them), and per-op cases, each run through the real forward.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../gpu/tensor';
import { parseVaeConfig } from '../model/config';
import { vaeAttention, vaeDownBlock, vaeMid, vaeResnet, vaeUpBlock } from '../model/vae/forward';
import { samplePosterior, scaled } from '../model/vae/image';
import { loadVae, type LoadedVae } from '../model/vae/load';
import { vaeBackend, vaeDecode, vaeEncode } from '../model/vae/vae';
import { openModelFile, type GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';
import { mainInputName, mainOutputName } from './op-cases';

const loaded = new WeakMap<GoldenEnv, Map<string, Promise<LoadedVae>>>();

/** The VAE of a model folder of the set (both halves), loaded once per env and folder in the env's dtype. */
export function goldenVae(env: GoldenEnv, model = 'models/vae'): Promise<LoadedVae> {
  let byFolder = loaded.get(env);
  if (!byFolder) loaded.set(env, (byFolder = new Map()));
  let p = byFolder.get(model);
  if (!p) {
    p = (async () => {
      const config = parseVaeConfig(JSON.parse(readFileSync(join(env.dir, model, 'config.json'), 'utf8')), `${model}/config.json`);
      const file = await openModelFile(env.dir, `${model}/diffusion_pytorch_model.safetensors`);
      try {
        return await loadVae(env.ctx, file, config, { dtype: env.dtype, packWeights: env.packWeights });
      } finally {
        await file.close();
      }
    })();
    byFolder.set(model, p);
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
    const expected = c.has('output.image') ? 'output.image' : mainOutputName(c.names().filter((n) => !n.startsWith('intermediate.')));
    if (!expected) throw new Error(`${c.name}: no output.image (or single output) to compare the decode with`);
    out.push(measure(`${c.name}[${expected}]`, data, await c.f32(expected), tol));
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
    const derived: [string, () => Float32Array | Promise<Float32Array>][] = [
      ['moments', () => moments.data],
      ['mean', () => posterior.mean],
      ['logvar', () => posterior.logvar],
      ['std', () => posterior.std],
      ['latents_scaled', () => scaled(posterior.mean, vae.arch.scalingFactor)],
      ['sample_with_eps', async () => samplePosterior(posterior, await c.f32('input.eps'))],
    ];
    // each derived tensor the case holds (sample_with_eps needs the case's eps)
    for (const [name, data] of derived) {
      if (!c.has(`output.${name}`) || (name === 'sample_with_eps' && !c.has('input.eps'))) continue;
      out.push(measure(`${c.name}[output.${name}]`, await data(), await c.f32(`output.${name}`), tol));
    }
  } finally {
    env.ctx.release(x);
  }
  return out;
}

/**
 * A per-op VAE case (any name): the block under the case's weight prefix — an attention, a ResNet, a
 * mid block, or an encoder down / decoder up block — through the real forward.
 */
export async function vaeOpCase(env: GoldenEnv, c: GoldenCase, folder: string, prefix: string): Promise<CaseResult[]> {
  const vae = await goldenVae(env, folder);
  const p = prefix.replace(/\.$/, '');
  const a = vae.arch;
  const mids = [a.encoder.mid, a.decoder.mid];
  const resnets = [...a.encoder.down.flatMap((b) => b.resnets), ...a.decoder.up.flatMap((b) => b.resnets), ...mids.flatMap((m) => m.resnets)];
  const be = vaeBackend(env.ctx, vae);
  type Run = (x: Tensor) => Promise<Tensor>;
  const mid = mids.find((m) => m.prefix === p);
  const down = a.encoder.down.find((b) => b.prefix === p);
  const upBlock = a.decoder.up.find((b) => b.prefix === p);
  const res = resnets.find((r) => r.prefix === p);
  const run: Run | null = mids.some((m) => m.attention === p) ? (x) => vaeAttention(be, a, p, x)
    : mid ? (x) => vaeMid(be, a, mid, x)
    : down ? (x) => vaeDownBlock(be, a, down, x)
    : upBlock ? (x) => vaeUpBlock(be, a, upBlock, x)
    : res ? (x) => vaeResnet(be, a, res, x)
    : null;
  if (!run) return [{ name: c.name, status: 'SKIP', why: `no per-op handler for VAE weights under "${prefix}"` }];
  const names = c.names();
  const xName = mainInputName(names);
  const outName = mainOutputName(names);
  if (!xName || !outName) return [{ name: c.name, status: 'SKIP', why: `cannot tell the op's input and output apart among ${names.join(', ')}` }];
  const x = env.upload(await c.f32(xName), c.shape(xName), xName);
  try {
    const y = await run(x);
    const data = await env.ctx.read(y);
    env.ctx.release(y);
    return [measure(c.name, data, await c.f32(outName), env.tol('op'))];
  } finally {
    env.ctx.releaseLive(x);
  }
}

/** A whole decode (input.z) or encode (input.image) of the case's VAE folder, every intermediate it holds. */
export async function vaeCase(env: GoldenEnv, c: GoldenCase, folder: string, what: 'decode' | 'encode'): Promise<CaseResult[]> {
  const vae = await goldenVae(env, folder);
  return what === 'decode' ? decodeCase(env, c, vae) : encodeCase(env, c, vae);
}
