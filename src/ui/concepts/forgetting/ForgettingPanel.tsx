/**
 * The forgetting dashboard (issue 11 point 6; spec §5, the paper's forgetting analysis): per concept,
 * its denoising loss on its own training photos through EWA over the library as it stood after each
 * later task, as a task×concept heat map and a line chart, recomputed on demand (progress, cancel).
 * The last result is kept per model with the library version it was computed for; when the library
 * changed since, it is shown as out of date. Concepts without stored photos (imported ones) are listed
 * as not scored.
 */
import { useEffect } from 'react';
import { useGenerate } from '../../generate/generate-store';
import { useStudio } from '../../store';
import { conceptsOfModel, ensureConcepts, useConcepts } from '../concepts-store';
import { libraryVersionKey } from '../engine-sync';
import { cancelForgetting, computeForgetting, loadForgettingEntry, useForgetting } from './forgetting-store';
import { HeatMap } from './HeatMap';
import { LineChart } from './LineChart';
import type { ForgettingPhase } from './run-forgetting';
import { averageForgetting, forgettingPerConcept, relativeMatrix } from './scores';
import './forgetting.css';

function phaseText(p: ForgettingPhase): { text: string; value: number | null } {
  if (p.phase === 'load') {
    const l = p.progress;
    return { text: l?.status === 'load' ? `Loading the model: ${l.component}` : 'Loading the model…', value: l?.status === 'load' && l.total > 0 ? l.done / l.total : null };
  }
  if (p.phase === 'photos') return { text: `Reading ${p.photos} training photo${p.photos === 1 ? '' : 's'}…`, value: null };
  return { text: `Scoring: ${p.done} of ${p.total} cells`, value: p.total > 0 ? p.done / p.total : null };
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export function ForgettingPanel() {
  const modelId = useStudio((s) => s.activeModelId);
  const precision = useGenerate((s) => s.draft.precision);
  const all = useConcepts((s) => s.concepts);
  const loaded = useConcepts((s) => s.loaded);
  const { entries, running, error, saveError } = useForgetting();
  useEffect(() => {
    void ensureConcepts();
  }, []);
  useEffect(() => {
    if (modelId) void loadForgettingEntry(modelId);
  }, [modelId]);

  const concepts = conceptsOfModel(all, modelId);
  const unscored = concepts.filter((c) => !c.trainingPhotos?.length);
  const scorable = concepts.length - unscored.length;
  const entry = modelId ? entries[modelId] ?? null : null;
  const current = libraryVersionKey(concepts);
  const stale = entry !== null && entry.version !== current;
  const busy = running !== null;
  const progress = running ? phaseText(running.phase) : null;
  const perConcept = entry ? forgettingPerConcept(relativeMatrix(entry.result.matrix)) : [];
  const avg = averageForgetting(perConcept);

  return (
    <section className="card cf-panel" data-testid="forgetting-dashboard" aria-label="Forgetting">
      <div className="cf-head">
        <div>
          <h2 className="card-title">Forgetting</h2>
          <p className="small muted cf-lede">
            How each concept holds up as later ones are learned: its denoising loss on its own training photos, with the library as it stood after each task, relative to right after it was learned (1.00× = nothing forgotten).
          </p>
        </div>
        <div className="cf-actions">
          {busy ? (
            <button type="button" className="btn" data-testid="forgetting-cancel" onClick={cancelForgetting}>Cancel</button>
          ) : (
            <button type="button" className="btn btn-primary" data-testid="forgetting-compute" disabled={!modelId || scorable === 0} onClick={() => modelId && void computeForgetting(modelId, precision)} title={scorable === 0 ? 'No concept of this model has training photos to score' : 'Score every concept after every task (runs on the GPU)'}>
              {entry ? 'Recompute' : 'Compute'}
            </button>
          )}
        </div>
      </div>

      {!modelId && <p className="muted">Choose a model on the Models page: scores are per model.</p>}
      {modelId && loaded && concepts.length === 0 && <p className="muted" data-testid="forgetting-empty">No concepts of the active model yet.</p>}

      {progress && (
        <div className="cf-progress" role="status" data-testid="forgetting-progress">
          <span className="small">{progress.text}</span>
          <progress max={1} value={progress.value ?? undefined} aria-label="Forgetting scores" />
        </div>
      )}
      {error && (
        <p className="callout callout-bad" role="alert" data-testid="forgetting-error">
          <strong>{error.name === 'NothingToScoreError' ? 'Nothing to score' : 'The scores could not be computed'}.</strong> {error.message}
        </p>
      )}
      {saveError && <p className="callout callout-warn small">{saveError}</p>}

      {unscored.length > 0 && (
        <p className="small cf-unscored" data-testid="forgetting-unscored">
          <span className="chip chip-warn">Not scored</span> {unscored.map((c) => c.name).join(', ')} — no training photos are stored with {unscored.length === 1 ? 'it' : 'them'} (an imported concept file carries none).
        </p>
      )}

      {entry && (
        <>
          <p className={`small ${stale ? 'cf-stale' : 'muted'}`} data-testid="forgetting-status">
            {stale ? 'Out of date: the library changed since these scores were computed on ' : 'Computed on '}
            {new Date(entry.computedAt).toLocaleString()}
            {avg !== null && !stale && <> · average forgetting {pct(avg)}</>}
          </p>
          <HeatMap entry={entry} />
          <LineChart entry={entry} />
        </>
      )}
    </section>
  );
}
