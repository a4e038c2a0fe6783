/**
 * Named errors of concept training. Each has a stable `code` (so it crosses the worker boundary as
 * `{name, code, message}`, see src/engine/errors.ts) and a message that says what to do. Names are
 * string literals, not `constructor.name`, so they survive minification.
 */

export type TrainingErrorCode = 'empty-mask' | 'nan-loss' | 'placeholder-collision' | 'bad-rank';

export abstract class TrainingError extends Error {
  abstract readonly code: TrainingErrorCode;
}

/**
 * A training sample whose loss mask has no pixel set: the masked ε-MSE divides by Σ mask (CIDM's code,
 * spec §1.6), so the loss would be 0/0. Masks are validated before training; the loss checks again.
 */
export class EmptyMaskError extends TrainingError {
  override readonly name = 'EmptyMaskError';
  readonly code = 'empty-mask';
  constructor(readonly sample: number, detail = '') {
    super(`The loss mask of training sample ${sample} is empty${detail ? ` (${detail})` : ''}. ` +
      'Paint at least part of the image as the subject, or train without a mask.');
  }
}

/** The loss became NaN or infinite at a step: training stops instead of writing broken weights. */
export class NaNLossError extends TrainingError {
  override readonly name = 'NaNLossError';
  readonly code = 'nan-loss';
  constructor(readonly step: number, readonly what: string, readonly value: number) {
    super(`The training loss "${what}" is ${value} at step ${step}. ` +
      'Lower the learning rate or use f32 precision, then resume from the last checkpoint.');
  }
}

/** A placeholder word (e.g. "<dog1>") that is already a token, or used by another concept. */
export class PlaceholderCollisionError extends TrainingError {
  override readonly name = 'PlaceholderCollisionError';
  readonly code = 'placeholder-collision';
  constructor(readonly placeholder: string, detail: string) {
    super(`The placeholder "${placeholder}" cannot be used: ${detail}. Choose another name for the concept's words.`);
  }
}

/** A LoRA rank that the kernels or the stored tasks do not support. */
export class BadRankError extends TrainingError {
  override readonly name = 'BadRankError';
  readonly code = 'bad-rank';
  constructor(readonly rank: number, detail: string) {
    super(`LoRA rank ${rank} cannot be used: ${detail}.`);
  }
}

/** Throws NaNLossError unless `value` is finite (call it on every loss read back from the GPU). */
export function assertFiniteLoss(value: number, step: number, what: string): number {
  if (!Number.isFinite(value)) throw new NaNLossError(step, what, value);
  return value;
}
