/** The Training tab: what the runner said last, the running job, then the others in queue order. */
import { useEffect } from 'react';
import { useTraining } from './training-store';
import { LiveJobCard, WaitingJobCard } from './JobCard';
import { pump, refreshJobs } from './runner';

export function JobsPanel({ onTeach }: { onTeach(): void }) {
  const jobs = useTraining((s) => s.jobs);
  const live = useTraining((s) => s.live);
  const loaded = useTraining((s) => s.loaded);
  const notice = useTraining((s) => s.notice);
  const error = useTraining((s) => s.error);
  const unreadable = useTraining((s) => s.unreadable);
  const checkpoints = useTraining((s) => s.checkpoints);
  useEffect(() => {
    void refreshJobs();
  }, []);

  const runningJob = live ? jobs.find((j) => j.id === live.jobId) : undefined;
  const others = jobs.filter((j) => j.id !== runningJob?.id);
  const queued = others.filter((j) => j.state === 'queued');
  return (
    <div className="cc-jobs" data-testid="training-jobs">
      {notice && (
        <p className={`cc-notice is-${notice.kind}`} role="status" data-testid="training-notice">
          {notice.text}
          <button type="button" className="cc-notice-x" aria-label="Dismiss" onClick={() => useTraining.setState({ notice: null })}>×</button>
        </p>
      )}
      {error && (
        <div className="callout callout-bad" role="alert" data-testid="training-error">
          <div>
            <strong>The training queue stopped.</strong> {error.message}
            <div><button type="button" className="btn" onClick={() => { useTraining.setState({ error: null }); void pump(); }}>Try again</button></div>
          </div>
        </div>
      )}
      {unreadable.length > 0 && <p className="small warn-text">{unreadable.length} stored job{unreadable.length === 1 ? '' : 's'} could not be read and {unreadable.length === 1 ? 'is' : 'are'} skipped.</p>}
      {runningJob && live && <LiveJobCard job={runningJob} live={live} />}
      {others.length > 0 && (
        <section aria-label="Queue" className="cc-queue">
          <h2 className="cc-h2">{runningJob ? 'Next' : 'Jobs'}</h2>
          {others.map((j) => <WaitingJobCard key={j.id} job={j} place={queued.indexOf(j) + 1 + (runningJob ? 1 : 0)} checkpoint={checkpoints[j.id]} />)}
        </section>
      )}
      {loaded && !jobs.length && (
        <div className="card cc-empty">
          <p>No training jobs. Teach a concept: a few photos, a name and a word for it.</p>
          <button type="button" className="btn btn-primary" onClick={onTeach}>Teach a concept</button>
        </div>
      )}
    </div>
  );
}
