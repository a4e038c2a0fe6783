/**
 * This browser's measured step times (step-times.ts), kept in the settings database (IndexedDB) so an
 * estimate survives reloads. Read once at start-up; written after every finished image.
 */
import { create } from 'zustand';
import { getSetting, setSetting } from '../../storage/settings';
import { recordRun, type StepTimeTable } from './step-times';

const KEY = 'jobs.step-times.v1';

export const useStepTimes = create<{ table: StepTimeTable }>()(() => ({ table: {} }));

let loaded: Promise<void> | null = null;

export function loadStepTimes(): Promise<void> {
  loaded ??= getSetting<StepTimeTable>(KEY)
    .then((saved) => {
      if (saved && typeof saved === 'object') useStepTimes.setState((s) => ({ table: { ...saved, ...s.table } }));
    })
    .catch(() => undefined); // no database: estimates start from nothing, the studio still runs
  return loaded;
}

export async function recordStepTime(key: string, run: Parameters<typeof recordRun>[2]): Promise<void> {
  await loadStepTimes();
  const table = recordRun(useStepTimes.getState().table, key, run);
  useStepTimes.setState({ table });
  await setSetting(KEY, table).catch(() => undefined);
}
