/**
 * The Scenes section (CIDM §4.3, context-controllable synthesis): paint a mask per region, give each
 * its prompt, save the scene. Generation itself is the caller's: `onGenerate` receives the output
 * size, the global prompts and per visible region its prompt and H×W soft mask (editor/regions.ts).
 * Shortcuts (not while typing in a field): Ctrl/Cmd+Z undo, Ctrl/Cmd+Shift+Z or Ctrl+Y redo,
 * Ctrl/Cmd+S save, B/E/R/O tools, [ and ] brush size, space + drag pan, Ctrl/Cmd + wheel zoom.
 */
import { useEffect } from 'react';
import type { Scene } from './editor/scene';
import type { SceneGenerationInput } from './editor/regions';
import { LayerPanel } from './LayerPanel';
import { MaskStage } from './MaskStage';
import { ReferencePicker } from './ReferencePicker';
import { SceneList } from './SceneList';
import { ScenePanel } from './ScenePanel';
import { SceneRunPane } from './SceneRunPane';
import { redoScene, saveCurrentScene, setBrush, setTool, undoScene, useScenes } from './scene-store';
import { typingInField } from './stage-hooks';
import { TOOL_KEYS, ToolBar } from './ToolBar';
import { FirstStepCard } from '../models/ModelChoice';
import './scenes.css';

export interface ScenesPageProps {
  /** Runs a generation from the scene; without it the page has no Generate button. */
  onGenerate?: (input: SceneGenerationInput, scene: Scene) => void;
  /** E.g. no model loaded, or a generation running. */
  generateDisabled?: boolean;
}

function onShortcut(e: KeyboardEvent): void {
  if (typingInField(e)) return;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && key === 'z') {
    e.preventDefault();
    if (e.shiftKey) redoScene();
    else undoScene();
  } else if (mod && key === 'y') {
    e.preventDefault();
    redoScene();
  } else if (mod && key === 's') {
    e.preventDefault();
    void saveCurrentScene();
  } else if (!mod && !e.altKey && TOOL_KEYS[key]) {
    setTool(TOOL_KEYS[key]);
  } else if (!mod && (e.key === '[' || e.key === ']')) {
    const size = useScenes.getState().brushSize;
    setBrush({ brushSize: Math.min(512, Math.max(1, Math.round(e.key === ']' ? size * 1.2 + 1 : size / 1.2))) });
  }
}

function Messages() {
  const error = useScenes((s) => s.error);
  const notice = useScenes((s) => s.notice);
  if (error) return <p className="callout callout-bad sc-message" role="alert">{error}</p>;
  if (notice) return <p className="sc-message sc-notice small" role="status">{notice}</p>;
  return null;
}

export function ScenesPage({ onGenerate, generateDisabled }: ScenesPageProps) {
  useEffect(() => {
    window.addEventListener('keydown', onShortcut);
    return () => window.removeEventListener('keydown', onShortcut);
  }, []);
  return (
    <div className="page sc-page" data-testid="scenes-page">
      <header className="page-head sc-head">
        <h1>Scenes</h1>
        <p className="lede">Paint a region per subject and give each its own prompt; the rest of the image follows the scene prompt.</p>
      </header>
      {onGenerate && <FirstStepCard purpose="to generate a scene" />}
      <Messages />
      <div className="sc-layout">
        <section className="card sc-canvas-card" aria-label="Mask editor">
          <ToolBar />
          <MaskStage />
          <p className="sc-hint small muted">Ctrl + wheel (or pinch) to zoom, space + drag or the middle button to pan. Alt + drag subtracts a shape.</p>
        </section>
        <aside className="sc-side">
          <ScenePanel onGenerate={onGenerate} generateDisabled={generateDisabled ?? false} />
          {onGenerate && <SceneRunPane />}
          <LayerPanel />
          <ReferencePicker />
          <SceneList />
        </aside>
      </div>
    </div>
  );
}
