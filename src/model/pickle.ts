/**
 * PyTorch pickle checkpoints (.ckpt, .pt, .pth, .bin, .pkl, .pickle) are refused by name, before a
 * byte is read: torch.load unpickles, and unpickling can call any Python function the file names
 * (the reason the safetensors format exists, https://huggingface.co/docs/safetensors). The studio
 * reads weights only from .safetensors, whose header is plain JSON and whose data is plain numbers.
 */
import { ModelFileError } from './errors';

const PICKLE = /\.(ckpt|pt|pth|bin|pkl|pickle)$/i;

/** True when the file name says PyTorch pickle. */
export function isPickleName(name: string): boolean {
  return PICKLE.test(name.split(/[?#]/)[0]!);
}

/** Throws the `unsafe-format` ModelFileError for a pickle file name; anything else passes. */
export function refusePickle(name: string): void {
  if (!isPickleName(name)) return;
  const ext = /\.[a-z]+$/i.exec(name.split(/[?#]/)[0]!)![0];
  throw new ModelFileError(
    'unsafe-format',
    name,
    `a ${ext} file is a PyTorch pickle, and loading a pickle can run any code its author put in it, so the studio never reads one`,
  );
}
