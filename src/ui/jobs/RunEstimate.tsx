/**
 * Before a run: about how long it will take on this adapter (its own measured step times, step-times.ts),
 * a warning when that is long, and one click to a smaller setting that fits (issue 13, point 2).
 */
import { useEffect } from 'react';
import { formatDuration } from '../format';
import { useGenerate } from '../generate/generate-store';
import { MIN_SIDE } from '../generate/sizes';
import { useStudio } from '../store';
import { adapterKey, estimateRun, isCpuAdapter, LONG_RUN_SECONDS, smallerSetting, type RunSize } from './step-times';
import { loadStepTimes, useStepTimes } from './step-times-store';
import './jobs.css';

export function RunEstimate({ modelId, factor }: { modelId: string | null; factor: number }) {
  const draft = useGenerate((s) => s.draft);
  const set = useGenerate((s) => s.setDraft);
  const summary = useStudio((s) => s.summary);
  const table = useStepTimes((s) => s.table);
  useEffect(() => void loadStepTimes(), []);
  if (!modelId || !summary) return null;
  const adapter = adapterKey(summary);
  const images = draft.batchCount;
  const estimate = (s: RunSize) => estimateRun(table, { adapter, modelId, ...s, images })?.seconds ?? null;
  const now = estimateRun(table, { adapter, modelId, width: draft.width, height: draft.height, steps: draft.steps, images });
  if (!now) {
    return (
      <p className="small muted" data-testid="gen-estimate">
        {isCpuAdapter(summary) ? 'This is a software (CPU) adapter: runs are slow. ' : ''}No time estimate yet: the first run here measures this GPU.
      </p>
    );
  }
  const long = now.seconds > LONG_RUN_SECONDS;
  const smaller = long ? smallerSetting({ width: draft.width, height: draft.height, steps: draft.steps }, estimate, { factor, minSide: Math.max(MIN_SIDE, factor) }) : null;
  const text = `About ${formatDuration(now.seconds)}${images > 1 ? ` for ${images} images` : ''} on this GPU${now.basis === 'scaled' ? ' (from another size)' : ''}.`;
  if (!long) {
    return (
      <p className="small muted" data-testid="gen-estimate">
        {text}
      </p>
    );
  }
  const after = smaller ? estimate(smaller) : null;
  return (
    <div className="callout callout-warn gen-estimate-warn" role="status" data-testid="gen-estimate-warn">
      <p data-testid="gen-estimate">
        <strong>{text}</strong> That is a long wait{isCpuAdapter(summary) ? ' on a software adapter' : ''}.
      </p>
      {smaller && (
        <button type="button" className="btn" data-testid="gen-smaller" onClick={() => set(smaller)}>
          Use {smaller.width}×{smaller.height}, {smaller.steps} steps{after !== null ? ` (about ${formatDuration(after)})` : ''}
        </button>
      )}
    </div>
  );
}
