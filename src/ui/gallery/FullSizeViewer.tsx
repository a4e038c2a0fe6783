/**
 * The full-size viewer: a modal dialog over the studio with the image at 100% (or "Fit"), zoom by
 * buttons, +/− keys and Ctrl+wheel (closing in on the cursor), pan by dragging, the arrow keys or the
 * scroll bars. Esc closes it and focus goes back to whatever opened it.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { createPortal } from 'react-dom';
import { fitZoom, scrollKeepingPoint, zoomIn, zoomLabel, zoomOut } from './zoom';

interface Props {
  url: string;
  width: number;
  height: number;
  /** The image's prompt: its accessible name and the alt text. */
  prompt: string;
  onClose(): void;
}

const FIT_MARGIN = 16;
const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

export function FullSizeViewer({ url, width, height, prompt, onClose }: Props) {
  const dialogRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<HTMLDivElement>(null);
  const [zoom, setZoom] = useState(1);
  const [fit, setFit] = useState(false);
  const [view, setView] = useState({ width: 0, height: 0 });
  const [dragging, setDragging] = useState(false);
  const drag = useRef<{ x: number; y: number; left: number; top: number } | null>(null);
  const pendingScroll = useRef<{ left: number; top: number } | null>(null);

  // "Fit" leaves a margin round the image so its edges can be seen against the backdrop
  const scale = fit ? fitZoom({ width, height }, { width: view.width - 2 * FIT_MARGIN, height: view.height - 2 * FIT_MARGIN }) : zoom;
  const shown = { width: Math.round(width * scale), height: Math.round(height * scale) };
  const pannable = shown.width > view.width + 1 || shown.height > view.height + 1;
  const scaleRef = useRef(scale);
  scaleRef.current = scale;

  // the opener gets focus back when the viewer closes (Esc, Close, or the image going away)
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    viewRef.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  useLayoutEffect(() => {
    const v = viewRef.current;
    if (!v) return;
    const measure = () => setView({ width: v.clientWidth, height: v.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(v);
    return () => ro.disconnect();
  }, []);

  // after a zoom, scroll so the point it closed in on stays where it was
  useLayoutEffect(() => {
    const v = viewRef.current;
    const p = pendingScroll.current;
    if (!v || !p) return;
    v.scrollLeft = p.left;
    v.scrollTop = p.top;
    pendingScroll.current = null;
  }, [scale]);

  /** Zooms to `next`, keeping the image point under `pointer` (view coordinates; default the centre) in place. */
  const zoomTo = (next: number, pointer?: { x: number; y: number }) => {
    const v = viewRef.current;
    const from = scaleRef.current;
    if (v && next !== from) {
      const px = pointer?.x ?? v.clientWidth / 2;
      const py = pointer?.y ?? v.clientHeight / 2;
      const margin = (viewSize: number, imageSize: number, z: number) => Math.max(0, (viewSize - imageSize * z) / 2);
      pendingScroll.current = {
        left: scrollKeepingPoint(v.scrollLeft, px, from, next, margin(v.clientWidth, width, from), margin(v.clientWidth, width, next)),
        top: scrollKeepingPoint(v.scrollTop, py, from, next, margin(v.clientHeight, height, from), margin(v.clientHeight, height, next)),
      };
    }
    setFit(false);
    setZoom(next);
  };
  const zoomToRef = useRef(zoomTo);
  zoomToRef.current = zoomTo;

  // Ctrl+wheel (and a trackpad's pinch, which browsers send as one) zooms instead of zooming the page;
  // React's wheel listener is passive, so this one is added by hand to be allowed to prevent that
  useEffect(() => {
    const v = viewRef.current;
    if (!v) return;
    const onWheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      const r = v.getBoundingClientRect();
      const z = scaleRef.current;
      zoomToRef.current(e.deltaY < 0 ? zoomIn(z) : zoomOut(z), { x: e.clientX - r.left, y: e.clientY - r.top });
    };
    v.addEventListener('wheel', onWheel, { passive: false });
    return () => v.removeEventListener('wheel', onWheel);
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.ctrlKey || e.metaKey || e.altKey) {
      return; // the browser's own shortcuts (page zoom, …) stay theirs
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      zoomTo(zoomIn(scale));
    } else if (e.key === '-' || e.key === '_') {
      e.preventDefault();
      zoomTo(zoomOut(scale));
    } else if (e.key === '0') {
      e.preventDefault();
      zoomTo(1);
    } else if (e.key === 'f' || e.key === 'F') {
      e.preventDefault();
      setFit((f) => !f);
    } else if (e.key === 'Tab') {
      // focus stays inside the dialog while it is open
      const items = Array.from(dialogRef.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? []).filter((el) => !el.hasAttribute('disabled'));
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    const v = viewRef.current;
    if (!v || e.button !== 0 || !pannable) return;
    v.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, left: v.scrollLeft, top: v.scrollTop };
    setDragging(true);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const v = viewRef.current;
    const d = drag.current;
    if (!v || !d) return;
    v.scrollLeft = d.left - (e.clientX - d.x);
    v.scrollTop = d.top - (e.clientY - d.y);
  };
  const endDrag = () => {
    drag.current = null;
    setDragging(false);
  };

  return createPortal(
    <div className="gal-viewer" role="dialog" aria-modal="true" aria-label={`Full-size image: ${prompt || 'no prompt'}`} ref={dialogRef} onKeyDown={onKeyDown} data-testid="gal-viewer">
      <div className="gal-viewer-bar">
        <div className="gal-viewer-title">
          <span className="gal-viewer-prompt" title={prompt}>
            {prompt || 'No prompt'}
          </span>
          <span className="small muted">
            {width}×{height} px · {pannable ? 'drag to pan · ' : ''}Ctrl+wheel or +/− to zoom · Esc to close
          </span>
        </div>
        <div className="gal-viewer-zoom" role="group" aria-label="Zoom">
          <button type="button" className="btn" aria-pressed={fit} onClick={() => setFit((f) => !f)} title="Fit the whole image in the window (F)" data-testid="gal-viewer-fit">
            Fit
          </button>
          <button type="button" className="btn" aria-pressed={!fit && zoom === 1} onClick={() => zoomTo(1)} title="Actual pixels (0)" data-testid="gal-viewer-100">
            100%
          </button>
          <button type="button" className="btn gal-viewer-step" onClick={() => zoomTo(zoomOut(scale))} aria-label="Zoom out" title="Zoom out (−, or Ctrl+wheel)" data-testid="gal-viewer-out">
            −
          </button>
          <output className="gal-viewer-level" aria-live="polite" data-testid="gal-viewer-zoom">
            {zoomLabel(scale)}
          </output>
          <button type="button" className="btn gal-viewer-step" onClick={() => zoomTo(zoomIn(scale))} aria-label="Zoom in" title="Zoom in (+, or Ctrl+wheel)" data-testid="gal-viewer-in">
            +
          </button>
        </div>
        <button type="button" className="btn" onClick={onClose} title="Close (Esc)" data-testid="gal-viewer-close">
          Close
        </button>
      </div>
      <div
        className={`gal-viewer-view${pannable ? ' is-pannable' : ''}${dragging ? ' is-dragging' : ''}`}
        ref={viewRef}
        tabIndex={0}
        aria-label={pannable ? 'Image: drag or use the arrow keys to pan' : 'Image'}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        data-testid="gal-viewer-view"
      >
        <div className="gal-viewer-stage">
          <img
            src={url}
            alt={prompt}
            draggable={false}
            width={shown.width}
            height={shown.height}
            style={{ width: shown.width, height: shown.height, imageRendering: scale >= 2 ? 'pixelated' : 'auto' }}
            data-testid="gal-viewer-img"
          />
        </div>
      </div>
    </div>,
    document.body,
  );
}
