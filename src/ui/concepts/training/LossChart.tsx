/**
 * The loss curve as an SVG: every step's loss (faint) and its exponential moving average (the trend a
 * person reads; the diffusion loss is noisy step to step because t and ε are drawn per step).
 */
export function smoothLosses(losses: readonly number[], alpha = 0.1): number[] {
  const out: number[] = [];
  let m = losses[0] ?? 0;
  for (const l of losses) {
    m = m + alpha * (l - m);
    out.push(m);
  }
  return out;
}

const W = 480;
const H = 150;
const PAD = { l: 40, r: 10, t: 10, b: 22 };

export function LossChart({ losses, steps }: { losses: readonly number[]; steps: number }) {
  if (!losses.length) return <div className="cc-chart cc-chart-empty small muted" data-testid="train-chart">The loss curve appears with the first step.</div>;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || Math.abs(hi) || 1;
  // step i + 1 of 1..steps, step 1 on the left axis
  const x = (i: number) => PAD.l + (i / Math.max(1, steps - 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - lo) / span) * (H - PAD.t - PAD.b);
  const line = (vs: readonly number[]) => vs.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const smooth = smoothLosses(losses);
  return (
    <svg className="cc-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Loss over ${losses.length} steps, last ${losses[losses.length - 1]!.toFixed(4)}`} data-testid="train-chart" data-points={losses.length}>
      <line x1={PAD.l} x2={W - PAD.r} y1={H - PAD.b} y2={H - PAD.b} className="cc-chart-axis" />
      <line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={H - PAD.b} className="cc-chart-axis" />
      <text x={PAD.l - 6} y={PAD.t + 8} className="cc-chart-label" textAnchor="end">{hi.toFixed(3)}</text>
      <text x={PAD.l - 6} y={H - PAD.b} className="cc-chart-label" textAnchor="end">{lo.toFixed(3)}</text>
      <text x={PAD.l} y={H - 6} className="cc-chart-label">step 1</text>
      <text x={W - PAD.r} y={H - 6} className="cc-chart-label" textAnchor="end">{steps}</text>
      <path d={line(losses)} className="cc-chart-raw" />
      <path d={line(smooth)} className="cc-chart-smooth" />
    </svg>
  );
}
