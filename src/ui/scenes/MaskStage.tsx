/**
 * The mask editor's canvas: a Konva stage at the scene's aspect ratio, fitted to its box and then
 * zoomed/panned; the reference image under the layers' masks (each in its colour at its opacity),
 * the live shape preview and the brush outline on top. Input is handled in stage-pointer.ts.
 */
import { useEffect, useRef, useState } from 'react';
import type Konva from 'konva';
import { Circle, Ellipse, Group, Image as KImage, Layer, Rect as KRect, Stage } from 'react-konva';
import type { Rect } from './editor/raster';
import { syncMaskCanvases, type MaskCanvas } from './mask-paint';
import { fitView, MAX_ZOOM, MIN_ZOOM, setView, useScenes } from './scene-store';
import { useElementSize, useReferenceImage, useSpaceHeld } from './stage-hooks';
import { useStagePointer, type StageTransform } from './stage-pointer';

type Preview = { shape: 'rect' | 'ellipse'; rect: Rect } | null;

function ZoomBar({ zoom }: { zoom: number }) {
  const step = (f: number) => setView({ zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom * f)) });
  return (
    <div className="sc-zoom" role="group" aria-label="Zoom">
      <button type="button" className="sc-icon-btn" aria-label="Zoom out" onClick={() => step(1 / 1.25)}>−</button>
      <button type="button" className="sc-icon-btn sc-zoom-value" aria-label="Fit to view" title="Fit to view" onClick={fitView} data-testid="sc-zoom">
        {Math.round(zoom * 100)}%
      </button>
      <button type="button" className="sc-icon-btn" aria-label="Zoom in" onClick={() => step(1.25)}>+</button>
    </div>
  );
}

export function MaskStage() {
  const scene = useScenes((s) => s.doc.scene);
  const activeId = useScenes((s) => s.activeLayerId);
  const tool = useScenes((s) => s.tool);
  const brushSize = useScenes((s) => s.brushSize);
  const view = useScenes((s) => s.view);
  const wrapRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<Konva.Layer>(null);
  const cursorRef = useRef<Konva.Circle>(null);
  const canvasesRef = useRef(new Map<string, MaskCanvas>());
  const [preview, setPreview] = useState<Preview>(null);
  const space = useSpaceHeld();
  const spaceRef = useRef(space);
  spaceRef.current = space;
  const box = useElementSize(wrapRef);
  const reference = useReferenceImage(scene.referenceImageId);

  // Idempotent (repaints only canvases whose mask or colour changed), so safe to run while rendering.
  syncMaskCanvases(canvasesRef.current, scene.layers, scene.maskWidth, scene.maskHeight);

  const fit = box.w > 0 && box.h > 0 ? Math.min(box.w / scene.width, box.h / scene.height) * 0.94 : 1;
  const scale = fit * view.zoom;
  const t: StageTransform = {
    scale,
    ox: (box.w - scene.width * scale) / 2 + view.panX,
    oy: (box.h - scene.height * scale) / 2 + view.panY,
    kx: scene.maskWidth / scene.width,
    ky: scene.maskHeight / scene.height,
    boxW: box.w,
    boxH: box.h,
    sceneW: scene.width,
    sceneH: scene.height,
  };
  const transformRef = useRef(t);
  transformRef.current = t;
  useStagePointer({ wrap: wrapRef, layer: layerRef, cursor: cursorRef, transform: transformRef, canvases: canvasesRef, space: spaceRef, setPreview });
  // Canvases repainted in place keep their identity, so Konva must be told to redraw.
  useEffect(() => {
    layerRef.current?.batchDraw();
  });

  const active = scene.layers.find((l) => l.id === activeId);
  const brushLike = tool === 'brush' || tool === 'eraser';
  const cursor = space ? 'grab' : brushLike ? 'none' : 'crosshair';
  const pr = preview && { x: preview.rect.x0 / t.kx, y: preview.rect.y0 / t.ky, w: (preview.rect.x1 - preview.rect.x0) / t.kx, h: (preview.rect.y1 - preview.rect.y0) / t.ky };
  const hair = 1 / scale;
  return (
    <div className="sc-stage-box">
      <div
        ref={wrapRef}
        className="sc-stage"
        style={{ cursor }}
        data-testid="sc-stage"
        data-scale={t.scale}
        data-ox={t.ox}
        data-oy={t.oy}
        aria-label={`Mask canvas, ${scene.width}×${scene.height}`}
        role="img"
      >
        {box.w > 0 && box.h > 0 && (
          <Stage width={box.w} height={box.h}>
            <Layer ref={layerRef} listening={false}>
              <Group x={t.ox} y={t.oy} scaleX={scale} scaleY={scale}>
                <KRect width={scene.width} height={scene.height} fill="#161a24" />
                {reference.status === 'ready' && <KImage image={reference.image} width={scene.width} height={scene.height} />}
                {scene.layers.map((l) => {
                  const mc = canvasesRef.current.get(l.id);
                  return mc ? <KImage key={l.id} image={mc.canvas} width={scene.width} height={scene.height} opacity={l.opacity} visible={l.visible} /> : null;
                })}
                {pr && preview?.shape === 'rect' && <KRect x={pr.x} y={pr.y} width={pr.w} height={pr.h} fill={active?.color} opacity={0.45} stroke="#ffffff" strokeWidth={hair} />}
                {pr && preview?.shape === 'ellipse' && <Ellipse x={pr.x + pr.w / 2} y={pr.y + pr.h / 2} radiusX={pr.w / 2} radiusY={pr.h / 2} fill={active?.color} opacity={0.45} stroke="#ffffff" strokeWidth={hair} />}
                <KRect width={scene.width} height={scene.height} stroke="#3a4154" strokeWidth={hair} />
                <Circle ref={cursorRef} radius={brushSize / 2} stroke="#ffffff" strokeWidth={hair * 1.5} visible={false} opacity={brushLike && !space ? 0.9 : 0} dash={[4 * hair, 3 * hair]} />
              </Group>
            </Layer>
          </Stage>
        )}
      </div>
      <ZoomBar zoom={view.zoom} />
      {reference.status === 'missing' && <p className="sc-stage-note small">The reference image is no longer in the gallery.</p>}
      {!active && <p className="sc-stage-note small">Add a region to paint it.</p>}
      {active && !active.visible && <p className="sc-stage-note small">“{active.name}” is hidden: what you paint on it will not show.</p>}
    </div>
  );
}
