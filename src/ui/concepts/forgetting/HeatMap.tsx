/**
 * The task×concept heat map: row j = the library after task j, column i = concept i; each cell is the
 * concept's loss relative to its own loss right after it was learned (the diagonal), red where it got
 * worse, green where better (scores.ts). The value is written in the cell; the raw losses are in its
 * title (hover) and its accessible label.
 */
import type { ForgettingEntry } from '../../../storage/concepts/library-extra';
import { formatRelative, heatColor, relativeMatrix, scoredColumns } from './scores';

export function HeatMap({ entry }: { entry: ForgettingEntry }) {
  const { conceptIds, matrix } = entry.result;
  const rel = relativeMatrix(matrix);
  const scored = scoredColumns(entry.result);
  const name = (id: string) => entry.names[id] ?? id;
  const task = (id: string, j: number) => entry.tasks[id] ?? j + 1;
  return (
    <div className="cf-scroll">
      <table className="cf-heat" data-testid="forgetting-heatmap" aria-label="Loss of each concept after each task, relative to when it was learned">
        <thead>
          <tr>
            <th scope="col" className="cf-corner small muted">after task ↓ · concept →</th>
            {conceptIds.map((id, i) => (
              <th key={id} scope="col" className={scored[i] ? '' : 'is-unscored'} title={scored[i] ? undefined : 'Not scored: no training photos stored'}>
                <span className="cf-col-name">{name(id)}</span>
                {!scored[i] && <span className="cf-col-note small muted">not scored</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {conceptIds.map((rowId, j) => (
            <tr key={rowId}>
              <th scope="row">
                <span className="value">#{task(rowId, j)}</span> {name(rowId)}
              </th>
              {conceptIds.map((colId, i) => {
                const r = rel[j]?.[i] ?? null;
                const raw = matrix[j]?.[i] ?? null;
                const label = r === null ? (i > j ? 'not learned yet' : 'not scored') : `${name(colId)} after task ${task(rowId, j)} (${name(rowId)}): loss ${raw!.toFixed(4)}, ${formatRelative(r)} its loss when learned (${matrix[i]![i]!.toFixed(4)})`;
                return (
                  <td key={colId} className={`cf-cell${i === j ? ' is-diag' : ''}`} style={{ background: heatColor(r) }} title={label} aria-label={label} data-testid="forgetting-cell">
                    {r === null ? <span className="muted">{i > j ? '' : '—'}</span> : formatRelative(r)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="cf-scale small muted" aria-hidden="true">
        <span style={{ background: heatColor(Math.SQRT1_2) }}>better</span>
        <span style={{ background: heatColor(1) }}>1.00× as learned</span>
        <span style={{ background: heatColor(Math.SQRT2) }}>worse (forgotten)</span>
      </p>
    </div>
  );
}
