import { describe, expect, it } from 'vitest';
import { cancel, current, enqueue, finish, jobStatusText, nextToStart, progress, start, type GenJob } from './job-queue';

const job = (id: number, o: Partial<GenJob> = {}) => ({ id, kind: 'generate' as const, label: `job ${id}`, steps: 20, images: 1, ...o });

describe('generation job queue', () => {
  it('runs jobs one at a time, in the order they were queued', () => {
    let q = enqueue(enqueue(enqueue([], job(1)), job(2)), job(3));
    expect(nextToStart(q)?.id).toBe(1);
    q = start(q, 1);
    expect(current(q)?.id).toBe(1);
    expect(nextToStart(q)).toBeUndefined();
    q = finish(q, 1);
    expect(nextToStart(q)?.id).toBe(2);
    expect(q.map((j) => j.id)).toEqual([2, 3]);
  });

  it('a queued job cancels at once and nothing is aborted', () => {
    const q = start(enqueue(enqueue([], job(1)), job(2)), 1);
    const r = cancel(q, 2);
    expect(r.abort).toBe(false);
    expect(r.jobs.map((j) => j.id)).toEqual([1]);
  });

  it('the running job says "Cancelling…" at once, aborts its run, and stays until it has stopped', () => {
    const q = start(enqueue(enqueue([], job(1)), job(2)), 1);
    const r = cancel(q, 1);
    expect(r.abort).toBe(true);
    expect(r.jobs[0]!.state).toBe('cancelling');
    expect(jobStatusText(r.jobs[0]!)).toBe('Cancelling…');
    // the next job waits until the cancelled one has really stopped (the GPU is still busy)
    expect(nextToStart(r.jobs)).toBeUndefined();
    // a second click does not abort twice
    expect(cancel(r.jobs, 1).abort).toBe(false);
    expect(nextToStart(finish(r.jobs, 1))?.id).toBe(2);
  });

  it('an unknown id changes nothing', () => {
    const q = enqueue([], job(1));
    expect(cancel(q, 9)).toEqual({ jobs: q, abort: false });
  });

  it('shows queued, step and batch progress', () => {
    let q = enqueue([], job(1, { images: 3 }));
    expect(jobStatusText(q[0]!)).toBe('Queued');
    q = progress(start(q, 1), 1, { step: 4, steps: 12, image: 2 });
    expect(jobStatusText(q[0]!)).toBe('Image 2/3 · step 4/12');
    const single = progress(start(enqueue([], job(2)), 2), 2, { step: 3 });
    expect(jobStatusText(single[0]!)).toBe('Step 3/20');
  });
});
