import { describe, expect, it } from 'vitest';
import { isModelFileError } from '../../model/errors';
import { CHECKPOINT_FILE, planImport } from './plan';

const blob = (n: number) => new Blob([new Uint8Array(n)]);

describe('planImport: single files', () => {
  it('a folder with one checkpoint stores it with the tokenizer files beside it, and nothing else', async () => {
    const files = [
      { path: 'my_sdxl.safetensors', file: blob(100) },
      { path: 'tokenizer/vocab.json', file: blob(3) },
      { path: 'tokenizer/merges.txt', file: blob(4) },
      { path: 'tokenizer_2/vocab.json', file: blob(5) },
      { path: 'tokenizer_2/merges.txt', file: blob(6) },
      { path: 'README.md', file: blob(7) },
    ];
    const plan = await planImport({ type: 'folder', name: 'mine', files });
    expect(plan.layout).toBe('single-file');
    expect(plan.files).toEqual([
      { path: CHECKPOINT_FILE, bytes: 100 },
      { path: 'tokenizer/vocab.json', bytes: 3 },
      { path: 'tokenizer/merges.txt', bytes: 4 },
      { path: 'tokenizer_2/vocab.json', bytes: 5 },
      { path: 'tokenizer_2/merges.txt', bytes: 6 },
    ]);
    expect(plan.blobs.get(CHECKPOINT_FILE)).toBe(files[0]!.file);
    expect(plan.blobs.get('tokenizer_2/merges.txt')).toBe(files[4]!.file);
    expect(plan.label(CHECKPOINT_FILE)).toBe('mine/my_sdxl.safetensors');
    // the same checkpoint without tokenizers is another import
    const alone = await planImport({ type: 'folder', name: 'mine', files: files.slice(0, 1) });
    expect(alone.files).toEqual([{ path: CHECKPOINT_FILE, bytes: 100 }]);
    expect(alone.id).not.toBe(plan.id);
  });

  it('a pickle is refused by name whether picked, linked or alone in a folder', async () => {
    const refused = async (p: Promise<unknown>, file: string) => {
      const err = await p.then(() => null, (e: unknown) => e);
      expect(isModelFileError(err, 'unsafe-format'), file).toBe(true);
      expect((err as { file: string }).file).toBe(file);
    };
    await refused(planImport({ type: 'file', file: new File([new Uint8Array(8)], 'v1-5-pruned.ckpt') }), 'v1-5-pruned.ckpt');
    await refused(planImport({ type: 'url', url: 'https://example.org/m/model.pt?download=1' }), 'model.pt');
    await refused(planImport({ type: 'folder', name: 'old', files: [{ path: 'model.pth', file: blob(8) }] }), 'old/model.pth');
  });
});
