/** One line per scored concept: its relative loss (1 = as when learned) after each later task (SVG). */
import type { ForgettingEntry } from '../../../storage/concepts/library-extra';
import { chartRange, conceptSeries, relativeMatrix, scoredColumns } from './scores';

const COLORS = ['#8b7bff', '#38d5f2', '#3ecf8e', '#f2b553', '#ff6b6b', '#e879f9', '#a3e635', '#fb923c'];
const W = 560;
const H = 220;
const PAD = { l: 44, r: 12, t: 10, b: 28 };

export function LineChart({ entry }: { entry: ForgettingEntry }) {
  const { conceptIds, matrix } = entry.result;
  const rel = relativeMatrix(matrix);
  const scored = scoredColumns(entry.result);
  const [lo, hi] = chartRange(rel);
  const n = conceptIds.length;
  const x = (j: number) => PAD.l + (n <= 1 ? (W - PAD.l - PAD.r) / 2 : (j * (W - PAD.l - PAD.r)) / (n - 1));
  const y = (v: number) => PAD.t + ((hi - v) / (hi - lo)) * (H - PAD.t - PAD.b);
  const ticks = [lo, 1, hi].filter((v, k, a) => a.indexOf(v) === k);
  const lines = conceptIds.map((id, i) => ({ id, i, color: COLORS[i % COLORS.length]!, pts: conceptSeries(rel, i) })).filter((l) => scored[l.i] && l.pts.length > 0);
  return (
    <figure className="cf-chart">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="Relative loss of each concept across tasks" data-testid="forgetting-chart">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="var(--border-strong)" strokeDasharray={v === 1 ? '4 3' : undefined} />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" fontSize="11" fill="var(--muted)">{v.toFixed(2)}×</text>
          </g>
        ))}
        {conceptIds.map((id, j) => (
          <text key={id} x={x(j)} y={H - 8} textAnchor="middle" fontSize="11" fill="var(--muted)">#{entry.tasks[id] ?? j + 1}</text>
        ))}
        {lines.map((l) => (
          <g key={l.id} data-testid="forgetting-line">
            {l.pts.length > 1 && <polyline points={l.pts.map((p) => `${x(p.j)},${y(p.v)}`).join(' ')} fill="none" stroke={l.color} strokeWidth="2" />}
            {l.pts.map((p) => (
              <circle key={p.j} cx={x(p.j)} cy={y(p.v)} r="3.5" fill={l.color}>
                <title>{`${entry.names[l.id] ?? l.id} after task #${entry.tasks[conceptIds[p.j]!] ?? p.j + 1}: ${p.v.toFixed(3)}×`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="cf-legend small">
        {lines.map((l) => (
          <span key={l.id}>
            <i style={{ background: l.color }} aria-hidden="true" /> {entry.names[l.id] ?? l.id}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
