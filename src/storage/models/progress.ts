/**
 * Transfer rate and time left. The rate is bytes over a sliding window of recent samples (not the
 * average since the start, which lags after a stall or a resume), so the ETA follows the connection
 * as it is now. Pure: the clock is passed in.
 */

export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(
    /** Window in ms over which the rate is measured. */
    private readonly windowMs = 5000,
  ) {}

  /** Records `bytes` transferred by time `t` (ms, monotonic). */
  add(bytes: number, t: number): void {
    if (bytes <= 0) return;
    this.samples.push({ t, bytes });
    const cut = t - this.windowMs;
    while (this.samples.length > 1 && this.samples[0]!.t < cut) this.samples.shift();
  }

  /** Bytes per second at time `now`; 0 with fewer than two samples or none in the window. */
  rate(now: number): number {
    const cut = now - this.windowMs;
    const recent = this.samples.filter((s) => s.t >= cut);
    if (recent.length < 2) return 0;
    const span = Math.max(now, recent[recent.length - 1]!.t) - recent[0]!.t;
    if (span <= 0) return 0;
    // The first sample's bytes arrived before the window's start point, so they are not counted.
    const bytes = recent.slice(1).reduce((a, s) => a + s.bytes, 0);
    return (bytes * 1000) / span;
  }

  reset(): void {
    this.samples = [];
  }
}

/** Seconds left for `remaining` bytes at `rate` bytes/s; null when the rate or the total is unknown. */
export function etaSeconds(remaining: number | null, rate: number): number | null {
  if (remaining === null || !Number.isFinite(remaining)) return null;
  if (remaining <= 0) return 0;
  if (!(rate > 0)) return null;
  return Math.ceil(remaining / rate);
}

/** Whole percent 0..100, never 100 before done (a 99.6 % transfer shows 99). */
export function percent(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  if (done >= total) return 100;
  return Math.min(99, Math.floor((done / total) * 100));
}

/** Sum over files; the total is null while any file's size is unknown. */
export function totals(files: readonly { bytesDone: number; bytesTotal: number | null }[]): { bytesDone: number; bytesTotal: number | null } {
  let done = 0;
  let total: number | null = 0;
  for (const f of files) {
    done += f.bytesDone;
    total = total === null || f.bytesTotal === null ? null : total + f.bytesTotal;
  }
  return { bytesDone: done, bytesTotal: total };
}

/** "2 h 5 min", "4 min 10 s", "12 s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
