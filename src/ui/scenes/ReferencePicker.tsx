/** Pick a gallery image to paint over (shown under the masks; sent to the generation only as an init image, when asked). */
import { useEffect, useState } from 'react';
import { listImages } from '../../storage/gallery/gallery-store';
import { resizeCurrentScene, setSceneFields, useScenes } from './scene-store';
import { SceneInitToggle } from './SceneInitToggle';
import { reasonOf } from '../plain-error';

interface Thumb {
  id: string;
  url: string;
  prompt: string;
  width: number;
  height: number;
}

export function ReferencePicker() {
  const refId = useScenes((s) => s.doc.scene.referenceImageId);
  const scene = useScenes((s) => s.doc.scene);
  const [open, setOpen] = useState(false);
  const [thumbs, setThumbs] = useState<Thumb[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    let live = true;
    const urls: string[] = [];
    listImages()
      .then(({ images }) => {
        if (!live) return;
        setThumbs(images.map((r) => {
          const url = URL.createObjectURL(r.png);
          urls.push(url);
          return { id: r.id, url, prompt: r.params.prompt, width: r.params.width, height: r.params.height };
        }));
      })
      .catch((err: unknown) => live && setError(`The gallery could not be read: ${reasonOf(err)}`));
    return () => {
      live = false;
      urls.forEach((u) => URL.revokeObjectURL(u));
    };
  }, [open]);
  const current = thumbs?.find((t) => t.id === refId);
  const sizeDiffers = current && (current.width !== scene.width || current.height !== scene.height);
  return (
    <section className="card sc-card" aria-label="Reference image">
      <div className="sc-card-head">
        <h2 className="card-title">Reference image</h2>
        <button type="button" className="btn sc-btn-sm" aria-expanded={open} data-testid="sc-ref-toggle" onClick={() => setOpen(!open)}>
          {open ? 'Close' : refId ? 'Change' : 'Pick from gallery'}
        </button>
      </div>
      {!open && <p className="muted small">{refId ? 'A gallery image is shown under the masks.' : 'Optional: paint the regions over an image from the gallery.'}</p>}
      {open && error && <p className="small sc-warn">{error}</p>}
      {open && thumbs?.length === 0 && <p className="muted small">The gallery is empty.</p>}
      {open && thumbs && thumbs.length > 0 && (
        <ul className="sc-ref-grid" data-testid="sc-ref-grid">
          {thumbs.map((t) => (
            <li key={t.id}>
              <button type="button" className={`sc-ref-thumb${t.id === refId ? ' is-selected' : ''}`} aria-pressed={t.id === refId} aria-label={`Use “${t.prompt || t.id}” as the reference`} onClick={() => setSceneFields({ referenceImageId: t.id })}>
                <img src={t.url} alt="" />
              </button>
            </li>
          ))}
        </ul>
      )}
      {refId && (
        <div className="sc-actions">
          <button type="button" className="btn sc-btn-sm" data-testid="sc-ref-clear" onClick={() => setSceneFields({ referenceImageId: undefined })}>
            No reference
          </button>
          {sizeDiffers && current && current.width % 8 === 0 && current.height % 8 === 0 && (
            <button type="button" className="btn sc-btn-sm" title={`The image is ${current.width}×${current.height}; it is stretched to the scene`} onClick={() => resizeCurrentScene(current.width, current.height)}>
              Use its size ({current.width}×{current.height})
            </button>
          )}
        </div>
      )}
      {refId && <SceneInitToggle />}
    </section>
  );
}
