import { describe, expect, it } from 'vitest';
import { ConceptFileError } from '../../../storage/concepts/errors';
import { deleteWarning, duplicateNotice, errorTitle, importNotice } from './messages';

const names = new Map([['tiny--sdxl', 'Tiny SDXL']]);
const rex = { name: 'Rex', modelId: 'tiny--sdxl', placeholders: ['<rex1>', '<rex2>'], classWord: 'dog' };

describe('library messages', () => {
  it('an import of the active model says how to name it', () => {
    expect(importNotice(rex, 'tiny--sdxl', names)).toBe('Imported "Rex": name it in a prompt as <rex1> <rex2> dog.');
  });
  it('an import of another model says so, and whether that model is here', () => {
    const msg = importNotice({ ...rex, modelId: 'other--sdxl' }, 'tiny--sdxl', names);
    expect(msg).toContain('model "other--sdxl" (not in this studio)');
    expect(msg).toContain('not of the active model "Tiny SDXL"');
    expect(importNotice(rex, null, names)).toContain('a concept of model "Tiny SDXL"');
  });
  it('the delete warning names the later tasks consolidated against it', () => {
    expect(deleteWarning({ name: 'Rex', taskIndex: 3 }, [])).toContain('No later task was trained against it.');
    const w = deleteWarning({ name: 'Rex', taskIndex: 1 }, [{ name: 'Mug', taskIndex: 2 }, { name: 'Ink', taskIndex: 3 }]);
    expect(w).toContain('2 later tasks were trained with their consolidation computed against it: "Mug" (task 2), "Ink" (task 3)');
    expect(deleteWarning({ name: 'Rex', taskIndex: 1 }, [{ name: 'Mug', taskIndex: 2 }])).toContain('One later task was');
  });
  it('file errors get a title by their code', () => {
    expect(errorTitle(new ConceptFileError('not-a-concept', 'x.safetensors', 'no tag'))).toBe('Not a concept file');
    expect(errorTitle(new ConceptFileError('truncated', 'x.safetensors', 'short'))).toBe('The file is incomplete');
    expect(errorTitle(new Error('x'))).toBe('Something went wrong');
    expect(duplicateNotice({ name: 'Rex' })).toContain('already in the library');
  });
});
