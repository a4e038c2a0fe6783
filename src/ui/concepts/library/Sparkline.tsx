/** The training loss curve as a small SVG line (a concept card's "how did training go"). */
export function sparklinePoints(values: readonly number[], width: number, height: number, pad = 2): string {
  const ys = values.filter(Number.isFinite);
  if (ys.length < 2) return '';
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const span = hi - lo || 1;
  const step = (width - 2 * pad) / (values.length - 1);
  return values
    .map((v, i) => (Number.isFinite(v) ? `${(pad + i * step).toFixed(1)},${(pad + (1 - (v - lo) / span) * (height - 2 * pad)).toFixed(1)}` : null))
    .filter((p): p is string => p !== null)
    .join(' ');
}

export function Sparkline({ values, width = 120, height = 28, label }: { values: readonly number[]; width?: number; height?: number; label: string }) {
  const points = sparklinePoints(values, width, height);
  if (!points) return null;
  const first = values[0]!;
  const last = values[values.length - 1]!;
  return (
    <svg className="cl-spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: loss ${first.toFixed(3)} → ${last.toFixed(3)} over ${values.length} steps`} data-testid="concept-loss">
      <title>{`Loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${values.length} steps`}</title>
      <polyline points={points} fill="none" stroke="var(--accent-2)" strokeWidth="1.5" strokeLinejoin="round" />
    </svg>
  );
}
