/**
 * Teach (issue 11 point 1): photos in, each cropped square (and optionally masked), the concept's words
 * and settings, then "Start training" stores the job and queues it (training/runner.ts). The training
 * sizes come from the active model's configs (model-sizes.ts).
 */
import { useEffect, useMemo, useState } from 'react';
import { useStudio } from '../../store';
import { useConcepts } from '../concepts-store';
import { useTraining } from '../training/training-store';
import { readModelSizes } from '../../models/model-sizes';
import { PhotoDrop } from './PhotoDrop';
import { PhotoEditor } from './PhotoEditor';
import { setForm, startTraining, teachContext, useTeach } from './teach-store';
import { TeachForm } from './TeachForm';
import { photoCountProblem, resolutionOptions, validateTeach, type ModelSizes } from './validation';

function useResolutions(modelId: string | null): { options: number[]; preferred: number } {
  const [sizes, setSizes] = useState<ModelSizes>({ native: 1024, grid: 64 });
  useEffect(() => {
    if (!modelId) return;
    let live = true;
    readModelSizes(modelId).then((s) => live && setSizes(s), () => undefined);
    return () => {
      live = false;
    };
  }, [modelId]);
  return useMemo(() => resolutionOptions(sizes), [sizes]);
}

export function TeachPanel({ onStarted }: { onStarted(): void }) {
  const modelId = useStudio((s) => s.activeModelId);
  const modelName = useStudio((s) => s.models.find((m) => m.id === s.activeModelId)?.name ?? null);
  const st = useTeach();
  const concepts = useConcepts((s) => s.concepts);
  const jobs = useTraining((s) => s.jobs);
  const { options, preferred } = useResolutions(modelId);
  const taken = useMemo(() => new Set([...concepts.flatMap((c) => c.placeholders), ...jobs.flatMap((j) => j.settings.placeholders)]), [concepts, jobs]);

  useEffect(() => {
    if (!options.includes(st.form.resolution)) setForm({ resolution: preferred });
  }, [options, preferred, st.form.resolution]);

  const all = validateTeach(st.form, teachContext(st, taken, options));
  const errors = st.attempted ? all : {};
  const selected = st.photos.find((p) => p.id === st.selectedId) ?? null;
  const countNote = photoCountProblem(st.photos.length);
  const problems = Object.values(errors);

  return (
    <div className="cc-teach">
      <section className="card cc-teach-photos" aria-labelledby="teach-photos-title">
        <h2 className="cc-h2" id="teach-photos-title">Photos</h2>
        <PhotoDrop />
        {selected && <PhotoEditor photo={selected} />}
        {countNote && st.photos.length > 0 && <p className={st.attempted ? 'cc-error' : 'small muted'} data-testid="teach-photos-error">{countNote}</p>}
      </section>
      <section className="card cc-teach-form" aria-labelledby="teach-form-title">
        <h2 className="cc-h2" id="teach-form-title">Concept</h2>
        <TeachForm errors={errors} resolutions={options} taken={taken} />
        <div className="cc-start">
          {!modelId && <p className="cc-error">Choose a model on the Models page first: a concept is learned on one model.</p>}
          {st.attempted && problems.length > 0 && (
            <div className="callout callout-bad" role="alert" data-testid="teach-problems">
              <div>
                <strong>Fix these to start:</strong>
                <ul>{problems.map((p) => <li key={p}>{p}</li>)}</ul>
              </div>
            </div>
          )}
          {st.startError && (
            <div className="callout callout-bad" role="alert" data-testid="teach-start-error">
              <div><strong>The job could not be stored.</strong> {st.startError.message}</div>
            </div>
          )}
          <button
            type="button" className="btn btn-primary cc-start-btn" data-testid="teach-start" disabled={st.starting || !modelId}
            onClick={() => void startTraining(taken, options).then((ok) => ok && onStarted())}
          >
            {st.starting ? 'Preparing photos…' : 'Start training'}
          </button>
          <p className="small muted">{modelName ? `Learns on ${modelName}. ` : ''}Runs on this device; another job waits its turn. Photos never leave this device.</p>
        </div>
      </section>
    </div>
  );
}
