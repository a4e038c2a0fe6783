/**
 * The open photo, square as it will be trained: in Crop mode drag to move the crop and use the wheel or
 * the slider to zoom; in Mask mode paint the subject with the Scenes editor's brush and eraser
 * (scenes/editor/tools.ts: the same strokes, dabs and compositing), fill, invert or clear it. The mask
 * lives over the whole photo (mask-paint.ts draws it), so moving the crop later keeps it on the subject.
 */
import { useEffect, useRef } from 'react';
import { beginGesture, finishGesture, moveGesture, type Gesture } from '../../scenes/editor/tools';
import { filledMask, invertMask } from '../../scenes/editor/raster';
import { createMaskCanvas, paintMask, type MaskCanvas } from '../../scenes/mask-paint';
import { cropInMask, cropZoom, MAX_CROP_ZOOM, panCrop, zoomCrop } from './crop';
import type { TeachPhoto } from './photos';
import { setCrop, updatePhoto, useTeach } from './teach-store';

const VIEW = 360;
const MASK_COLOR = '#ff4fa3';

function usePhotoCanvas(photo: TeachPhoto, maskCanvas: React.RefObject<MaskCanvas | null>) {
  const ref = useRef<HTMLCanvasElement>(null);
  const draw = () => {
    const c = ref.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    const { crop } = photo;
    g.clearRect(0, 0, VIEW, VIEW);
    g.imageSmoothingQuality = 'high';
    g.drawImage(photo.bitmap, crop.x, crop.y, crop.size, crop.size, 0, 0, VIEW, VIEW);
    const mc = maskCanvas.current;
    if (mc && photo.mask) {
      const m = cropInMask(crop, photo.maskW / photo.width);
      g.globalAlpha = 0.5;
      g.drawImage(mc.canvas, m.x, m.y, m.size, m.size, 0, 0, VIEW, VIEW);
      g.globalAlpha = 1;
    }
  };
  return { ref, draw };
}

export function PhotoEditor({ photo }: { photo: TeachPhoto }) {
  const mode = useTeach((s) => s.mode);
  const tool = useTeach((s) => s.maskTool);
  const brush = useTeach((s) => s.brushSize);
  const res = useTeach((s) => s.form.resolution);
  const mcRef = useRef<MaskCanvas | null>(null);
  const { ref, draw } = usePhotoCanvas(photo, mcRef);

  // the mask canvas follows the photo's mask (buffers are replaced, never written, so identity says when)
  if (!mcRef.current || mcRef.current.canvas.width !== photo.maskW || mcRef.current.canvas.height !== photo.maskH) mcRef.current = typeof document === 'undefined' ? null : createMaskCanvas(photo.maskW, photo.maskH);
  if (mcRef.current && photo.mask && mcRef.current.mask !== photo.mask) paintMask(mcRef.current, photo.mask, MASK_COLOR);
  useEffect(draw);

  const live = useRef<{ pointer: number; x: number; y: number; gesture: Gesture | null } | null>(null);
  const local = (el: Element, clientX: number, clientY: number) => {
    const r = el.getBoundingClientRect();
    return { u: (clientX - r.left) / r.width, v: (clientY - r.top) / r.height, scale: r.width / VIEW };
  };
  const toMask = (el: Element, clientX: number, clientY: number) => {
    const { u, v } = local(el, clientX, clientY);
    const k = photo.maskW / photo.width;
    return { x: (photo.crop.x + u * photo.crop.size) * k, y: (photo.crop.y + v * photo.crop.size) * k };
  };
  const maskPxPerView = (photo.crop.size * (photo.maskW / photo.width)) / VIEW;

  const onDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0 || live.current) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    let gesture: Gesture | null = null;
    if (mode === 'mask') {
      const base = photo.mask ?? filledMask(photo.maskW * photo.maskH, 0);
      const started = beginGesture(tool, { size: Math.max(1, brush * maskPxPerView), hardness: 0.85, subtract: false }, base, photo.maskW, photo.maskH, toMask(e.currentTarget, e.clientX, e.clientY));
      gesture = started.gesture;
      if (started.dirty && mcRef.current && gesture.kind === 'stroke') {
        paintMask(mcRef.current, gesture.stroke.out, MASK_COLOR, started.dirty);
        updatePhoto(photo.id, { mask: gesture.stroke.out.slice() });
      }
    }
    live.current = { pointer: e.pointerId, x: e.clientX, y: e.clientY, gesture };
  };
  const onMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const l = live.current;
    if (!l || l.pointer !== e.pointerId) return;
    if (l.gesture) {
      const events = typeof e.nativeEvent.getCoalescedEvents === 'function' ? e.nativeEvent.getCoalescedEvents() : [];
      const el = e.currentTarget;
      const pts = (events.length ? events : [e.nativeEvent]).map((n) => toMask(el, n.clientX, n.clientY));
      const dirty = moveGesture(l.gesture, pts);
      if (dirty && mcRef.current && l.gesture.kind === 'stroke') {
        paintMask(mcRef.current, l.gesture.stroke.out, MASK_COLOR, dirty);
        draw();
      }
    } else {
      const { scale } = local(e.currentTarget, e.clientX, e.clientY);
      setCrop(photo.id, panCrop(photo.crop, (e.clientX - l.x) / scale, (e.clientY - l.y) / scale, VIEW, photo.width, photo.height));
      l.x = e.clientX;
      l.y = e.clientY;
    }
  };
  const onUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const l = live.current;
    if (!l || l.pointer !== e.pointerId) return;
    live.current = null;
    if (l.gesture) updatePhoto(photo.id, { mask: finishGesture(l.gesture) });
  };
  // wheel zoom needs a non-passive listener: the page must not scroll while the crop zooms
  const wheel = useRef<(e: WheelEvent) => void>(() => undefined);
  wheel.current = (e: WheelEvent) => {
    if (mode !== 'crop' || !ref.current) return;
    e.preventDefault();
    const { u, v } = local(ref.current, e.clientX, e.clientY);
    const z = cropZoom(photo.crop, photo.width, photo.height) * Math.exp(-e.deltaY * 0.0015);
    setCrop(photo.id, zoomCrop(photo.crop, z, photo.width, photo.height, u, v));
  };
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const on = (e: WheelEvent) => wheel.current(e);
    el.addEventListener('wheel', on, { passive: false });
    return () => el.removeEventListener('wheel', on);
  }, [ref]);
  const zoom = cropZoom(photo.crop, photo.width, photo.height);
  // keyboard: arrows move the crop (Shift: further), + and − zoom
  const onKey = (e: React.KeyboardEvent) => {
    if (mode !== 'crop') return;
    const d = e.shiftKey ? 40 : 8;
    const moves: Record<string, [number, number]> = { ArrowLeft: [d, 0], ArrowRight: [-d, 0], ArrowUp: [0, d], ArrowDown: [0, -d] };
    if (moves[e.key]) setCrop(photo.id, panCrop(photo.crop, moves[e.key]![0], moves[e.key]![1], VIEW, photo.width, photo.height));
    else if (e.key === '+' || e.key === '=') setCrop(photo.id, zoomCrop(photo.crop, zoom * 1.1, photo.width, photo.height));
    else if (e.key === '-') setCrop(photo.id, zoomCrop(photo.crop, zoom / 1.1, photo.width, photo.height));
    else return;
    e.preventDefault();
  };
  const act = (kind: 'fill' | 'invert' | 'clear') => {
    const n = photo.maskW * photo.maskH;
    updatePhoto(photo.id, { mask: kind === 'clear' ? null : kind === 'fill' ? filledMask(n, 255) : invertMask(photo.mask ?? filledMask(n, 0)) });
  };

  return (
    <div className="cc-editor">
      <canvas
        ref={ref} width={VIEW} height={VIEW} className={`cc-editor-canvas is-${mode}`} data-testid="teach-editor" data-crop={`${Math.round(photo.crop.x)},${Math.round(photo.crop.y)},${Math.round(photo.crop.size)}`}
        role="img" aria-label={`${photo.name}, ${mode === 'crop' ? 'drag to move the crop, scroll to zoom' : 'paint the subject'}`}
        tabIndex={0} onKeyDown={onKey} onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} onPointerCancel={onUp}
      />
      <div className="cc-editor-bar">
        <div className="cc-seg" role="group" aria-label="Edit">
          <button type="button" className={mode === 'crop' ? 'is-on' : ''} aria-pressed={mode === 'crop'} data-testid="teach-mode-crop" onClick={() => useTeach.setState({ mode: 'crop' })}>Crop</button>
          <button type="button" className={mode === 'mask' ? 'is-on' : ''} aria-pressed={mode === 'mask'} data-testid="teach-mode-mask" onClick={() => useTeach.setState({ mode: 'mask' })}>Mask</button>
        </div>
        {mode === 'crop' ? (
          <label className="cc-slider">
            <span>Zoom</span>
            <input type="range" min={1} max={MAX_CROP_ZOOM} step={0.05} value={zoom} aria-label="Crop zoom" data-testid="teach-zoom" onChange={(e) => setCrop(photo.id, zoomCrop(photo.crop, Number(e.target.value), photo.width, photo.height))} />
            <span className="value">{zoom.toFixed(2)}×</span>
          </label>
        ) : (
          <>
            <div className="cc-seg" role="group" aria-label="Mask tool">
              <button type="button" className={tool === 'brush' ? 'is-on' : ''} aria-pressed={tool === 'brush'} data-testid="teach-brush" onClick={() => useTeach.setState({ maskTool: 'brush' })}>Brush</button>
              <button type="button" className={tool === 'eraser' ? 'is-on' : ''} aria-pressed={tool === 'eraser'} data-testid="teach-eraser" onClick={() => useTeach.setState({ maskTool: 'eraser' })}>Eraser</button>
            </div>
            <label className="cc-slider">
              <span>Size</span>
              <input type="range" min={4} max={160} value={brush} aria-label="Brush size" onChange={(e) => useTeach.setState({ brushSize: Number(e.target.value) })} />
            </label>
            <div className="cc-seg" role="group" aria-label="Whole mask">
              <button type="button" data-testid="teach-mask-fill" onClick={() => act('fill')}>Fill</button>
              <button type="button" data-testid="teach-mask-invert" onClick={() => act('invert')}>Invert</button>
              <button type="button" data-testid="teach-mask-clear" onClick={() => act('clear')} disabled={!photo.mask}>Clear</button>
            </div>
          </>
        )}
      </div>
      <p className="small muted cc-editor-hint">
        {mode === 'crop'
          ? `${photo.width}×${photo.height} photo; the square (${Math.round(photo.crop.size)} px) trains at ${res}×${res}. Drag to move it, scroll or use the slider to zoom.${photo.crop.size < res ? ' It is smaller than the training size, so it is enlarged and will look soft: zoom out or use a larger photo.' : ''}`
          : photo.mask ? 'The painted area is the subject: the masked loss learns only there.' : 'No mask: the whole square trains. Paint the subject to train on it alone.'}
      </p>
    </div>
  );
}
