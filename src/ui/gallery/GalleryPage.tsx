/** The Gallery section: every image made on this device, with its parameters; reuse, download, delete. */
import { useEffect, useState } from 'react';
import { useStudio } from '../store';
import { useGenerate } from '../generate/generate-store';
import { downloadName, loadGallery, removeImage, useGallery, type GalleryItem } from './gallery-state';
import type { ImageParameters } from '../../storage/png/parameters';
import { samplingDraftFrom } from '../generate/sampling-draft';
import { restoreEdit, sendToEdit } from './gallery-edit';
import { clearEdit, useEdit } from '../generate/edit-store';
import type { GalleryRecord } from '../../storage/gallery/record';
import { reuseSceneImage, SceneSnapshot } from './SceneSnapshot';
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

/** "Reuse": the parameters and, for an edit, its init image, mask, strength and outpainting (else text to image). */
function reuseRecord(r: GalleryRecord): void {
  // a scene image: its scene, on the Scenes page (SceneSnapshot.tsx)
  if (r.scene) return reuseSceneImage(r);
  reuseParameters(r.params);
  if (r.edit) void restoreEdit(r).catch((err: unknown) => useGallery.setState({ error: `The edit's init image could not be read: ${(err as Error).message}` }));
  else clearEdit();
  // the concepts' style strengths (1 for every concept the record does not list)
  useEdit.setState({ conceptStrength: { ...(r.conceptStrength ?? {}) } });
}

/** The init image and mask an edited image started from (object URLs for as long as it is shown). */
function EditInputs({ record }: { record: GalleryRecord }) {
  const [urls, setUrls] = useState<{ init: string; mask: string | null } | null>(null);
  useEffect(() => {
    const e = record.edit;
    if (!e) return setUrls(null);
    const u = { init: URL.createObjectURL(e.init), mask: e.mask ? URL.createObjectURL(e.mask) : null };
    setUrls(u);
    return () => {
      URL.revokeObjectURL(u.init);
      if (u.mask) URL.revokeObjectURL(u.mask);
    };
  }, [record]);
  const e = record.edit;
  if (!e || !urls) return null;
  return (
    <div className="gal-edit" data-testid="gal-edit">
      <figure>
        <img src={urls.init} alt="Init image" data-testid="gal-edit-init" />
        <figcaption className="small muted">Init image · strength {e.strength}</figcaption>
      </figure>
      {urls.mask && (
        <figure>
          <img src={urls.mask} alt="Inpaint mask" data-testid="gal-edit-mask" />
          <figcaption className="small muted">Mask{e.keepOutside ? ' · outside kept' : ''}</figcaption>
        </figure>
      )}
      {e.outpaint && <p className="small muted">Outpainted {e.outpaint.join(', ')} px (left, top, right, bottom)</p>}
    </div>
  );
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
    ...(p.denoisingStrength !== undefined ? ([['Denoising strength', String(p.denoisingStrength)]] as [string, string][]) : []),
    ...(p.maskBlur !== undefined ? ([['Mask blur', String(p.maskBlur)]] as [string, string][]) : []),
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
        <EditInputs record={r} />
        <SceneSnapshot record={r} />
        <div className="gal-actions">
          <button type="button" className="btn btn-primary" data-testid="gal-reuse" onClick={() => reuseRecord(r)}>
            Reuse parameters
          </button>
          <button
            type="button"
            className="btn"
            data-testid="gal-send-edit"
            title="Start an image to image, inpaint or outpaint from this image"
            onClick={() => void sendToEdit(r).then(() => useStudio.getState().setSection('generate'), (err: unknown) => useGallery.setState({ error: `The image could not be read: ${(err as Error).message}` }))}
          >
            Send to edit
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
