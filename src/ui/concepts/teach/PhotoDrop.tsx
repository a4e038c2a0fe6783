/**
 * Where photos come in: a drop zone that is also a file picker, the photos as small squares (their
 * crops; a dot when a mask is painted) to open or remove, and what was refused, by file name.
 */
import { useEffect, useRef, useState } from 'react';
import { MAX_PHOTOS, MIN_PHOTOS, PHOTO_TYPES } from './validation';
import type { TeachPhoto } from './photos';
import { addPhotos, removePhoto, useTeach } from './teach-store';

function Thumb({ photo, selected }: { photo: TeachPhoto; selected: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    if (!g) return;
    const c = photo.crop;
    g.drawImage(photo.bitmap, c.x, c.y, c.size, c.size, 0, 0, 88, 88);
  }, [photo.bitmap, photo.crop]);
  return (
    <li className={`cc-thumb${selected ? ' is-selected' : ''}`}>
      <button type="button" className="cc-thumb-open" aria-label={`Open ${photo.name}`} aria-pressed={selected} title={photo.name} data-testid="teach-photo" onClick={() => useTeach.setState({ selectedId: photo.id })}>
        <canvas ref={ref} width={88} height={88} />
        {photo.mask && <span className="cc-thumb-mask" title="Mask painted" data-testid="teach-photo-masked" />}
      </button>
      <button type="button" className="cc-thumb-remove" aria-label={`Remove ${photo.name}`} onClick={() => removePhoto(photo.id)}>×</button>
    </li>
  );
}

export function PhotoDrop() {
  const photos = useTeach((s) => s.photos);
  const refused = useTeach((s) => s.refused);
  const note = useTeach((s) => s.dropNote);
  const selectedId = useTeach((s) => s.selectedId);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const take = async (files: File[]) => {
    setBusy(true);
    try {
      await addPhotos(files);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="cc-photos">
      <div
        className={`cc-drop${over ? ' is-over' : ''}${photos.length ? ' is-compact' : ''}`}
        data-testid="teach-drop"
        onDragOver={(e) => {
          e.preventDefault();
          e.stopPropagation();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          e.stopPropagation(); // the studio's PNG drop (png-drop.ts) must not take these photos
          setOver(false);
          void take([...e.dataTransfer.files]);
        }}
      >
        <p className="cc-drop-title">{busy ? 'Reading photos…' : photos.length ? 'Drop more photos, or' : `Drop ${MIN_PHOTOS}–${MAX_PHOTOS} photos of your subject here, or`}</p>
        <button type="button" className="btn" onClick={() => input.current?.click()} disabled={busy || photos.length >= MAX_PHOTOS}>Choose photos…</button>
        <input ref={input} type="file" multiple hidden accept={PHOTO_TYPES.join(',')} data-testid="teach-file" onChange={(e) => {
          void take([...(e.target.files ?? [])]);
          e.target.value = '';
        }} />
        {!photos.length && <p className="small muted">PNG, JPEG or WebP. Different angles, light and backgrounds teach the subject, not the room. Photos stay on this device.</p>}
      </div>
      {refused.length > 0 && (
        <ul className="cc-refused" data-testid="teach-refused" aria-label="Refused files">
          {refused.map((r) => (
            <li key={r.name}><strong>{r.name}</strong> was not added: {r.why}.</li>
          ))}
        </ul>
      )}
      {note && <p className="small warn-text">{note}</p>}
      {photos.length > 0 && (
        <>
          <ul className="cc-thumbs" aria-label="Training photos">
            {photos.map((p) => <Thumb key={p.id} photo={p} selected={p.id === selectedId} />)}
          </ul>
          <p className="small muted" data-testid="teach-count">{photos.length} of {MAX_PHOTOS} photos{photos.some((p) => p.mask) ? `, ${photos.filter((p) => p.mask).length} with a mask` : ''}</p>
        </>
      )}
    </div>
  );
}
