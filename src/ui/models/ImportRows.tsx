/** One row per import started in this tab: progress (bytes, %, rate, time left), Cancel, and the outcome. */
import { formatBytes } from '../format';
import { IconAlert } from '../Icons';
import { formatDuration, percent } from '../../storage/models/progress';
import { useStudio } from '../store';
import { cancelImport } from './actions';
import type { ImportRow } from './models-slice';

const PHASE: Record<string, string> = {
  planning: 'Looking up the files…',
  'checking-space': 'Checking storage space…',
  transferring: 'Transferring',
  verifying: 'Verifying the model…',
  done: 'Verified',
};

function Progress({ row }: { row: ImportRow }) {
  const p = row.progress;
  if (!p) return <p className="small muted">Starting…</p>;
  const pct = percent(p.bytesDone, p.bytesTotal);
  const figures = [
    `${formatBytes(p.bytesDone)}${p.bytesTotal !== null ? ` of ${formatBytes(p.bytesTotal)}` : ''}`,
    pct !== null ? `${pct}%` : null,
    row.state === 'running' && p.rate > 0 ? `${formatBytes(Math.round(p.rate))}/s` : null,
    row.state === 'running' && p.etaSeconds !== null && p.phase === 'transferring' ? `${formatDuration(p.etaSeconds)} left` : null,
  ].filter(Boolean);
  return (
    <>
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined} aria-label={`Import of ${row.label}`}>
        <div className="bar-fill" style={{ width: `${pct ?? 0}%` }} />
      </div>
      <p className="import-figures small">
        <span className="num" data-testid="import-figures">{figures.join(' · ')}</span>
        {row.state === 'running' && (
          <span className="muted">
            {PHASE[p.phase]}
            {p.phase === 'transferring' && p.currentFile ? ` ${p.currentFile}` : ''}
          </span>
        )}
      </p>
      {row.state === 'running' && p.retry && (
        <p className="small warn-text">The connection dropped during {p.retry.file}; retry {p.retry.attempt} in {Math.ceil(p.retry.delayMs / 1000)} s, continuing from the bytes already here.</p>
      )}
    </>
  );
}

function Row({ row }: { row: ImportRow }) {
  const dismiss = useStudio((s) => s.dismissImport);
  const status =
    row.state === 'running' ? 'Importing' : row.state === 'done' ? 'Imported and verified' : row.state === 'cancelled' ? 'Cancelled' : 'Failed';
  return (
    <li className={`import-row is-${row.state}`} data-testid="import-row" data-state={row.state} data-model-id={row.modelId ?? ''}>
      <div className="import-head">
        <div className="import-name">
          <span className="strong">{row.label}</span>
          <span className={`status status-${row.state}`}>{status}</span>
        </div>
        {row.state === 'running' ? (
          <button type="button" className="btn btn-small" data-testid="import-cancel" onClick={() => cancelImport(row.job)}>Cancel</button>
        ) : (
          <button type="button" className="btn btn-small btn-quiet" onClick={() => dismiss(row.job)}>Dismiss</button>
        )}
      </div>
      <Progress row={row} />
      {row.state === 'cancelled' && (
        <p className="small muted">The bytes copied so far are kept: Resume it in the list below{row.resumable === 'pick-again' ? ' (you will choose the same file again)' : ''}.</p>
      )}
      {row.state === 'failed' && row.error && (
        <div className="callout callout-bad import-error" role="alert" data-testid="import-error" data-code={row.error.code}>
          <IconAlert />
          <div>
            <p className="strong">{row.error.title}</p>
            <p>{row.error.message}</p>
          </div>
        </div>
      )}
    </li>
  );
}

export function ImportRows() {
  const rows = useStudio((s) => s.imports);
  if (rows.length === 0) return null;
  return (
    <section className="card" aria-labelledby="imports-title">
      <h2 id="imports-title" className="card-title">Imports</h2>
      <ul className="import-list">{rows.slice().reverse().map((r) => <Row key={r.job} row={r} />)}</ul>
    </section>
  );
}
