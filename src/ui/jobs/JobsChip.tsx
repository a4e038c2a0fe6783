/**
 * The generation queue in the header, on every page (issue 13, point 2): how many jobs, the running
 * one's step, and Cancel per job. Cancel answers at once ("Cancelling…"); the run itself stops within
 * one UNet block (forward.ts) and then leaves the list.
 */
import { useEffect, useRef, useState } from 'react';
import { cancelJob } from '../generate/generate-controller';
import { current, jobStatusText } from './job-queue';
import { useJobs } from './jobs-store';
import './jobs.css';

export function JobsChip() {
  const jobs = useJobs((s) => s.jobs);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  if (!jobs.length) return null;
  const run = current(jobs);
  return (
    <div className="jobs" ref={box}>
      <button type="button" className="chip chip-busy" data-testid="jobs-chip" aria-expanded={open} aria-controls="jobs-list" onClick={() => setOpen((o) => !o)} title="Generation queue">
        <span className="dot dot-pending" />
        <span>
          <span data-testid="jobs-count">{jobs.length}</span> {jobs.length === 1 ? 'job' : 'jobs'}
          {run && <span className="jobs-now" data-testid="jobs-current"> · {jobStatusText(run)}</span>}
        </span>
      </button>
      {run && (
        <button type="button" className="btn btn-small" data-testid="jobs-cancel-current" disabled={run.state === 'cancelling'} onClick={() => cancelJob(run.id)}>
          {run.state === 'cancelling' ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {open && (
        <ul className="jobs-list card" id="jobs-list" aria-label="Generation queue" data-testid="jobs-list">
          {jobs.map((j) => (
            <li key={j.id} className="jobs-row" data-testid="job-row">
              <span className="jobs-label" title={j.label}>
                {j.kind === 'scene' ? 'Scene: ' : ''}
                {j.label}
              </span>
              <span className="jobs-state small muted num" data-testid="job-state">{jobStatusText(j)}</span>
              <button type="button" className="btn btn-small" data-testid="job-cancel" disabled={j.state === 'cancelling'} onClick={() => cancelJob(j.id)}>
                {j.state === 'cancelling' ? 'Cancelling…' : j.state === 'queued' ? 'Remove' : 'Cancel'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
