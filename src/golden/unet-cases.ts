/**
 * Whole-UNet golden cases (any name: the runner picks them by their tensors, case-kind.ts): the UNet
 * of the case's model folder on input.sample / timestep / encoder_hidden_states, plus text_embeds and
 * time_ids where the case has them (an SD-1.5-family UNet has no added embedding).
 */
import type { Tensor } from '../gpu/tensor';
import { unetForward } from '../model/unet/forward';
import type { UNetBackend } from '../model/unet/backend';
import type { GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

/** Runs the UNet on a case's inputs with the given backend and returns the output read back. */
export async function runUNetOnCase(env: GoldenEnv, c: GoldenCase, be: UNetBackend<Tensor>, folder = 'models/unet'): Promise<Float32Array> {
  const unet = await env.loadedUNet(folder);
  const up = async (name: string) => env.upload(await c.f32(name), c.shape(name), name);
  const sample = await up('input.sample');
  const ehs = await up('input.encoder_hidden_states');
  const textEmbeds = c.has('input.text_embeds') ? await up('input.text_embeds') : undefined;
  const timestepName = c.has('input.timestep') ? 'input.timestep' : 'input.timesteps';
  // one timestep for the whole batch (a 0-d tensor) is broadcast, as UNet2DConditionModel does
  const batch = c.shape('input.sample')[0]!;
  const given = await c.numbers(timestepName);
  const timesteps = given.length === 1 ? Array<number>(batch).fill(given[0]!) : given;
  const out = await unetForward(be, unet.arch, {
    sample,
    timesteps,
    encoderHiddenStates: ehs,
    ...(textEmbeds ? { textEmbeds } : {}),
    ...(c.has('input.time_ids') ? { timeIds: await c.numbers('input.time_ids') } : {}),
  });
  const data = await env.ctx.read(out);
  env.ctx.release(out, sample, ehs, ...(textEmbeds ? [textEmbeds] : []));
  return data;
}

/** Every output.sample* tensor the case holds (one per output; usually just output.sample). */
export async function unetForwardCase(env: GoldenEnv, c: GoldenCase, folder = 'models/unet'): Promise<CaseResult[]> {
  const data = await runUNetOnCase(env, c, await env.backend(undefined, undefined, folder), folder);
  const outputs = c.names().filter((n) => /^output\.sample/.test(n));
  const results: CaseResult[] = [];
  for (const o of outputs) results.push(measure(outputs.length === 1 ? c.name : `${c.name}[${o}]`, data, await c.f32(o), env.tol('network')));
  return results;
}
