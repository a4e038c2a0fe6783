/**
 * Pointer input of the mask stage, as native listeners on its wrapper (Konva only draws): tool
 * gestures (editor/tools.ts) on the active layer, pan with the middle button or space + drag, zoom
 * with Ctrl/Cmd + wheel around the pointer (a trackpad pinch arrives as a wheel with ctrlKey), as
 * design tools do: a plain wheel scrolls the page, so the canvas never traps it. Live strokes are painted straight into the layer's canvas; the
 * store sees only the finished mask (one history entry per gesture). Escape cancels a gesture.
 */
import { useEffect, type RefObject } from 'react';
import type Konva from 'konva';
import { beginGesture, finishGesture, moveGesture, shapeRect, type Gesture } from './editor/tools';
import type { Point, Rect } from './editor/raster';
import { paintMask, type MaskCanvas } from './mask-paint';
import { commitMask, MAX_ZOOM, MIN_ZOOM, setView, useScenes } from './scene-store';

/** Screen ↔ scene mapping of the stage: screen = o + image·scale; mask = image·k. */
export interface StageTransform {
  scale: number;
  ox: number;
  oy: number;
  kx: number;
  ky: number;
  /** The stage's size and the scene's (output pixels). */
  boxW: number;
  boxH: number;
  sceneW: number;
  sceneH: number;
}

export interface StageRefs {
  wrap: RefObject<HTMLDivElement | null>;
  layer: RefObject<Konva.Layer | null>;
  cursor: RefObject<Konva.Circle | null>;
  transform: RefObject<StageTransform>;
  canvases: RefObject<Map<string, MaskCanvas>>;
  space: RefObject<boolean>;
  setPreview(p: { shape: 'rect' | 'ellipse'; rect: Rect } | null): void;
}

type Active = { kind: 'tool'; pointer: number; layerId: string; color: string; gesture: Gesture } | { kind: 'pan'; pointer: number; x0: number; y0: number; panX: number; panY: number };

const LABELS = { brush: 'Brush stroke', eraser: 'Eraser stroke', rect: 'Rectangle', ellipse: 'Ellipse' } as const;

export function useStagePointer(refs: StageRefs): void {
  useEffect(() => {
    const wrap = refs.wrap.current;
    if (!wrap) return;
    let active: Active | null = null;
    const local = (e: { clientX: number; clientY: number }) => {
      const r = wrap.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const toMask = (e: { clientX: number; clientY: number }): Point => {
      const t = refs.transform.current;
      const p = local(e);
      return { x: ((p.x - t.ox) / t.scale) * t.kx, y: ((p.y - t.oy) / t.scale) * t.ky };
    };
    const draw = () => refs.layer.current?.batchDraw();
    const moveCursor = (e: PointerEvent | null) => {
      const c = refs.cursor.current;
      if (!c) return;
      if (!e) c.visible(false);
      else {
        const t = refs.transform.current;
        const p = local(e);
        c.position({ x: (p.x - t.ox) / t.scale, y: (p.y - t.oy) / t.scale });
        c.visible(true);
      }
      draw();
    };
    const repaintLive = (a: Extract<Active, { kind: 'tool' }>, dirty: Rect | null) => {
      const mc = refs.canvases.current.get(a.layerId);
      if (dirty && mc && a.gesture.kind === 'stroke') {
        paintMask(mc, a.gesture.stroke.out, a.color, dirty);
        draw();
      }
    };

    const onDown = (e: PointerEvent) => {
      if (active) return;
      const s = useScenes.getState();
      if (e.button === 1 || (e.button === 0 && refs.space.current)) {
        e.preventDefault();
        active = { kind: 'pan', pointer: e.pointerId, x0: e.clientX, y0: e.clientY, panX: s.view.panX, panY: s.view.panY };
      } else if (e.button === 0) {
        const layer = s.doc.scene.layers.find((l) => l.id === s.activeLayerId);
        if (!layer) return;
        const { maskWidth: mw, maskHeight: mh } = s.doc.scene;
        const settings = { size: s.brushSize * refs.transform.current.kx, hardness: s.hardness, subtract: e.altKey };
        const { gesture, dirty } = beginGesture(s.tool, settings, layer.mask, mw, mh, toMask(e));
        active = { kind: 'tool', pointer: e.pointerId, layerId: layer.id, color: layer.color, gesture };
        repaintLive(active, dirty);
      } else return;
      wrap.setPointerCapture(e.pointerId);
    };

    const onMove = (e: PointerEvent) => {
      moveCursor(e);
      if (!active || e.pointerId !== active.pointer) return;
      if (active.kind === 'pan') {
        setView({ panX: active.panX + e.clientX - active.x0, panY: active.panY + e.clientY - active.y0 });
        return;
      }
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      const points = (events.length ? events : [e]).map(toMask);
      const dirty = moveGesture(active.gesture, points);
      repaintLive(active, dirty);
      const rect = shapeRect(active.gesture);
      if (rect && active.gesture.kind === 'shape') refs.setPreview({ shape: active.gesture.shape, rect });
    };

    const finish = (e: PointerEvent, cancel: boolean) => {
      if (!active || e.pointerId !== active.pointer) return;
      const a = active;
      active = null;
      if (wrap.hasPointerCapture(e.pointerId)) wrap.releasePointerCapture(e.pointerId);
      if (a.kind === 'pan') return;
      refs.setPreview(null);
      const mc = refs.canvases.current.get(a.layerId);
      const layer = useScenes.getState().doc.scene.layers.find((l) => l.id === a.layerId);
      if (cancel || !layer) {
        if (mc && layer) paintMask(mc, layer.mask, layer.color);
        draw();
        return;
      }
      const mask = finishGesture(a.gesture);
      // The canvas already shows a finished stroke: mark it painted so the store update does not repaint it.
      if (mc && a.gesture.kind === 'stroke') mc.mask = mask;
      const tool = a.gesture.kind === 'stroke' ? (a.gesture.stroke.params.mode === 'paint' ? 'brush' : 'eraser') : a.gesture.shape;
      commitMask(a.layerId, mask, LABELS[tool]);
    };
    const onUp = (e: PointerEvent) => finish(e, false);
    const onCancel = (e: PointerEvent) => finish(e, true);
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && active) finish({ pointerId: active.pointer } as PointerEvent, true);
    };

    const onWheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) return;
      // the browser's own Ctrl + wheel would zoom the whole page
      e.preventDefault();
      const { view } = useScenes.getState();
      const t = refs.transform.current;
      const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom * Math.exp(-e.deltaY * 0.0015)));
      const scale = (t.scale / view.zoom) * zoom;
      const p = local(e);
      // Keep the scene point under the pointer where it is: o' = p − (p − o)·scale'/scale.
      const ox = p.x - ((p.x - t.ox) * scale) / t.scale;
      const oy = p.y - ((p.y - t.oy) * scale) / t.scale;
      setView({ zoom, panX: ox - (t.boxW - t.sceneW * scale) / 2, panY: oy - (t.boxH - t.sceneH * scale) / 2 });
    };
    const onLeave = () => moveCursor(null);
    const noMenu = (e: MouseEvent) => e.button === 1 && e.preventDefault();

    wrap.addEventListener('pointerdown', onDown);
    wrap.addEventListener('pointermove', onMove);
    wrap.addEventListener('pointerup', onUp);
    wrap.addEventListener('pointercancel', onCancel);
    wrap.addEventListener('pointerleave', onLeave);
    wrap.addEventListener('wheel', onWheel, { passive: false });
    wrap.addEventListener('auxclick', noMenu);
    window.addEventListener('keydown', onKey);
    return () => {
      wrap.removeEventListener('pointerdown', onDown);
      wrap.removeEventListener('pointermove', onMove);
      wrap.removeEventListener('pointerup', onUp);
      wrap.removeEventListener('pointercancel', onCancel);
      wrap.removeEventListener('pointerleave', onLeave);
      wrap.removeEventListener('wheel', onWheel);
      wrap.removeEventListener('auxclick', noMenu);
      window.removeEventListener('keydown', onKey);
    };
    // The refs are stable objects; everything that changes is read from them or the store at event time.
  }, []);
}

