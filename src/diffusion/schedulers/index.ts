/** Scheduler factory: the sampler names the studio offers, mapped onto the diffusers schedulers. */
import type { Scheduler, SchedulerConfig } from './common';
import { DDIMScheduler } from './ddim';
import { DPMSolverMultistepScheduler } from './dpmpp-2m';
import { EulerAncestralScheduler } from './euler-ancestral';
import { EulerDiscreteScheduler } from './euler';
import { PndmScheduler } from './pndm';

export type { Scheduler, SchedulerConfig } from './common';
export { DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralScheduler, EulerDiscreteScheduler, PndmScheduler };

export type SchedulerKind = 'euler' | 'euler_ancestral' | 'ddim' | 'dpmpp_2m' | 'dpmpp_2m_karras' | 'pndm';
export const SCHEDULER_KINDS: readonly SchedulerKind[] = ['euler', 'euler_ancestral', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'pndm'];

/** A fresh scheduler (multistep ones keep history: make one per generation). */
export function createScheduler(kind: SchedulerKind, config: SchedulerConfig, steps: number): Scheduler {
  if (!Number.isInteger(steps) || steps < 1 || steps > config.num_train_timesteps) throw new RangeError(`steps must be 1..${config.num_train_timesteps}, got ${steps}`);
  switch (kind) {
    case 'euler':
      return new EulerDiscreteScheduler(config, steps);
    case 'euler_ancestral':
      return new EulerAncestralScheduler(config, steps);
    case 'ddim':
      return new DDIMScheduler(config, steps);
    case 'dpmpp_2m':
      return new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: false }, steps);
    case 'dpmpp_2m_karras':
      return new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: true }, steps);
    case 'pndm':
      return new PndmScheduler(config, steps);
  }
}
