/** The studio frame: header, navigation and the current section, or the no-GPU explanation. */
import { ErrorBoundary } from './ErrorBoundary';
import { GpuPage } from './GpuPage';
import { Header } from './Header';
import { ModelsPage } from './models/ModelsPage';
import { Nav } from './Nav';
import { NoGpuPage } from './NoGpuPage';
import { useStudio } from './store';

function Studio() {
  const failed = useStudio((s) => s.gpuStatus === 'failed' || (s.gpuStatus === 'probing' && s.failureKind !== null));
  const section = useStudio((s) => s.section);
  if (failed) return <NoGpuPage />;
  return (
    <div className="shell">
      <Header />
      <Nav />
      <main className="main" id="main">
        {section === 'models' ? <ModelsPage /> : <GpuPage />}
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
