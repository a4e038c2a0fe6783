import { describe, expect, it } from 'vitest';
import { clearConfirmText, clearOutcomeText, runningImportIds } from './clear-imports-text';
import type { ImportRow } from './models-slice';

const row = (job: number, state: ImportRow['state'], modelId: string | null): ImportRow => ({ job, modelId, label: modelId ?? '', state, progress: null, error: null, resumable: 'auto' });

describe('clear failed imports: words', () => {
  it('counts only imports running in this tab as not failed', () => {
    const ids = runningImportIds([row(1, 'running', 'a'), row(2, 'cancelled', 'b'), row(3, 'failed', 'c'), row(4, 'running', null)]);
    expect([...ids]).toEqual(['a']);
  });

  it('asks with how many and how many bytes', () => {
    expect(clearConfirmText(1, 1536)).toBe('Delete 1 unfinished import and free 1.5 KiB? The bytes copied so far are removed: importing it again starts from the beginning.');
    expect(clearConfirmText(3, 3 * 1024 * 1024)).toMatch(/^Delete 3 unfinished imports and free 3 MiB\? .* importing them again/);
  });

  it('says what was deleted, what was kept and what failed', () => {
    expect(clearOutcomeText({ cleared: ['a', 'b'], bytes: 2048, busy: [], failed: [] })).toBe('Deleted 2 unfinished imports (2 KiB).');
    expect(clearOutcomeText({ cleared: [], bytes: 0, busy: ['tiny/sdxl'], failed: ['x/y'] })).toBe(
      'No unfinished import was deleted. Still importing in another tab, so kept: tiny/sdxl. Could not be deleted: x/y. Try again, or reload the page first.',
    );
  });
});
