/** The studio frame: header, navigation and the current section, or the no-GPU explanation. */
import { ErrorBoundary } from './ErrorBoundary';
import { GalleryPage } from './gallery/GalleryPage';
import { GeneratePage } from './generate/GeneratePage';
import { GpuPage } from './GpuPage';
import { Header } from './Header';
import { ModelsPage } from './models/ModelsPage';
import { ScenesPage } from './scenes/ScenesPage';
import { Nav } from './Nav';
import { NoGpuPage } from './NoGpuPage';
import { Notice } from './Notice';
import { useStudio } from './store';

function Section() {
  const section = useStudio((s) => s.section);
  const activeModelId = useStudio((s) => s.activeModelId);
  const modelName = useStudio((s) => s.models.find((m) => m.id === s.activeModelId)?.name ?? null);
  switch (section) {
    case 'generate':
      return <GeneratePage modelId={activeModelId} modelName={modelName} />;
    case 'gallery':
      return <GalleryPage />;
    case 'scenes':
      return <ScenesPage />;
    case 'models':
      return <ModelsPage />;
    default:
      return <GpuPage />;
  }
}

function Studio() {
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
