/**
 * Per-adapter Generate defaults (issue 13, point 2): on a software (CPU) adapter a first visit starts at
 * a small size and few steps, so the first click is minutes, not an hour. Applied once per adapter
 * (remembered in the settings database), and only over the untouched defaults: a size or step count
 * the person chose is never replaced.
 */
import { getSetting, setSetting } from '../../storage/settings';
import { DEFAULT_DRAFT, useGenerate } from '../generate/generate-store';
import { useStudio } from '../store';
import { adapterDefaults, adapterKey } from './step-times';

const KEY = 'generate.adapter-defaults.v1';

async function apply(): Promise<void> {
  const summary = useStudio.getState().summary;
  if (!summary) return;
  const key = adapterKey(summary);
  if ((await getSetting<string>(KEY)) === key) return;
  await setSetting(KEY, key);
  const d = useGenerate.getState().draft;
  const untouched = d.width === DEFAULT_DRAFT.width && d.height === DEFAULT_DRAFT.height && d.steps === DEFAULT_DRAFT.steps;
  const defaults = adapterDefaults(summary);
  if (defaults && untouched) useGenerate.getState().setDraft(defaults);
}

/** Call after the saved draft is restored; applies the defaults when the adapter is known. */
export function watchAdapterDefaults(): () => void {
  const run = () => void apply().catch(() => undefined);
  if (useStudio.getState().summary) run();
  return useStudio.subscribe((s, prev) => {
    if (s.summary && s.summary !== prev.summary) run();
  });
}
