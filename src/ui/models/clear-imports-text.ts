/**
 * The words of "Clear failed imports" (clear-imports.ts), for the Models page and the Settings storage
 * view alike: which imports count as failed (not those running in this tab), the confirmation (how
 * many, how many bytes) and the outcome.
 */
import type { ClearOutcome } from '../../storage/unfinished-imports';
import { formatBytes } from '../format';
import type { ImportRow } from './models-slice';

/** Models being imported by this tab now (they are not "failed"). */
export function runningImportIds(rows: readonly ImportRow[]): Set<string> {
  return new Set(rows.flatMap((r) => (r.state === 'running' && r.modelId ? [r.modelId] : [])));
}

const imports = (n: number) => (n === 1 ? '1 unfinished import' : `${n} unfinished imports`);

export function clearConfirmText(count: number, bytes: number): string {
  return `Delete ${imports(count)} and free ${formatBytes(bytes)}? The bytes copied so far are removed: importing ${count === 1 ? 'it' : 'them'} again starts from the beginning.`;
}

export function clearOutcomeText(o: ClearOutcome): string {
  const parts = [o.cleared.length === 0 ? 'No unfinished import was deleted.' : `Deleted ${imports(o.cleared.length)} (${formatBytes(o.bytes)}).`];
  if (o.busy.length > 0) parts.push(`Still importing in another tab, so kept: ${o.busy.join(', ')}.`);
  if (o.failed.length > 0) parts.push(`Could not be deleted: ${o.failed.join(', ')}. Try again, or reload the page first.`);
  return parts.join(' ');
}
