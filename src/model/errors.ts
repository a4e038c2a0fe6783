/**
 * Named errors for model files (safetensors weights, config.json, LoRA files). One class with a
 * stable string `code`, like src/gpu/errors.ts, so it crosses the worker boundary as
 * `{name, code, message}` (serializeError picks up `code`). The message always names the file, and the
 * tensor (or config field) when there is one, and says what the person can do about it.
 */

export type ModelFileErrorCode =
  /** The file ends before the header or a tensor's bytes do (an interrupted download). */
  | 'truncated'
  /** The header length, JSON or an entry's fields are malformed, or offsets overlap / leave holes. */
  | 'bad-header'
  /** shape × dtype size differs from the data_offsets span, or the data section from the file size. */
  | 'size-mismatch'
  /** A dtype outside the safetensors spec, or one this reader cannot convert (e.g. I64 as floats). */
  | 'unsupported-dtype'
  /** A tensor the model needs is not in the file. */
  | 'missing-tensor'
  /** The file holds a different model (tensor shapes or names of another architecture). */
  | 'wrong-model'
  /** config.json is malformed or describes an architecture this studio does not implement. */
  | 'bad-config'
  /** A LoRA file whose keys cannot be paired or mapped onto the model. */
  | 'bad-lora'
  /** A file the model needs (a config, a component's weights, the tokenizer) is not there. */
  | 'missing-file'
  /** Reading the bytes failed (HTTP status, missing Range support where it is needed, file system). */
  | 'io'
  /** A streamed (non-seekable) source was asked for bytes behind what it already consumed. */
  | 'out-of-order'
  /** A PyTorch pickle (.ckpt, .pt, .pth, .bin, .pkl): loading one can run code, so it is never read (pickle.ts). */
  | 'unsafe-format'
  /** A well-formed model of an architecture the sampling loop cannot run (e.g. a VAE with 16 latent channels). */
  | 'unsupported-model';

const HINTS: Record<ModelFileErrorCode, string> = {
  truncated: 'The file is incomplete; download it again.',
  'bad-header': 'This is not a valid .safetensors file (or it is damaged); download it again.',
  'size-mismatch': 'The file is damaged or was written by a broken tool; download it again.',
  'unsupported-dtype': 'Use a checkpoint stored in F32, F16 or BF16.',
  'missing-tensor': 'Check that the file is the right model component (e.g. the UNet, not the VAE).',
  'wrong-model': 'This file belongs to a different model; choose an SDXL (or SD-1.5) checkpoint.',
  'bad-config': 'Use the config.json that came with the model.',
  'bad-lora': 'This LoRA file uses a layout this studio does not understand, or targets another model.',
  'missing-file': 'Import the whole model again (a diffusers folder needs every component and the tokenizers).',
  io: 'Check the connection or the file, then try again.',
  'out-of-order': 'This source can only be read once from start to end; store the file locally first.',
  'unsupported-model': 'The studio runs SDXL and SD-1.5-family models with a 4-channel latent space; choose one of those.',
  'unsafe-format': 'Use the .safetensors version of the model, or convert the file to .safetensors first (diffusers and kohya ship converters).',
};

export class ModelFileError extends Error {
  constructor(
    readonly code: ModelFileErrorCode,
    /** The file's name (or URL) as the source reports it. */
    readonly file: string,
    /** What exactly is wrong, without the file/tensor names (they are added to the message). */
    readonly detail: string,
    /** The tensor (or config field / LoRA key) concerned, when there is one. */
    readonly tensor?: string,
  ) {
    super(`${file}${tensor !== undefined ? `, tensor "${tensor}"` : ''}: ${detail}. ${HINTS[code]}`);
    this.name = 'ModelFileError';
  }
}

export function isModelFileError(err: unknown, code?: ModelFileErrorCode): err is ModelFileError {
  return err instanceof ModelFileError && (code === undefined || err.code === code);
}
