/**
 * The output area: the live latent preview while sampling (1/8 size, drawn pixelated), the finished
 * image after, a progress bar with step count and ETA, and Cancel. Its box keeps the output's aspect
 * ratio from the start, so nothing jumps while generating.
 */
import { useTraining } from '../concepts/training/training-store';
import { useEffect, useState } from 'react';
import { cancelGeneration } from './generate-controller';
import { etaSeconds, useGenerate } from './generate-store';
import { RgbaCanvas } from './RgbaCanvas';
import { TruncationNotice } from './TruncationNotice';
import { formatDuration } from '../format';
import { plainError } from '../plain-error';
import { useJobs } from '../jobs/jobs-store';
import { current } from '../jobs/job-queue';

const STATUS_TEXT: Record<string, string> = {
  device: 'Starting the GPU…',
  load: 'Loading the model onto the GPU…',
  compile: 'Compiling GPU kernels…',
  encode: 'Reading the prompt…',
  step: 'Denoising…',
  decode: 'Decoding the image…',
  done: 'Done',
};

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(performance.now()), 500);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/**
 * The engine runs one request at a time: a generate asked for while a concept trains waits for the
 * job to finish or pause. Say so, instead of a silent "loading".
 */
function TrainingWait() {
  const live = useTraining((t) => t.live);
  const name = useTraining((t) => t.jobs.find((j) => j.id === live?.jobId)?.settings.name ?? null);
  if (!live) return null;
  return (
    <p className="small muted" data-testid="gen-waiting-training">
      Waiting for the training of “{name ?? 'a concept'}” (step {live.step}/{live.steps}): the GPU runs one job at a time. Pause it on the Concepts page to generate now.
    </p>
  );
}

/** A failure in plain words (plain-error.ts); the studio's own error name stays as a small reference. */
function ErrorText({ error }: { error: Parameters<typeof plainError>[0] }) {
  const p = plainError(error);
  return (
    <p>
      <strong>{p.title}</strong>: {p.message}
      {p.reference && <span className="small muted"> ({p.reference})</span>}
    </p>
  );
}

export function PreviewPane() {
  const { phase, progress, step, steps, samplingStartedAt, preview, result, error, draft, batchIndex, batchTotal } = useGenerate();
  const busy = phase === 'loading' || phase === 'running';
  // Cancel answers at once; the run stops within one UNet block and the phase turns 'cancelled'
  const cancelling = useJobs((j) => current(j.jobs)?.state === 'cancelling');
  const now = useNow(busy);
  const eta = etaSeconds(step, steps, samplingStartedAt, now);
  const fraction = progress?.status === 'load' ? progress.done / Math.max(1, progress.total) : steps > 0 ? step / steps : 0;
  const shown = busy ? preview : (result?.image ?? preview);
  const aspect = shown ? `${shown.width} / ${shown.height}` : `${draft.width} / ${draft.height}`;
  const status = progress ? (progress.status === 'load' ? `Loading ${progress.component.replace('_', ' ')} (${progress.done}/${progress.total})…` : STATUS_TEXT[progress.status]) : '';
  return (
    <section className="card gen-output" aria-label="Output">
      <div className="gen-stage" style={{ aspectRatio: aspect }} data-testid="gen-stage">
        {shown ? (
          <RgbaCanvas image={shown} label={busy ? 'Live preview' : 'Generated image'} testId={busy ? 'gen-preview' : 'gen-image'} pixelated={busy} />
        ) : (
          <div className="gen-empty muted">{phase === 'error' ? 'Nothing was generated.' : 'Your image appears here.'}</div>
        )}
      </div>
      <div className="gen-progress" aria-live="polite">
        {busy && (progress === null || progress.status === 'device') && <TrainingWait />}
        <div className="gen-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)} aria-label="Progress">
          <div className="gen-bar-fill" style={{ width: `${Math.round(fraction * 100)}%` }} />
        </div>
        <div className="gen-progress-row">
          <span data-testid="gen-status">
            {busy ? (cancelling ? 'Cancelling…' : status) : phase === 'done' && result ? `Done in ${formatDuration(result.timings.totalMs / 1000)} (seed ${result.params.seed})` : phase === 'cancelled' ? 'Cancelled.' : ''}
          </span>
          {busy && steps > 0 && progress?.status === 'step' && (
            <span className="num" data-testid="gen-steps">
              {batchTotal > 1 ? `image ${batchIndex}/${batchTotal} · ` : ''}
              {step}/{steps}
              {eta !== null ? ` · ${formatDuration(eta)} left` : ''}
            </span>
          )}
          <button type="button" className="btn" onClick={cancelGeneration} disabled={!busy || cancelling} data-testid="gen-cancel" title="Cancel (Esc)">
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        </div>
        <TruncationNotice />
        {!busy && result?.editNotices?.map((n) => (
          <p key={n} className="small muted" data-testid="gen-edit-notice">{n}</p>
        ))}
        {phase === 'error' && error && (
          <div className="callout callout-bad" role="alert" data-testid="gen-error">
            <ErrorText error={error} />
          </div>
        )}
      </div>
    </section>
  );
}
