/**
 * One training job: the running one with its live numbers (step, loss chart, it/s, ETA, preview) and
 * Pause / Cancel; a waiting, paused or failed one with its place, its last checkpoint and Resume / Retry
 * / Cancel. Cancel asks first: it deletes the job and its checkpoints.
 */
import { useState } from 'react';
import type { TrainingJobRecord } from '../../../storage/concepts/job-record';
import { RgbaCanvas } from '../../generate/RgbaCanvas';
import { LossChart } from './LossChart';
import { cancelJob, pauseJob, resumeJob } from './runner';
import type { LiveRun } from './training-store';

export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** it/s when at least one step a second, else seconds per step (as kohya's progress bar). */
export function formatSpeed(itPerSec: number): string {
  if (!(itPerSec > 0)) return '—';
  return itPerSec >= 1 ? `${itPerSec.toFixed(2)} it/s` : `${(1 / itPerSec).toFixed(1)} s/it`;
}

const PHASE: Record<LiveRun['phase'], string> = {
  waiting: 'Waiting for another tab of the studio to finish its training…',
  loading: 'Loading the model…',
  preparing: 'Encoding the photos…',
  training: 'Training',
  saving: 'Saving the concept…',
};

function CancelButton({ job }: { job: TrainingJobRecord }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <button type="button" className="btn" data-testid="job-cancel" onClick={() => setAsking(true)}>Cancel…</button>;
  return (
    <span className="cc-confirm" role="alertdialog" aria-label="Cancel the job?">
      <span className="small">Delete this job and its checkpoints? The photos and progress are lost.</span>
      <button type="button" className="btn cc-btn-bad" data-testid="job-cancel-confirm" onClick={() => void cancelJob(job)}>Delete job</button>
      <button type="button" className="btn" onClick={() => setAsking(false)}>Keep it</button>
    </span>
  );
}

export function LiveJobCard({ job, live }: { job: TrainingJobRecord; live: LiveRun }) {
  const s = job.settings;
  const pct = live.steps ? (100 * live.step) / live.steps : 0;
  const loss = live.losses[live.losses.length - 1];
  return (
    <article className="card cc-job is-running" data-testid="job-running" data-job={job.id} data-step={live.step} data-steps={live.steps} data-phase={live.phase} data-resumed={live.resumedFrom ?? ''}>
      <header className="cc-job-head">
        <div>
          <h3 className="cc-job-name">{s.name}</h3>
          <p className="small muted mono">{[...s.placeholders, s.classWord].join(' ')} · {s.resolution}² · {job.photos.length} photos{job.taskIndex ? ` · task ${job.taskIndex}` : ''}</p>
        </div>
        {live.resumedFrom !== null && <span className="chip chip-ok" data-testid="job-resumed">Resumed from step {live.resumedFrom}</span>}
      </header>
      <p className="small" data-testid="job-phase">{live.phase === 'loading' && live.loading ? `Loading the model: ${live.loading}` : PHASE[live.phase]}</p>
      <div className="cc-progress" role="progressbar" aria-valuemin={0} aria-valuemax={live.steps} aria-valuenow={live.step} aria-label="Training steps">
        <div style={{ width: `${pct}%` }} />
      </div>
      <dl className="cc-stats">
        <div><dt>Step</dt><dd data-testid="job-step">{live.step} / {live.steps}</dd></div>
        <div><dt>Loss</dt><dd>{loss !== undefined ? loss.toFixed(4) : '—'}</dd></div>
        <div><dt>Speed</dt><dd data-testid="job-speed">{formatSpeed(live.itPerSec)}</dd></div>
        <div><dt>Left</dt><dd>{formatEta(live.etaMs)}</dd></div>
        <div><dt>Saved</dt><dd data-testid="job-saved">{live.savedStep !== null ? `step ${live.savedStep}` : live.resumedFrom !== null ? `step ${live.resumedFrom}` : '—'}</dd></div>
      </dl>
      <div className="cc-job-body">
        <LossChart losses={live.losses} steps={live.steps} />
        <figure className="cc-preview">
          {live.preview ? <RgbaCanvas image={live.preview.image} label={`Preview at step ${live.preview.step}`} testId="job-preview" /> : <div className="cc-preview-empty small muted">{s.previewEvery ? `A sample every ${s.previewEvery} steps` : 'Previews are off'}</div>}
          <figcaption className="small muted">{live.preview ? `Step ${live.preview.step}: "${['a photo of', ...s.placeholders, s.classWord].join(' ')}"` : 'Preview'}</figcaption>
        </figure>
      </div>
      <footer className="cc-job-actions">
        <button type="button" className="btn" data-testid="job-pause" disabled={live.phase === 'saving'} onClick={() => void pauseJob(job)}>Pause</button>
        {live.phase !== 'saving' && <CancelButton job={job} />}
        <span className="small muted">Pause saves a checkpoint; a reload or a closed tab resumes from the last one.</span>
      </footer>
    </article>
  );
}

export function WaitingJobCard({ job, place, checkpoint }: { job: TrainingJobRecord; place: number; checkpoint: number | undefined }) {
  const s = job.settings;
  const state = job.state === 'queued' ? `Waiting, #${place} in the queue` : job.state === 'paused' ? 'Paused' : 'Stopped with an error';
  return (
    <article className={`card cc-job is-${job.state}`} data-testid="job-waiting" data-job={job.id} data-state={job.state}>
      <header className="cc-job-head">
        <div>
          <h3 className="cc-job-name">{s.name}</h3>
          <p className="small muted mono">{[...s.placeholders, s.classWord].join(' ')} · {s.resolution}² · {job.photos.length} photos · {s.steps} steps</p>
        </div>
        <span className={`chip${job.state === 'failed' ? ' chip-bad' : job.state === 'paused' ? ' chip-warn' : ''}`}>{state}</span>
      </header>
      {checkpoint !== undefined && <p className="small">Checkpoint at step {checkpoint} of {s.steps}: it continues from there.</p>}
      {job.error && <div className="callout callout-bad" role="alert" data-testid="job-error"><div><strong>{job.error.code === 'placeholder-collision' ? 'A placeholder word is taken.' : 'Training stopped.'}</strong> {job.error.message}{job.error.code === 'placeholder-collision' ? ' Cancel this job and teach the concept again with other words.' : ''}</div></div>}
      <footer className="cc-job-actions">
        {job.state === 'queued' && <button type="button" className="btn" onClick={() => void pauseJob(job)}>Hold</button>}
        {job.state === 'paused' && <button type="button" className="btn btn-primary" data-testid="job-resume" onClick={() => void resumeJob(job)}>Resume</button>}
        {job.state === 'failed' && job.error?.code !== 'placeholder-collision' && <button type="button" className="btn btn-primary" data-testid="job-retry" onClick={() => void resumeJob(job)}>Retry</button>}
        <CancelButton job={job} />
      </footer>
    </article>
  );
}
