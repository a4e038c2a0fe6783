import { describe, expect, it, vi } from 'vitest';
import { plainError, reasonOf } from './plain-error';

describe('plainError', () => {
  it('never shows a built-in error text (steps = 0 used to show "RangeError: …")', () => {
    for (const name of ['RangeError', 'TypeError', 'Error', 'SyntaxError', 'InvalidStateError']) {
      const p = plainError({ name, code: 'unknown', message: 'steps must be ≥ 1, got 0 at textToImage (text-to-image.ts:12:3)' });
      expect(p.title).toBe('Something went wrong');
      expect(`${p.title} ${p.message}`).not.toMatch(/RangeError|TypeError|steps must|\.ts:\d/);
      expect(p.reference).toBeUndefined();
    }
  });

  it('names storage, GPU and network failures in plain words', () => {
    expect(plainError({ name: 'QuotaExceededError', message: 'The quota has been exceeded.' }).title).toBe('Storage is full');
    expect(plainError({ name: 'OperationError', message: 'Failed to execute mapAsync' }).message).toMatch(/smaller size/);
  });

  it("keeps the studio's own named errors: their messages are written for people", () => {
    const p = plainError({ name: 'ImageTooLargeError', code: 'image-too-large', message: 'At 2048×2048 the model needs one GPU buffer of 600 MiB, but this GPU allows 128 MiB per buffer.' });
    expect(p).toEqual({ title: 'Image too large', message: 'At 2048×2048 the model needs one GPU buffer of 600 MiB, but this GPU allows 128 MiB per buffer.', reference: 'ImageTooLargeError' });
    expect(plainError({ name: 'ConceptModelMismatchError', message: 'x' }).title).toBe('Concept model mismatch');
  });

  it('falls back to the generic text for nothing at all', () => {
    expect(plainError(null).title).toBe('Something went wrong');
    expect(plainError({ name: 'LoraNotFoundError', message: '' }).title).toBe('Something went wrong');
  });
});

describe('reasonOf', () => {
  it('turns a browser or storage exception into a plain sentence, and keeps the studio\'s own words', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(reasonOf(new DOMException('The quota has been exceeded.', 'QuotaExceededError'))).toMatch(/no room left/);
    expect(reasonOf(new DOMException('Transaction was aborted.', 'UnknownError'))).not.toMatch(/Transaction/);
    expect(reasonOf('a string')).toBe(plainError(undefined).message);
    quiet.mockRestore();
    expect(reasonOf(new RangeError('The hub address must start with https://.'))).toBe('The hub address must start with https://.');
  });
});
