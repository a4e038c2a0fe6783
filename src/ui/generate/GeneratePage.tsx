/** The Generate section: the panel on the left, the output on the right; Ctrl/Cmd+Enter and Esc. */
import { useEffect } from 'react';
import { cancelGeneration, generate as runGenerate } from './generate-controller';
import { addResult } from '../gallery/gallery-state';
import { useGenerate } from './generate-store';
import { GenerateForm } from './GenerateForm';
import { PreviewPane } from './PreviewPane';
import './generate.css';

export interface GeneratePageProps {
  modelId: string | null;
  modelName: string | null;
}

export function GeneratePage({ modelId, modelName }: GeneratePageProps) {
  // every finished image goes into the gallery (IndexedDB) with its parameters
  const generate = (id: string | null) => runGenerate(id, { onResult: (r) => addResult(r, modelName ?? r.modelId).then(() => undefined) });
  const phase = useGenerate((s) => s.phase);
  const busy = phase === 'loading' || phase === 'running';
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void generate(modelId);
      } else if (e.key === 'Escape') cancelGeneration();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [modelId]);
  return (
    <div className="page gen-page">
      <header className="page-head">
        <h1>Generate</h1>
        <p className="lede">Text to image with SDXL on this device's GPU.</p>
      </header>
      <div className="gen-layout">
        <GenerateForm busy={busy} modelName={modelName} onGenerate={() => void generate(modelId)} />
        <PreviewPane />
      </div>
    </div>
  );
}
