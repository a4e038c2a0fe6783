/**
 * The sampling choices a person makes beyond the sampler itself (issue 12): guidance rescale φ, zero
 * terminal SNR on or off against what the model's scheduler config says, and where DPM++ 2M ends.
 * They are checked here (a named error, not a NaN image) and folded into the scheduler config the
 * schedulers read, so every sampler honours them the same way.
 */
import type { SchedulerConfig } from './schedulers';
import { FINAL_SIGMAS_TYPES, type FinalSigmasType } from './schedulers/prediction';

export interface SamplingOptions {
  /** φ of rescale_noise_cfg (guidance-rescale.ts), 0..1, applied after CFG; 0 or absent: off (diffusers' default). */
  guidanceRescale?: number;
  /** Rescale the betas to zero terminal SNR (true) or not (false); absent: the config's rescale_betas_zero_snr. */
  zeroTerminalSnr?: boolean;
  /** DPM++ 2M's last sigma: 'zero' (the studio's default, as A1111 and newer diffusers) or 'sigma_min' (diffusers 0.25). */
  dpmFinalSigma?: FinalSigmasType;
}

/** A sampling option outside its range (a form or an API caller sent it). */
export class SamplingOptionError extends RangeError {
  override readonly name = 'SamplingOptionError';
  readonly code = 'bad-sampling-option';
  constructor(
    readonly option: keyof SamplingOptions,
    message: string,
  ) {
    super(message);
  }
}

export function checkSamplingOptions(o: SamplingOptions): void {
  const phi = o.guidanceRescale;
  if (phi !== undefined && !(Number.isFinite(phi) && phi >= 0 && phi <= 1)) {
    throw new SamplingOptionError('guidanceRescale', `Guidance rescale must be a number from 0 to 1 (got ${phi}); 0 turns it off, about 0.7 is the paper's choice.`);
  }
  if (o.zeroTerminalSnr !== undefined && typeof o.zeroTerminalSnr !== 'boolean') {
    throw new SamplingOptionError('zeroTerminalSnr', `Zero terminal SNR must be on, off or left to the model (got ${String(o.zeroTerminalSnr)}).`);
  }
  if (o.dpmFinalSigma !== undefined && !FINAL_SIGMAS_TYPES.includes(o.dpmFinalSigma)) {
    throw new SamplingOptionError('dpmFinalSigma', `DPM++ final sigma must be ${FINAL_SIGMAS_TYPES.join(' or ')} (got ${String(o.dpmFinalSigma)}).`);
  }
}

/** The model's scheduler config with the person's overrides (checked first); untouched fields stay the config's. */
export function samplingSchedulerConfig(config: SchedulerConfig, o: SamplingOptions): SchedulerConfig {
  checkSamplingOptions(o);
  return {
    ...config,
    ...(o.zeroTerminalSnr !== undefined ? { rescale_betas_zero_snr: o.zeroTerminalSnr } : {}),
    ...(o.dpmFinalSigma !== undefined ? { final_sigmas_type: o.dpmFinalSigma } : {}),
  };
}
