/**
 * The storage view: the browser's estimate (used, quota, available) as a bar split by concern, then
 * each concern with what it holds and its clean-up. Every destructive action asks first (what goes,
 * and that it cannot be undone), and the reading is taken again after it.
 */
import { usageSegments, usedFraction, type CollectionUsage, type ModelUsage } from '../../storage/usage';
import { formatBytes } from '../format';
import { clearGallery, clearScenes, deleteStoredModel, useSettings } from './settings-store';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function Estimate() {
  const usage = useSettings((s) => s.usage);
  const est = usage?.estimate;
  if (!usage) return <p className="muted small">Reading storage…</p>;
  if (!est) return <p className="muted small" data-testid="storage-estimate">This browser does not say how much it stores for the studio.</p>;
  const segs = usageSegments(est.usage, est.quota, { models: usage.modelsBytes, gallery: usage.gallery.bytes, scenes: usage.scenes.bytes });
  return (
    <div className="storage-estimate" data-testid="storage-estimate" data-usage={est.usage} data-quota={est.quota}>
      <dl className="storage-totals">
        <div><dt>Used</dt><dd className="num" data-testid="storage-used">{formatBytes(est.usage)}</dd></div>
        <div><dt>Quota</dt><dd className="num" data-testid="storage-quota">{formatBytes(est.quota)}</dd></div>
        <div><dt>Available</dt><dd className="num" data-testid="storage-free">{formatBytes(est.available)}</dd></div>
        <div><dt>Share used</dt><dd className="num">{(usedFraction(est.usage, est.quota) * 100).toFixed(usedFraction(est.usage, est.quota) < 0.01 ? 2 : 1)}%</dd></div>
      </dl>
      <div className="usage-bar" role="img" aria-label={segs.map((s) => `${s.label} ${formatBytes(s.bytes)}`).join(', ')}>
        {segs.map((s) => <span key={s.key} className={`usage-seg seg-${s.key}`} style={{ width: `${s.fraction * 100}%` }} />)}
      </div>
      <ul className="usage-legend small">
        {segs.map((s) => (
          <li key={s.key}><span className={`legend-dot seg-${s.key}`} />{s.label} <span className="num muted">{formatBytes(s.bytes)}</span></li>
        ))}
      </ul>
      <p className="small muted">The browser's estimate for this site (models, images, scenes, concepts, settings and the app itself); it may lag a little behind changes.</p>
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

export function StorageView() {
  const usage = useSettings((s) => s.usage);
  const outcome = useSettings((s) => s.outcome);
  const loading = useSettings((s) => s.loading);
  return (
    <section className="card settings-card" aria-labelledby="storage-title" data-testid="storage-view" data-loading={loading}>
      <h2 className="settings-h2" id="storage-title">Storage on this device</h2>
      <Estimate />
      {usage?.problems.map((p) => <p key={p} className="small warn-text">{p}</p>)}
      {outcome && (
        <p className={`small ${outcome.ok ? 'ok-text' : 'import-input-error'}`} role="status" data-testid="storage-outcome">{outcome.text}</p>
      )}
      {usage && (
        <>
          <div className="storage-group" data-testid="storage-models" data-bytes={usage.modelsBytes}>
            <div className="storage-group-head">
              <h3>Models</h3>
              <span className="small muted num">{plural(usage.models.length, 'model')} · {formatBytes(usage.modelsBytes)}</span>
            </div>
            {usage.models.length === 0 ? (
              <p className="small muted">No models stored. Import one on the Models page.</p>
            ) : (
              <ul className="storage-rows">{usage.models.map((m) => <ModelRow key={m.id} m={m} />)}</ul>
            )}
          </div>
          <Collection id="gallery" title="Gallery" noun="image" c={usage.gallery} what="The images you generated, each a PNG with its parameters." onClear={() => void clearGallery()} />
          <Collection id="scenes" title="Scenes" noun="scene" c={usage.scenes} what="Saved scenes: their layers, prompts and painted masks." onClear={() => void clearScenes()} />
        </>
      )}
    </section>
  );
}
