/** The mask tools, their size and hardness, the whole-layer actions, and undo/redo. */
import type { ReactNode } from 'react';
import type { ActionKind, ToolKind } from './editor/tools';
import { canRedo, canUndo } from './editor/doc';
import { redoScene, runAction, setBrush, setTool, undoScene, useScenes } from './scene-store';

const I = ({ d }: { d: string }) => (
  <svg viewBox="0 0 24 24" width="17" height="17" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
    <path d={d} />
  </svg>
);

const TOOLS: { id: ToolKind; label: string; key: string; icon: ReactNode }[] = [
  { id: 'brush', label: 'Brush', key: 'B', icon: <I d="M4 20c2.5 0 4-1.5 4-3.5S6.5 13 5 14.5 4 18 4 20zM8.5 13.5 19 3l2 2-10.5 10.5" /> },
  { id: 'eraser', label: 'Eraser', key: 'E', icon: <I d="M7 20h13M4.5 15.5l9-9a2 2 0 0 1 2.8 0l2.2 2.2a2 2 0 0 1 0 2.8L11 19H8z" /> },
  { id: 'rect', label: 'Rectangle', key: 'R', icon: <I d="M4 6h16v12H4z" /> },
  { id: 'ellipse', label: 'Ellipse', key: 'O', icon: <I d="M12 6c4.4 0 8 2.7 8 6s-3.6 6-8 6-8-2.7-8-6 3.6-6 8-6z" /> },
];

const ACTIONS: { id: ActionKind; label: string; icon: ReactNode }[] = [
  { id: 'fill', label: 'Fill layer', icon: <I d="M5 5h14v14H5zM5 12h14M12 5v14" /> },
  { id: 'clear', label: 'Clear layer', icon: <I d="M5 5h14v14H5zM9 9l6 6M15 9l-6 6" /> },
  { id: 'invert', label: 'Invert layer', icon: <I d="M5 5h14v14H5zM5 19 19 5" /> },
];

export const TOOL_KEYS: Record<string, ToolKind> = Object.fromEntries(TOOLS.map((t) => [t.key.toLowerCase(), t.id]));

export function ToolBar() {
  const tool = useScenes((s) => s.tool);
  const size = useScenes((s) => s.brushSize);
  const hardness = useScenes((s) => s.hardness);
  const undoable = useScenes((s) => canUndo(s.doc));
  const redoable = useScenes((s) => canRedo(s.doc));
  const hasLayer = useScenes((s) => s.doc.scene.layers.some((l) => l.id === s.activeLayerId));
  const nextUndo = useScenes((s) => s.doc.history.undo[s.doc.history.undo.length - 1]?.label);
  const nextRedo = useScenes((s) => s.doc.history.redo[s.doc.history.redo.length - 1]?.label);
  const brushLike = tool === 'brush' || tool === 'eraser';
  return (
    <div className="sc-toolbar" role="toolbar" aria-label="Mask tools">
      <div className="sc-tool-group">
        {TOOLS.map((t) => (
          <button key={t.id} type="button" className={`sc-tool${tool === t.id ? ' is-active' : ''}`} aria-pressed={tool === t.id} aria-label={t.label} title={`${t.label} (${t.key})`} data-testid={`sc-tool-${t.id}`} onClick={() => setTool(t.id)}>
            {t.icon}
          </button>
        ))}
      </div>
      <label className={`sc-slider${brushLike ? '' : ' is-off'}`} title="Brush size in image pixels ([ and ])">
        <span>Size</span>
        <input type="range" min={1} max={512} step={1} value={size} aria-label="Brush size" data-testid="sc-brush-size" onChange={(e) => setBrush({ brushSize: Number(e.target.value) })} />
        <span className="value sc-slider-value">{size}px</span>
      </label>
      <label className={`sc-slider${brushLike ? '' : ' is-off'}`} title="Hardness: 100% is a hard edge, 0% a soft falloff">
        <span>Hardness</span>
        <input type="range" min={0} max={100} step={1} value={Math.round(hardness * 100)} aria-label="Brush hardness" data-testid="sc-brush-hardness" onChange={(e) => setBrush({ hardness: Number(e.target.value) / 100 })} />
        <span className="value sc-slider-value">{Math.round(hardness * 100)}%</span>
      </label>
      <div className="sc-tool-group">
        {ACTIONS.map((a) => (
          <button key={a.id} type="button" className="sc-tool" aria-label={a.label} title={a.label} disabled={!hasLayer} data-testid={`sc-action-${a.id}`} onClick={() => runAction(a.id)}>
            {a.icon}
          </button>
        ))}
      </div>
      <div className="sc-tool-group sc-history">
        <button type="button" className="sc-tool" aria-label="Undo" title={nextUndo ? `Undo ${nextUndo} (Ctrl+Z)` : 'Nothing to undo'} disabled={!undoable} data-testid="sc-undo" onClick={undoScene}>
          <I d="M9 14 4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3" />
        </button>
        <button type="button" className="sc-tool" aria-label="Redo" title={nextRedo ? `Redo ${nextRedo} (Ctrl+Shift+Z)` : 'Nothing to redo'} disabled={!redoable} data-testid="sc-redo" onClick={redoScene}>
          <I d="m15 14 5-5-5-5M20 9H10a6 6 0 0 0 0 12h3" />
        </button>
      </div>
    </div>
  );
}
