/**
 * "Clear failed imports": every model folder whose import did not finish (failed, cancelled, a closed
 * tab) removed at once, with its partial files. An import still running (in this tab, or holding the
 * model's lock in another) is left alone, and a folder that became a verified model in the meantime
 * is never touched: the check is made again under the model's lock, right before the folder goes.
 */
import { ImportBusyError } from './errors';
import { removeModelFolder, withModelLock } from './models/import';
import { getModel } from './models/store';

export interface UnfinishedImport {
  id: string;
  name: string;
  state: 'verified' | 'incomplete';
  /** Bytes the folder holds. */
  bytes: number;
}

/** The unfinished imports that may be cleared now (not running in this tab), with their total bytes. */
export function clearableImports<T extends UnfinishedImport>(models: readonly T[], running: ReadonlySet<string>): { imports: T[]; bytes: number } {
  const imports = models.filter((m) => m.state !== 'verified' && !running.has(m.id));
  return { imports, bytes: imports.reduce((a, m) => a + m.bytes, 0) };
}

export interface ClearOutcome {
  /** Ids whose folders were removed. */
  cleared: string[];
  /** Bytes those folders held. */
  bytes: number;
  /** Names of imports left because an import of them is running (in another tab). */
  busy: string[];
  /** Names of imports whose folders could not be removed (the error is on the console). */
  failed: string[];
}

const isVerified = (id: string) => getModel(id).then(() => true, () => false);

/** Removes each unfinished import's folder (see above); one that cannot be removed does not stop the rest. */
export async function clearUnfinishedImports(imports: readonly UnfinishedImport[]): Promise<ClearOutcome> {
  const out: ClearOutcome = { cleared: [], bytes: 0, busy: [], failed: [] };
  for (const m of imports) {
    try {
      const removed = await withModelLock(m.id, async () => {
        if (await isVerified(m.id)) return false;
        await removeModelFolder(m.id);
        return true;
      });
      if (removed) {
        out.cleared.push(m.id);
        out.bytes += m.bytes;
      }
    } catch (err) {
      if (err instanceof ImportBusyError) out.busy.push(m.name);
      else {
        console.warn(`clearing the unfinished import ${m.id}`, err);
        out.failed.push(m.name);
      }
    }
  }
  return out;
}
