/**
 * The inpaint mask painted over the init image with the Scenes editor's own tools (editor/tools.ts:
 * brush, eraser, rectangle, ellipse; editor/raster.ts: fill, clear, invert; mask-paint.ts draws it).
 * Two stacked canvases: the init image at its size, the mask at its editing size in red on top.
 * Coordinates are mapped from the displayed box to mask pixels, so the box can be any CSS size.
 */
import { useEffect, useRef, useState } from 'react';
import { beginGesture, finishGesture, moveGesture, type Gesture, type ToolKind } from '../scenes/editor/tools';
import { filledMask, invertMask } from '../scenes/editor/raster';
import { createMaskCanvas, paintMask, type MaskCanvas } from '../scenes/mask-paint';
import { setEdit, useEdit } from './edit-store';

const MASK_COLOR = '#ff4d6d';
const TOOLS: { id: ToolKind; label: string }[] = [
  { id: 'brush', label: 'Brush' },
  { id: 'eraser', label: 'Eraser' },
  { id: 'rect', label: 'Rectangle' },
  { id: 'ellipse', label: 'Ellipse' },
];

export function InpaintCanvas() {
  const init = useEdit((s) => s.init);
  const mask = useEdit((s) => s.mask);
  const mw = useEdit((s) => s.maskWidth);
  const mh = useEdit((s) => s.maskHeight);
  const [tool, setTool] = useState<ToolKind>('brush');
  const [size, setSize] = useState(24);
  const [undo, setUndo] = useState<Uint8Array | null>(null);
  const imageRef = useRef<HTMLCanvasElement>(null);
  const maskRef = useRef<HTMLCanvasElement>(null);
  const mc = useRef<MaskCanvas | null>(null);
  const gesture = useRef<Gesture | null>(null);

  useEffect(() => {
    const c = imageRef.current;
    if (!c || !init) return;
    c.width = init.width;
    c.height = init.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(init.rgba), init.width, init.height), 0, 0);
  }, [init]);

  // the mask canvas: an offscreen MaskCanvas (mask-paint.ts) copied onto the visible one
  const show = () => {
    const c = maskRef.current;
    if (!c || !mc.current) return;
    const ctx = c.getContext('2d');
    ctx?.clearRect(0, 0, c.width, c.height);
    ctx?.drawImage(mc.current.canvas, 0, 0);
  };
  useEffect(() => {
    const c = maskRef.current;
    if (!c || !mask || mw < 1 || mh < 1) return;
    if (!mc.current || mc.current.canvas.width !== mw || mc.current.canvas.height !== mh) mc.current = createMaskCanvas(mw, mh);
    c.width = mw;
    c.height = mh;
    paintMask(mc.current, mask, MASK_COLOR);
    show();
  }, [mask, mw, mh]);

  if (!init || !mask) return null;
  const toMask = (e: React.PointerEvent) => {
    const r = maskRef.current!.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * mw, y: ((e.clientY - r.top) / r.height) * mh };
  };
  const commit = (next: Uint8Array) => {
    setUndo(mask);
    setEdit({ mask: next });
  };
  const scale = mw / init.width;
  return (
    <div className="gen-inpaint" data-testid="gen-inpaint">
      <div className="gen-inpaint-tools" role="toolbar" aria-label="Mask tools">
        {TOOLS.map((t) => (
          <button key={t.id} type="button" className={`chip${tool === t.id ? ' chip-ok' : ''}`} aria-pressed={tool === t.id} data-testid={`gen-mask-${t.id}`} onClick={() => setTool(t.id)}>
            {t.label}
          </button>
        ))}
        <button type="button" className="chip" data-testid="gen-mask-fill" onClick={() => commit(filledMask(mask.length, 255))}>Fill</button>
        <button type="button" className="chip" data-testid="gen-mask-invert" onClick={() => commit(invertMask(mask))}>Invert</button>
        <button type="button" className="chip" data-testid="gen-mask-clear" onClick={() => commit(filledMask(mask.length, 0))}>Clear</button>
        <button type="button" className="chip" data-testid="gen-mask-undo" disabled={!undo} onClick={() => undo && (setEdit({ mask: undo }), setUndo(null))}>Undo</button>
      </div>
      <label className="gen-inpaint-size small">
        Brush {size}px
        <input type="range" min={1} max={Math.max(8, Math.round(Math.max(init.width, init.height) / 2))} value={size} aria-label="Brush size" data-testid="gen-mask-size" onChange={(e) => setSize(Number(e.target.value))} />
      </label>
      <div className="gen-inpaint-stage" style={{ aspectRatio: `${init.width} / ${init.height}` }}>
        <canvas ref={imageRef} className="gen-inpaint-image" aria-label="Init image" />
        <canvas
          ref={maskRef}
          className="gen-inpaint-mask"
          data-testid="gen-mask-canvas"
          aria-label="Inpaint mask: paint where the image should change"
          style={{ cursor: 'crosshair', touchAction: 'none' }}
          onPointerDown={(e) => {
            e.currentTarget.setPointerCapture(e.pointerId);
            // the brush size is in image pixels; the mask may be at a smaller editing size
            const g = beginGesture(tool, { size: Math.max(1, size * scale), hardness: 1, subtract: e.altKey }, mask, mw, mh, toMask(e));
            gesture.current = g.gesture;
            if (g.dirty && g.gesture.kind === 'stroke' && mc.current) (paintMask(mc.current, g.gesture.stroke.out, MASK_COLOR, g.dirty), show());
          }}
          onPointerMove={(e) => {
            const g = gesture.current;
            if (!g) return;
            const dirty = moveGesture(g, [toMask(e)]);
            if (dirty && g.kind === 'stroke' && mc.current) (paintMask(mc.current, g.stroke.out, MASK_COLOR, dirty), show());
          }}
          onPointerUp={() => {
            const g = gesture.current;
            gesture.current = null;
            if (g) commit(finishGesture(g));
          }}
          onPointerCancel={() => {
            gesture.current = null;
            if (mc.current) (paintMask(mc.current, mask, MASK_COLOR), show());
          }}
        />
      </div>
    </div>
  );
}
