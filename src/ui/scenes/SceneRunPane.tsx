/**
 * The scene's run on the Scenes page (issue 13 point 5): queued behind other jobs, or running with
 * its step count, live preview and Cancel; then the image (it is in the gallery too) or why not.
 * While another job runs (the engine runs one at a time), the pane says so instead of showing
 * that job's progress.
 */
import { cancelJob } from '../generate/generate-controller';
import { useGenerate } from '../generate/generate-store';
import { RgbaCanvas } from '../generate/RgbaCanvas';
import { useJobs } from '../jobs/jobs-store';
import { effectiveRun } from './scene-run';
import { setSceneRun, useScenes } from './scene-store';
import { useSceneRun } from './scene-run-store';

const STATUS: Record<string, string> = {
  device: 'Starting the GPU…',
  load: 'Loading the model onto the GPU…',
  compile: 'Compiling GPU kernels…',
  encode: 'Reading the prompts…',
  step: 'Denoising…',
  decode: 'Decoding the image…',
  done: 'Saving to the gallery…',
};

export function SceneRunPane() {
  const run = useSceneRun();
  const jobs = useJobs((s) => s.jobs);
  const gen = useGenerate();
  const scene = useScenes((s) => s.doc.scene);
  const current = effectiveRun(scene, gen.draft);
  if (run.phase === 'idle') return null;
  const job = run.jobId !== null ? jobs.find((j) => j.id === run.jobId) : undefined;
  const running = job !== undefined && job.state !== 'queued';
  const ahead = job?.state === 'queued' ? jobs.filter((j) => j.id < job.id).length : 0;
  const sampling = running && gen.progress?.status === 'step';
  const fraction = running && gen.steps > 0 ? gen.step / gen.steps : run.phase === 'done' ? 1 : 0;
  const shown = running ? gen.preview : run.image;
  const status = job
    ? job.state === 'cancelling'
      ? 'Cancelling…'
      : job.state === 'queued'
        ? `Queued: ${ahead} job${ahead === 1 ? '' : 's'} ahead (see the header).`
        : (gen.progress && STATUS[gen.progress.status]) || 'Starting…'
    : run.phase === 'queued'
      ? 'Checking the settings…'
      : run.phase === 'done'
        ? `Done (seed ${run.seed}). The image is in the gallery with this scene.`
        : run.phase === 'cancelled'
          ? 'Cancelled.'
          : '';
  return (
    <section className="card sc-card sc-run" aria-label="Scene run" data-testid="sc-run">
      <div className="sc-card-head">
        <h2 className="card-title">Run: {run.sceneName}</h2>
        {job && (
          <button type="button" className="btn btn-small" data-testid="sc-run-cancel" disabled={job.state === 'cancelling'} onClick={() => cancelJob(job.id)}>
            {job.state === 'cancelling' ? 'Cancelling…' : job.state === 'queued' ? 'Remove' : 'Cancel'}
          </button>
        )}
      </div>
      {shown && (
        <div className="sc-run-image" style={{ aspectRatio: `${shown.width} / ${shown.height}` }}>
          <RgbaCanvas image={shown} label={running ? 'Live preview of the scene' : 'The scene’s image'} testId={running ? 'sc-run-preview' : 'sc-run-image'} pixelated={running} />
        </div>
      )}
      <div className="gen-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)} aria-label="Scene run progress">
        <div className="gen-bar-fill" style={{ width: `${Math.round(fraction * 100)}%` }} />
      </div>
      <div className="sc-run-row small">
        <span data-testid="sc-run-status" role="status">{status}</span>
        {sampling && (
          <span className="num" data-testid="sc-run-steps">
            step {gen.step}/{gen.steps}
          </span>
        )}
      </div>
      {run.phase === 'error' && run.error && (
        <p className="callout callout-bad" role="alert" data-testid="sc-run-error">
          {run.error}
        </p>
      )}
      {run.phase === 'done' && run.seed !== null && !(current.seedLocked && current.seed === run.seed) && (
        <button type="button" className="btn btn-small" data-testid="sc-run-keep-seed" title="Lock the scene's seed to this run's, to make this image again" onClick={() => setSceneRun({ seed: run.seed!, seedLocked: true })}>
          Use seed {run.seed}
        </button>
      )}
    </section>
  );
}
