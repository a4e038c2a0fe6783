/** The studio frame: header, navigation and the current section, or the no-GPU explanation. */
import { useEffect } from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { ConceptsPage } from './concepts/ConceptsPage';
import { initTraining } from './concepts/training/runner';
import { GalleryPage } from './gallery/GalleryPage';
import { GeneratePage } from './generate/GeneratePage';
import { GpuPage } from './GpuPage';
import { Header } from './Header';
import { ModelsPage } from './models/ModelsPage';
import { ScenesPage } from './scenes/ScenesPage';
import { SettingsPage } from './settings/SettingsPage';
import { Nav } from './Nav';
import { NoGpuPage } from './NoGpuPage';
import { Notice } from './Notice';
import { useStudio } from './store';
import { anyFieldError, useFieldErrors } from './validation/field-errors';
import { generateScene } from './scenes/generate-scene';

function Section() {
  const section = useStudio((s) => s.section);
  const activeModelId = useStudio((s) => s.activeModelId);
  const modelName = useStudio((s) => s.models.find((m) => m.id === s.activeModelId)?.name ?? null);
  // a scene's Generate queues behind a running job (the header lists them); a field out of range blocks it
  const sceneInvalid = useFieldErrors((s) => anyFieldError('sc-', s.errors));
  switch (section) {
    case 'generate':
      return <GeneratePage modelId={activeModelId} modelName={modelName} />;
    case 'concepts':
      return <ConceptsPage />;
    case 'gallery':
      return <GalleryPage />;
    case 'scenes':
      return <ScenesPage onGenerate={(input, scene) => void generateScene(activeModelId, modelName, input, scene.id)} generateDisabled={!activeModelId || sceneInvalid} />;
    case 'models':
      return <ModelsPage />;
    case 'settings':
      return <SettingsPage />;
    default:
      return <GpuPage />;
  }
}

function Studio() {
  // a training job left unfinished by a reload or a crashed tab resumes once the GPU and models are ready
  useEffect(initTraining, []);
  const failed = useStudio((s) => s.gpuStatus === 'failed' || (s.gpuStatus === 'probing' && s.failureKind !== null));
  if (failed) return <NoGpuPage />;
  return (
    <div className="shell">
      <Header />
      <Nav />
      <main className="main" id="main">
        <Notice />
        <Section />
      </main>
    </div>
  );
}

export function App() {
  return (
    <ErrorBoundary>
      <Studio />
    </ErrorBoundary>
  );
}
