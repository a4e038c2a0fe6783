/** The Gallery section: every image made on this device, with its parameters; reuse, download, delete. */
import { useEffect } from 'react';
import { useStudio } from '../store';
import { useGenerate } from '../generate/generate-store';
import { downloadName, loadGallery, removeImage, useGallery, type GalleryItem } from './gallery-state';
import type { ImageParameters } from '../../storage/png/parameters';
import { samplingDraftFrom } from '../generate/sampling-draft';
import './gallery.css';

const SAMPLER: Record<string, string> = { euler: 'Euler', euler_ancestral: 'Euler a', ddim: 'DDIM', dpmpp_2m: 'DPM++ 2M', dpmpp_2m_karras: 'DPM++ 2M Karras' };

/** Puts an image's parameters back into the Generate panel (seed locked, so the same image comes out). */
export function reuseParameters(p: ImageParameters): void {
  useGenerate.getState().setDraft({
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    width: p.width,
    height: p.height,
    steps: p.steps,
    guidanceScale: p.guidanceScale,
    scheduler: p.scheduler,
    seed: p.seed,
    seedLocked: true,
    ...samplingDraftFrom(p),
    // no "RNG: CPU" in the text: the studio's own noise (what the studio wrote; another tool's GPU noise cannot be made here)
    noiseSource: p.noiseSource ?? 'studio',
  });
  useStudio.getState().setSection('generate');
}

function Detail({ item }: { item: GalleryItem }) {
  const r = item.record;
  const p = r.params;
  const rows: [string, string][] = [
    ['Seed', String(p.seed)],
    ['Size', `${p.width}×${p.height}`],
    ['Steps', String(p.steps)],
    ['CFG', String(p.guidanceScale)],
    ['Sampler', SAMPLER[p.scheduler] ?? p.scheduler],
    ['Model', p.model ?? r.modelId],
    ['Precision', r.dtype],
    ['Made', new Date(r.createdAt).toLocaleString()],
  ];
  return (
    <section className="card gal-detail" aria-label="Image details" data-testid="gal-detail">
      <img src={item.url} alt={p.prompt} className="gal-detail-img" />
      <div className="gal-detail-body">
        <p className="gal-prompt" data-testid="gal-prompt">{p.prompt || <em className="muted">(no prompt)</em>}</p>
        {p.negativePrompt && <p className="small muted">Negative: {p.negativePrompt}</p>}
        <dl className="facts">
          {rows.map(([k, v]) => (
            <div className="fact" key={k}>
              <dt>{k}</dt>
              <dd className="value">{v}</dd>
            </div>
          ))}
        </dl>
        <div className="gal-actions">
          <button type="button" className="btn btn-primary" data-testid="gal-reuse" onClick={() => reuseParameters(p)}>
            Reuse parameters
          </button>
          <a className="btn" href={item.url} download={downloadName(r)} data-testid="gal-download">
            Download PNG
          </a>
          <button
            type="button"
            className="btn"
            data-testid="gal-delete"
            onClick={() => {
              if (window.confirm('Delete this image from the gallery? This cannot be undone.')) void removeImage(r.id);
            }}
          >
            Delete
          </button>
        </div>
      </div>
    </section>
  );
}

export function GalleryPage() {
  const { items, loaded, selectedId, select, error, unreadable } = useGallery();
  useEffect(() => {
    if (!loaded) void loadGallery();
  }, [loaded]);
  const selected = items.find((i) => i.record.id === selectedId) ?? null;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Gallery</h1>
        <p className="lede">
          {items.length} image{items.length === 1 ? '' : 's'}, kept in this browser. Drop a PNG from any SD tool on the studio to load its parameters.
        </p>
      </header>
      {error && <div className="callout callout-bad" role="alert"><p>{error}</p></div>}
      {unreadable.length > 0 && <div className="callout callout-warn"><p>{unreadable.length} entries could not be read and were left untouched.</p></div>}
      {selected && <Detail item={selected} />}
      {loaded && items.length === 0 && <p className="muted">Nothing yet: images you generate appear here.</p>}
      <ul className="gal-grid" data-testid="gal-grid">
        {items.map((it) => (
          <li key={it.record.id}>
            <button type="button" className={`gal-thumb${it.record.id === selectedId ? ' is-selected' : ''}`} onClick={() => select(it.record.id)} title={it.record.params.prompt} data-testid="gal-item">
              <img src={it.url} alt={it.record.params.prompt} loading="lazy" style={{ aspectRatio: `${it.record.params.width} / ${it.record.params.height}` }} />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
