/**
 * The storage view: a table of every concern the studio stores (bytes and items each, measured by
 * walking it) whose "Studio total" is exactly the sum of its rows, beside the browser's estimate
 * (used, quota, available) and a bar split by concern; then the models (with "Clear failed imports"),
 * the gallery and the scenes with their clean-ups. The browser's estimate can lag behind, or leave
 * some storage out: the view then says so and calls used the larger of the two, so the bar never shows
 * more than "used". Every destructive action asks first (what goes, and that it cannot be undone), and
 * the reading is taken again after it.
 */
import { useStudio } from '../store';
import { clearableImports } from '../../storage/unfinished-imports';
import { storageSummary, type ConcernUsage } from '../../storage/usage-table';
import type { CollectionUsage, ModelUsage, StorageUsage } from '../../storage/usage';
import { formatBytes } from '../format';
import { clearConfirmText, runningImportIds } from '../models/clear-imports-text';
import { clearGallery, clearImports, clearScenes, deleteStoredModel, useSettings } from './settings-store';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const percent = (f: number) => `${(f * 100).toFixed(f < 0.01 ? 2 : 1)}%`;

function ConcernRow({ c }: { c: ConcernUsage }) {
  return (
    <tr data-testid="storage-concern" data-key={c.key} data-bytes={c.bytes} data-count={c.count} className={c.bytes === 0 ? 'is-empty' : undefined}>
      <th scope="row">
        <span className={`legend-dot seg-${c.key}`} />
        <span className="concern-label">{c.label}</span>
        <span className="concern-what small muted">{c.what}</span>
      </th>
      <td className="num">{c.count}</td>
      <td className="num">{formatBytes(c.bytes)}</td>
    </tr>
  );
}

function Estimate({ usage }: { usage: StorageUsage }) {
  const est = usage.estimate;
  const sum = storageSummary(est, usage.concerns);
  return (
    <div className="storage-estimate" data-testid="storage-estimate" data-usage={est?.usage} data-quota={est?.quota}>
      <dl className="storage-totals">
        <div><dt>Used</dt><dd className="num" data-testid="storage-used" data-bytes={sum.used}>{formatBytes(sum.used)}</dd></div>
        <div><dt>Quota</dt><dd className="num" data-testid="storage-quota">{est ? formatBytes(sum.quota) : 'Not reported'}</dd></div>
        <div><dt>Available</dt><dd className="num" data-testid="storage-free">{est ? formatBytes(sum.available) : 'Not reported'}</dd></div>
        <div><dt>Share used</dt><dd className="num">{est && sum.quota > 0 ? percent(sum.usedFraction) : '—'}</dd></div>
      </dl>
      {est && (
        <div className="usage-bar" role="img" aria-label={sum.segments.map((s) => `${s.label} ${formatBytes(s.bytes)}`).join(', ')}>
          {sum.segments.map((s) => <span key={s.key} className={`usage-seg seg-${s.key}`} style={{ width: `${s.fraction * 100}%` }} title={`${s.label}: ${formatBytes(s.bytes)}`} />)}
        </div>
      )}
      <table className="storage-table" data-testid="storage-table">
        <thead>
          <tr><th scope="col">What</th><th scope="col" className="num">Items</th><th scope="col" className="num">Size</th></tr>
        </thead>
        <tbody>{usage.concerns.map((c) => <ConcernRow key={c.key} c={c} />)}</tbody>
        <tfoot>
          <tr data-testid="storage-studio-total" data-bytes={sum.studioTotal}>
            <th scope="row">Studio total</th>
            <td className="num">{usage.concerns.reduce((a, c) => a + c.count, 0)}</td>
            <td className="num">{formatBytes(sum.studioTotal)}</td>
          </tr>
          {sum.browserUsage !== null && sum.browserUsage > sum.studioTotal && (
            <tr className="muted" data-testid="storage-overhead" data-bytes={sum.browserUsage - sum.studioTotal}>
              <th scope="row"><span className="legend-dot seg-unattributed" /><span className="concern-label">Browser overhead</span><span className="concern-what small">Counted by the browser beyond the studio's own data: database and file bookkeeping.</span></th>
              <td />
              <td className="num">{formatBytes(sum.browserUsage - sum.studioTotal)}</td>
            </tr>
          )}
        </tfoot>
      </table>
      {est ? (
        <p className={`small ${sum.browserLags ? 'warn-text' : 'muted'}`} data-testid="storage-browser" data-bytes={est.usage} data-lags={sum.browserLags}>
          {sum.browserLags
            ? `The browser's estimate lags behind; the studio counts ${formatBytes(sum.studioTotal)} (the browser says ${formatBytes(est.usage)}). "Used" above is the studio's count.`
            : `The browser's estimate for this site: ${formatBytes(est.usage)} used of ${formatBytes(est.quota)}. It may lag a little behind changes.`}
        </p>
      ) : (
        <p className="small muted" data-testid="storage-browser">This browser does not say how much it stores for the studio or how much it allows; "Used" is the studio's own count.</p>
      )}
    </div>
  );
}

function ModelRow({ m }: { m: ModelUsage }) {
  const busy = useSettings((s) => s.busy);
  const deleting = busy?.kind === 'model' && busy.id === m.id;
  const onDelete = () => {
    const what = m.state === 'verified' ? `the model “${m.name}”` : `the unfinished import of “${m.name}”`;
    if (window.confirm(`Delete ${what} and free ${formatBytes(m.bytes)}? You would have to import it again to use it.`)) void deleteStoredModel(m.id, m.name);
  };
  return (
    <li className="storage-row" data-testid="storage-model" data-model-id={m.id} data-bytes={m.bytes}>
      <span className="storage-row-name">
        <span className="strong">{m.name}</span>
        {m.state !== 'verified' && <span className="status status-cancelled">Incomplete</span>}
      </span>
      <span className="num" data-testid="storage-model-size">{formatBytes(m.bytes)}</span>
      <button type="button" className="btn btn-small btn-quiet" data-testid="storage-model-delete" disabled={busy !== null} onClick={onDelete}>
        {deleting ? 'Deleting…' : 'Delete'}
      </button>
    </li>
  );
}

function Collection(p: { id: 'gallery' | 'scenes'; title: string; noun: string; c: CollectionUsage; what: string; onClear(): void }) {
  const busy = useSettings((s) => s.busy);
  const total = p.c.count + p.c.unreadable;
  const clearing = busy?.kind === (p.id === 'gallery' ? 'images' : 'scenes');
  return (
    <div className="storage-group" data-testid={`storage-${p.id}`} data-count={p.c.count} data-bytes={p.c.bytes}>
      <div className="storage-group-head">
        <h3>{p.title}</h3>
        <span className="small muted">
          <span className="num" data-testid={`storage-${p.id}-count`}>{plural(p.c.count, p.noun)}</span>
          {p.c.unreadable > 0 && `, ${plural(p.c.unreadable, 'unreadable entry', 'unreadable entries')}`}
          {' · '}
          <span className="num" data-testid={`storage-${p.id}-bytes`}>{formatBytes(p.c.bytes)}</span>
        </span>
      </div>
      <p className="small muted">{p.what}</p>
      <button
        type="button"
        className="btn btn-small btn-danger"
        data-testid={`storage-${p.id}-clear`}
        disabled={busy !== null || total === 0}
        onClick={() => {
          const what = total === 1 ? `the only ${p.noun}` : `all ${total} ${p.noun}s`;
          if (window.confirm(`Delete ${what} (${formatBytes(p.c.bytes)})? This cannot be undone.`)) p.onClear();
        }}
      >
        {clearing ? 'Deleting…' : `Delete all ${p.noun}s`}
      </button>
    </div>
  );
}

/** "Clear failed imports": every unfinished import not running in this tab, after a confirmation with their count and bytes. */
function ClearImports({ models }: { models: readonly ModelUsage[] }) {
  const busy = useSettings((s) => s.busy);
  const rows = useStudio((s) => s.imports);
  const { imports, bytes } = clearableImports(models, runningImportIds(rows));
  if (imports.length === 0) return null;
  return (
    <button
      type="button"
      className="btn btn-small btn-danger"
      data-testid="clear-failed-imports"
      data-count={imports.length}
      data-bytes={bytes}
      disabled={busy !== null}
      onClick={() => {
        if (window.confirm(clearConfirmText(imports.length, bytes))) void clearImports(imports);
      }}
    >
      {busy?.kind === 'imports' ? 'Deleting…' : `Clear failed imports (${imports.length}, ${formatBytes(bytes)})`}
    </button>
  );
}

export function StorageView() {
  const usage = useSettings((s) => s.usage);
  const outcome = useSettings((s) => s.outcome);
  const loading = useSettings((s) => s.loading);
  const unfinished = usage?.models.filter((m) => m.state !== 'verified').length ?? 0;
  return (
    <section className="card settings-card" aria-labelledby="storage-title" data-testid="storage-view" data-loading={loading}>
      <h2 className="settings-h2" id="storage-title">Storage on this device</h2>
      {usage ? <Estimate usage={usage} /> : <p className="muted small">Reading storage…</p>}
      {usage?.problems.map((p) => <p key={p} className="small warn-text">{p}</p>)}
      {outcome && (
        <p className={`small ${outcome.ok ? 'ok-text' : 'import-input-error'}`} role="status" data-testid="storage-outcome">{outcome.text}</p>
      )}
      {usage && (
        <>
          <div className="storage-group" data-testid="storage-models" data-bytes={usage.modelsBytes}>
            <div className="storage-group-head">
              <h3>Models</h3>
              <span className="small muted num">
                {plural(usage.models.length - unfinished, 'model')}
                {unfinished > 0 && `, ${plural(unfinished, 'unfinished import')}`} · {formatBytes(usage.modelsBytes)}
              </span>
            </div>
            {usage.models.length === 0 ? (
              <p className="small muted">No models stored. Import one on the Models page.</p>
            ) : (
              <ul className="storage-rows">{usage.models.map((m) => <ModelRow key={m.id} m={m} />)}</ul>
            )}
            <ClearImports models={usage.models} />
          </div>
          <Collection id="gallery" title="Gallery" noun="image" c={usage.gallery} what="The images you generated, each a PNG with its parameters." onClear={() => void clearGallery()} />
          <Collection id="scenes" title="Scenes" noun="scene" c={usage.scenes} what="Saved scenes: their layers, prompts and painted masks." onClear={() => void clearScenes()} />
        </>
      )}
    </section>
  );
}
