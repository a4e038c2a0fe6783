/**
 * "Clear failed imports" for the Models page and the Settings storage view alike (their words are in
 * clear-imports-text.ts): the action, which also drops this tab's rows of the cleared imports and
 * refreshes the model list.
 */
import { clearUnfinishedImports, type ClearOutcome, type UnfinishedImport } from '../../storage/unfinished-imports';
import { useStudio } from '../store';
import { refreshModels } from './actions';

/** Clears them, drops this tab's finished rows of the cleared ones, and refreshes the model list. */
export async function clearFailedImports(list: readonly UnfinishedImport[]): Promise<ClearOutcome> {
  try {
    const out = await clearUnfinishedImports(list);
    const cleared = new Set(out.cleared);
    const st = useStudio.getState();
    for (const row of st.imports) if (row.state !== 'running' && row.modelId && cleared.has(row.modelId)) st.dismissImport(row.job);
    return out;
  } finally {
    await refreshModels();
  }
}
