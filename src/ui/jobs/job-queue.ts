/**
 * The generation queue's rules, as plain functions over an immutable list (jobs-store.ts holds the list,
 * generate-controller.ts runs it). Jobs run one at a time in the order they were queued; a queued job
 * cancels at once (it leaves the list), the running one turns "cancelling" at once and leaves when the
 * engine has stopped (within one UNet block, forward.ts). Issue 13, point 2.
 */

export type GenJobState = 'queued' | 'running' | 'cancelling';

export interface GenJob {
  id: number;
  /** Where it came from: the Generate page or a scene (the header names it). */
  kind: 'generate' | 'scene';
  /** A short name for the list: the prompt's start, or the scene's name. */
  label: string;
  state: GenJobState;
  /** Sampling progress of the running job (0/steps before sampling starts). */
  step: number;
  steps: number;
  /** Which image of a batch runs (1-based) and how many. */
  image: number;
  images: number;
}

export type NewJob = Pick<GenJob, 'id' | 'kind' | 'label' | 'steps' | 'images'>;

export function enqueue(jobs: readonly GenJob[], job: NewJob): GenJob[] {
  return [...jobs, { ...job, state: 'queued', step: 0, image: 0 }];
}

/** The job that runs now: the running (or cancelling) one, else none. */
export function current(jobs: readonly GenJob[]): GenJob | undefined {
  return jobs.find((j) => j.state !== 'queued');
}

/** The next job to start, or none while one still runs (one at a time: the GPU is shared). */
export function nextToStart(jobs: readonly GenJob[]): GenJob | undefined {
  return current(jobs) ? undefined : jobs.find((j) => j.state === 'queued');
}

export function start(jobs: readonly GenJob[], id: number): GenJob[] {
  return jobs.map((j) => (j.id === id && j.state === 'queued' ? { ...j, state: 'running' } : j));
}

export function progress(jobs: readonly GenJob[], id: number, p: Partial<Pick<GenJob, 'step' | 'steps' | 'image' | 'images'>>): GenJob[] {
  return jobs.map((j) => (j.id === id ? { ...j, ...p } : j));
}

/**
 * Cancel: a queued job leaves the list now; the running one is marked "cancelling" (the caller aborts
 * its run) and leaves on finish(). `abort` says whether a run must be stopped.
 */
export function cancel(jobs: readonly GenJob[], id: number): { jobs: GenJob[]; abort: boolean } {
  const job = jobs.find((j) => j.id === id);
  if (!job) return { jobs: [...jobs], abort: false };
  if (job.state === 'queued') return { jobs: jobs.filter((j) => j.id !== id), abort: false };
  return { jobs: jobs.map((j) => (j.id === id ? { ...j, state: 'cancelling' } : j)), abort: job.state === 'running' };
}

/** A run ended (done, failed or cancelled): it leaves the list. */
export function finish(jobs: readonly GenJob[], id: number): GenJob[] {
  return jobs.filter((j) => j.id !== id);
}

/** The header's line for a job: "Queued", "Step 3/20", "Image 2/4 · step 3/20", "Cancelling…". */
export function jobStatusText(j: GenJob): string {
  if (j.state === 'queued') return 'Queued';
  if (j.state === 'cancelling') return 'Cancelling…';
  const images = j.images > 1 ? `Image ${Math.max(1, j.image)}/${j.images} · ` : '';
  return `${images}${images ? 's' : 'S'}tep ${j.step}/${j.steps}`;
}
