/** Whole-UNet golden cases: unet_forward, unet_forward_odd_size, unet_forward_per_sample_t. */
import type { Tensor } from '../gpu/tensor';
import { unetForward } from '../model/unet/forward';
import type { UNetBackend } from '../model/unet/backend';
import type { GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

/** Runs the UNet on a case's inputs with the given backend and returns the output read back. */
export async function runUNetOnCase(env: GoldenEnv, c: GoldenCase, be: UNetBackend<Tensor>): Promise<Float32Array> {
  const unet = await env.loadedUNet();
  const up = async (name: string) => env.upload(await c.f32(name), c.shape(name), name);
  const sample = await up('input.sample');
  const ehs = await up('input.encoder_hidden_states');
  const textEmbeds = await up('input.text_embeds');
  const out = await unetForward(be, unet.arch, {
    sample,
    timesteps: await c.numbers('input.timestep'),
    encoderHiddenStates: ehs,
    textEmbeds,
    timeIds: await c.numbers('input.time_ids'),
  });
  const data = await env.ctx.read(out);
  env.ctx.release(out, sample, ehs, textEmbeds);
  return data;
}

export async function unetForwardCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  const data = await runUNetOnCase(env, c, await env.backend());
  return [measure(c.name, data, await c.f32('output.sample'), env.tol('network'))];
}
