/**
 * Scheduler golden cases (any name; the kind is read from the entry, case-kind.ts; diffusers 0.25.1): the schedule
 * (timesteps exactly, sigmas, init_noise_sigma, alphas_cumprod) and the whole trajectory, run free
 * from x_T with the case's fixed model_output[i] (and noise[i] for EulerAncestral): every step's
 * model_input and prev_sample (and pred_original_sample where the case has it) are compared.
 * Where the manifest names a `diffusers_head_file` (DPM-Solver: newer diffusers end at sigma 0), that
 * file is run too with the head config. Pure CPU: env.dir is the only thing used from the env.
 *
 * Tolerance: max |actual - expected| / max |expected| <= 1e-5 per tensor and per step (README:
 * "sigmas and trajectories rtol 1e-5"); timesteps exact (tol 0).
 */
import { join } from 'node:path';
import { NodeFileSource } from '../model/safetensors/node-source';
import { SafetensorsFile } from '../model/safetensors/reader';
import { createScheduler, type SchedulerConfig, type SchedulerKind } from '../diffusion/schedulers';
import { DDIMScheduler } from '../diffusion/schedulers/ddim';
import { measure, type CaseResult } from './result';

export const SCHEDULER_TOL = 1e-5;

interface Entry {
  readonly file: string;
  readonly config?: unknown;
  readonly diffusers_head_file?: unknown;
  readonly diffusers_head_config?: unknown;
  readonly [key: string]: unknown;
}

/** Reads tensors by name; satisfied by GoldenCase and by a bare SafetensorsFile wrapper. */
interface TensorSource {
  has(name: string): boolean;
  f32(name: string): Promise<Float32Array>;
}

/** Worst per-step measure over steps, named after the tensor; `why` says which step was worst. */
function worst(name: string, per: CaseResult[]): CaseResult {
  let w = per[0]!;
  for (const r of per) if (r.status === 'FAIL' && (w.status !== 'FAIL' || (r.maxRel ?? Infinity) > (w.maxRel ?? Infinity))) w = r;
  if (w.status !== 'FAIL') for (const r of per) if ((r.maxRel ?? 0) > (w.maxRel ?? 0)) w = r;
  const out: CaseResult = { ...w, name };
  out.why = `${per.length} steps, worst ${w.name}${w.why ? `: ${w.why}` : ''}`;
  return out;
}

/** Runs one scheduler against one case file's tensors; result names are `${label}/<tensor>`. */
export async function compareScheduler(label: string, kind: SchedulerKind, config: SchedulerConfig, src: TensorSource): Promise<CaseResult[]> {
  const timesteps = await src.f32('timesteps');
  const steps = timesteps.length;
  const s = createScheduler(kind, config, steps);
  const res: CaseResult[] = [measure(`${label}/timesteps`, s.timesteps, timesteps, 0)];
  if (src.has('sigmas')) res.push(measure(`${label}/sigmas`, s.sigmas ?? [], await src.f32('sigmas'), SCHEDULER_TOL));
  res.push(measure(`${label}/init_noise_sigma`, [s.initNoiseSigma], await src.f32('init_noise_sigma'), SCHEDULER_TOL));
  if (s instanceof DDIMScheduler && src.has('alphas_cumprod')) {
    res.push(measure(`${label}/alphas_cumprod`, s.alphasCumprod, await src.f32('alphas_cumprod'), SCHEDULER_TOL));
  }
  const xT = await src.f32('x_T');
  const n = xT.length;
  const outs = await src.f32('model_output');
  const inputs = await src.f32('model_input');
  const prevs = await src.f32('prev_sample');
  const x0s = src.has('pred_original_sample') ? await src.f32('pred_original_sample') : null;
  // an ancestral sampler's per-step noise, given in place of torch.randn
  const noiseName = ['noise', 'input.step_noise', 'step_noise', 'input.noise'].find((n) => src.has(n));
  const noise = noiseName ? await src.f32(noiseName) : null;
  const perIn: CaseResult[] = [];
  const perPrev: CaseResult[] = [];
  const perX0: CaseResult[] = [];
  let x = xT;
  for (let i = 0; i < steps; i++) {
    const at = (a: Float32Array) => a.subarray(i * n, (i + 1) * n);
    perIn.push(measure(`step ${i}`, s.scaleModelInput(x, i), at(inputs), SCHEDULER_TOL));
    x = s.step(at(outs), i, x, noise ? at(noise) : undefined);
    perPrev.push(measure(`step ${i}`, x, at(prevs), SCHEDULER_TOL));
    const last = (s as { lastX0?: Float32Array | null }).lastX0;
    if (x0s && last) perX0.push(measure(`step ${i}`, last, at(x0s), SCHEDULER_TOL));
  }
  res.push(worst(`${label}/model_input`, perIn), worst(`${label}/prev_sample`, perPrev));
  if (perX0.length) res.push(worst(`${label}/pred_original_sample`, perX0));
  return res;
}

async function openFile(dir: string, file: string): Promise<{ src: TensorSource; close(): Promise<void> }> {
  const f = await SafetensorsFile.open(await NodeFileSource.open(join(dir, file)));
  return { src: { has: (t) => f.has(t), f32: (t) => f.read(t, 'f32') }, close: () => f.close() };
}

/** Runner handler: `kind` comes from the case's entry (case-kind.ts), never from its name. */
export async function schedulerCase(
  env: { readonly dir: string },
  c: { readonly name: string; readonly entry: Entry } & TensorSource,
  kind: SchedulerKind,
): Promise<CaseResult[]> {
  // diffusers 0.25.1 has no final_sigmas_type and ends DPM-Solver at sigma(0): select that explicitly,
  // since the studio's own default is 'zero'
  const entryConfig = (c.entry.config ?? {}) as SchedulerConfig;
  const config: SchedulerConfig = { ...entryConfig, final_sigmas_type: entryConfig.final_sigmas_type ?? 'sigma_min' };
  const results = await compareScheduler(c.name, kind, config, c);
  if (typeof c.entry.diffusers_head_file === 'string') {
    const head = await openFile(env.dir, c.entry.diffusers_head_file);
    try {
      const headConfig = (c.entry.diffusers_head_config ?? { ...config, final_sigmas_type: 'zero' }) as SchedulerConfig;
      results.push(...(await compareScheduler(`${c.name}__diffusers_head`, kind, headConfig, head.src)));
    } finally {
      await head.close();
    }
  }
  return results;
}
