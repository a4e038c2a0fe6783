/**
 * The Gallery section: every image made on this device, with its parameters whole and copyable;
 * a full-size viewer; search, sort and multi-select (zip download, delete); reuse, download, delete.
 */
import { useEffect, useState } from 'react';
import { useStudio } from '../store';
import { useGenerate } from '../generate/generate-store';
import { downloadName, loadGallery, removeImage, useGallery, type GalleryItem } from './gallery-state';
import type { ImageParameters } from '../../storage/png/parameters';
import { samplingDraftFrom } from '../generate/sampling-draft';
import { restoreEdit, sendToEdit } from './gallery-edit';
import { clearEdit, useEdit } from '../generate/edit-store';
import type { GalleryRecord } from '../../storage/gallery/record';
import { CopyButton } from './CopyButton';
import { FullSizeViewer } from './FullSizeViewer';
import { GalleryTools } from './GalleryTools';
import { clickSelection, shownRecords } from './gallery-view';
import { parametersText } from './parameters-text';
import { reuseSceneImage, SceneSnapshot } from './SceneSnapshot';
import { reasonOf } from '../plain-error';
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
  if (r.edit) void restoreEdit(r).catch((err: unknown) => useGallery.setState({ error: `The edit's init image could not be read: ${reasonOf(err)}` }));
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
  const [viewing, setViewing] = useState(false);
  const [text, setText] = useState<string | null>(null);
  const [copyNote, setCopyNote] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setText(null);
    setCopyNote(null);
    void parametersText(r).then((t) => live && setText(t));
    return () => {
      live = false;
    };
  }, [r]);
  const copyProps = { onRefused: setCopyNote, onCopied: () => setCopyNote(null) };
  const rows: [string, string][] = [
    ['Seed', String(p.seed)],
    ['Size', `${p.width}×${p.height}`],
    ['Steps', String(p.steps)],
    ['CFG', String(p.guidanceScale)],
    ['Sampler', SAMPLER[p.scheduler] ?? p.scheduler],
    ...(p.denoisingStrength !== undefined ? ([['Denoising strength', String(p.denoisingStrength)]] as [string, string][]) : []),
    ...(p.maskBlur !== undefined ? ([['Mask blur', String(p.maskBlur)]] as [string, string][]) : []),
    ['Model', p.model ?? r.modelId],
    ['Precision', r.packedWeights ? `${r.dtype} math, f16 weights packed in pairs` : r.f16Math ? 'f16 storage, f16 math' : r.dtype],
    ['Made', new Date(r.createdAt).toLocaleString()],
  ];
  return (
    <section className="card gal-detail" aria-label="Image details" data-testid="gal-detail">
      <button type="button" className="gal-detail-open" onClick={() => setViewing(true)} aria-label="View full size" title="View full size (zoom and pan)" data-testid="gal-detail-open">
        <img src={item.url} alt={p.prompt} className="gal-detail-img" />
      </button>
      {viewing && <FullSizeViewer url={item.url} width={p.width} height={p.height} prompt={p.prompt} onClose={() => setViewing(false)} />}
      <div className="gal-detail-body">
        <div className="gal-param">
          <div className="gal-param-head">
            <span className="gal-param-label">Prompt</span>
            <CopyButton text={p.prompt} label="Copy" ariaLabel="Copy prompt" className="btn btn-small" testId="gal-copy-prompt" {...copyProps} />
          </div>
          <p className="gal-prompt" data-testid="gal-prompt">{p.prompt || <em className="muted">(no prompt)</em>}</p>
        </div>
        {p.negativePrompt && (
          <div className="gal-param">
            <div className="gal-param-head">
              <span className="gal-param-label">Negative prompt</span>
              <CopyButton text={p.negativePrompt} label="Copy" ariaLabel="Copy negative prompt" className="btn btn-small" testId="gal-copy-negative" {...copyProps} />
            </div>
            <p className="gal-prompt gal-negative" data-testid="gal-negative">{p.negativePrompt}</p>
          </div>
        )}
        <dl className="facts gal-facts">
          {rows.map(([k, v]) => (
            <div className={`fact${k === 'Seed' ? ' gal-fact-seed' : ''}`} key={k}>
              <dt>{k}</dt>
              <dd className="value">
                {v}
                {k === 'Seed' && <CopyButton text={v} label="Copy" ariaLabel="Copy seed" className="btn btn-small gal-copy-inline" testId="gal-copy-seed" {...copyProps} />}
              </dd>
            </div>
          ))}
        </dl>
        <details className="gal-raw">
          <summary className="small">Parameters text (as the PNG carries it)</summary>
          <pre data-testid="gal-parameters-text">{text ?? 'Reading…'}</pre>
        </details>
        {copyNote && (
          <p className="callout callout-warn gal-copy-note" role="alert" data-testid="gal-copy-note">
            {copyNote}
          </p>
        )}
        <EditInputs record={r} />
        <SceneSnapshot record={r} />
        <div className="gal-actions">
          <button type="button" className="btn btn-primary" data-testid="gal-reuse" onClick={() => reuseRecord(r)}>
            Reuse parameters
          </button>
          <button type="button" className="btn" data-testid="gal-view" onClick={() => setViewing(true)}>
            View full size
          </button>
          <CopyButton text={text} label="Copy all" ariaLabel="Copy all parameters (A1111 text)" testId="gal-copy-all" {...copyProps} />
          <button
            type="button"
            className="btn"
            data-testid="gal-send-edit"
            title="Start an image to image, inpaint or outpaint from this image"
            onClick={() => void sendToEdit(r).then(() => useStudio.getState().setSection('generate'), (err: unknown) => useGallery.setState({ error: `The image could not be read: ${reasonOf(err)}` }))}
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
  const { items, loaded, selectedId, select, error, unreadable, query, order, checked, anchorId } = useGallery();
  useEffect(() => {
    if (!loaded) void loadGallery();
  }, [loaded]);
  const selected = items.find((i) => i.record.id === selectedId) ?? null;
  const shown = shownRecords(items, query, order);
  const shownIds = shown.map((it) => it.record.id);
  const checkedSet = new Set(checked);
  const tick = (id: string, shift: boolean) =>
    useGallery.setState({ checked: clickSelection(checked, shownIds, id, anchorId, shift), anchorId: shift && anchorId !== null ? anchorId : id });
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
      {items.length > 0 && <GalleryTools shown={shown} />}
      {items.length > 0 && shown.length === 0 && (
        <p className="muted" data-testid="gal-no-match">
          No image’s prompt or negative prompt contains “{query}”.
        </p>
      )}
      <ul className="gal-grid" data-testid="gal-grid">
        {shown.map((it) => {
          const id = it.record.id;
          const ticked = checkedSet.has(id);
          return (
            <li key={id} className={`gal-tile${ticked ? ' is-checked' : ''}`}>
              <button type="button" className={`gal-thumb${id === selectedId ? ' is-selected' : ''}`} onClick={() => select(id)} title={it.record.params.prompt} data-testid="gal-item">
                <img src={it.url} alt={it.record.params.prompt} loading="lazy" style={{ aspectRatio: `${it.record.params.width} / ${it.record.params.height}` }} />
              </button>
              <label className="gal-check" title="Select (Shift-click selects a range)">
                <input
                  type="checkbox"
                  checked={ticked}
                  aria-label={`Select image: ${it.record.params.prompt || 'no prompt'} (seed ${it.record.params.seed})`}
                  onChange={() => undefined /* the click below decides: it knows about Shift */}
                  onClick={(e) => tick(id, e.shiftKey)}
                  data-testid="gal-check"
                />
              </label>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
