import { describe, expect, it } from 'vitest';
import { isModelFileError } from './errors';
import { isPickleName, refusePickle } from './pickle';

describe('pickle checkpoints', () => {
  it('are told by their extension, in any case, with a URL query ignored', () => {
    for (const n of ['v1-5.ckpt', 'model.PT', 'x.pth', 'pytorch_model.bin', 'a.pkl', 'https://h/x.ckpt?download=true']) expect(isPickleName(n), n).toBe(true);
    for (const n of ['sdxl.safetensors', 'ckpt.safetensors', 'notes.txt', 'https://h/x.safetensors?ckpt']) expect(isPickleName(n), n).toBe(false);
  });

  it('are refused by name with why (code can run) and what to do', () => {
    let err: unknown;
    try {
      refusePickle('dreamshaper_8.ckpt');
    } catch (e) {
      err = e;
    }
    expect(isModelFileError(err, 'unsafe-format')).toBe(true);
    expect((err as Error).message).toBe(
      'dreamshaper_8.ckpt: a .ckpt file is a PyTorch pickle, and loading a pickle can run any code its author put in it, so the studio never reads one. ' +
        'Use the .safetensors version of the model, or convert the file to .safetensors first (diffusers and kohya ship converters).',
    );
    expect(() => refusePickle('sdxl.safetensors')).not.toThrow();
  });
});
