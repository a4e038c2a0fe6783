import { describe, expect, it } from 'vitest';
import { serializeError, DeviceLostError } from '../gpu';
import { ModelFileError } from '../model/errors';
import { EngineRemoteError, isAbort, reviveError } from './errors';

describe('errors across the worker boundary', () => {
  it('keep name, code and message', () => {
    const original = new ModelFileError('truncated', 'unet/diffusion_pytorch_model.safetensors', 'the file ends early');
    const revived = reviveError(structuredClone(serializeError(original)));
    expect(revived).toBeInstanceOf(EngineRemoteError);
    expect(revived.name).toBe(original.name);
    expect((revived as EngineRemoteError).code).toBe('truncated');
    expect(revived.message).toBe(original.message);
  });

  it('a device loss stays recognisable', () => {
    const revived = reviveError(serializeError(new DeviceLostError('unknown', 'gone')));
    expect(revived.name).toBe('DeviceLostError');
  });

  it('a cancellation becomes an AbortError again', () => {
    const ac = new AbortController();
    ac.abort();
    let caught: unknown;
    try {
      ac.signal.throwIfAborted();
    } catch (e) {
      caught = e;
    }
    const revived = reviveError(serializeError(caught));
    expect(isAbort(revived)).toBe(true);
    expect(revived).toBeInstanceOf(DOMException);
  });
});
