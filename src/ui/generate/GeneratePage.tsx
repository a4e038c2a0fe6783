/** The Generate section: the panel on the left, the output on the right; Ctrl/Cmd+Enter and Esc. */
import { useEffect } from 'react';
import { cancelGeneration, generate as runGenerate } from './generate-controller';
import { addResult } from '../gallery/gallery-state';
import { useGenerate } from './generate-store';
import { GenerateForm } from './GenerateForm';
import { PreviewPane } from './PreviewPane';
import { useEdit } from './edit-store';
import { editParams } from './edit-params';
import { useLatentFactor } from './latent-factor';
import { snapSide } from './sizes';
import { FirstStepCard } from '../models/ModelChoice';
import './generate.css';

export interface GeneratePageProps {
  modelId: string | null;
  modelName: string | null;
}

export function GeneratePage({ modelId, modelName }: GeneratePageProps) {
  // every finished image goes into the gallery (IndexedDB) with its parameters
  // the init image, mask and outpainting of the edit panel (none: text to image), at the draft's size
  const edit = () => {
    const { width, height } = useGenerate.getState().draft;
    const e = useEdit.getState();
    // style strengths that differ from 1 (a concept's EWA weight; LoRAs carry theirs in the prompt)
    const strengths = Object.entries(e.conceptStrength).filter(([, v]) => v !== 1);
    return { ...editParams(e, snapSide(width), snapSide(height)), ...(strengths.length ? { conceptStrength: Object.fromEntries(strengths) } : {}) };
  };
  const generate = (id: string | null) => runGenerate(id, { onResult: (r) => addResult(r, modelName ?? r.modelId).then(() => undefined) }, edit());
  const latentFactor = useLatentFactor(modelId);
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
        <p className="lede">Text to image, or edit a photo (image to image, inpaint, outpaint), with SDXL or SD-1.5 on this device's GPU.</p>
      </header>
      <FirstStepCard purpose="to generate images" />
      <div className="gen-layout">
        <GenerateForm busy={busy} modelName={modelName} latentFactor={latentFactor} onGenerate={() => void generate(modelId)} />
        <PreviewPane />
      </div>
    </div>
  );
}
