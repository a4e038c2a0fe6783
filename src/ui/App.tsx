/** The studio frame: header, navigation and the current section, or the no-GPU explanation. */
import { ErrorBoundary } from './ErrorBoundary';
import { GpuPage } from './GpuPage';
import { Header } from './Header';
import { Nav } from './Nav';
import { NoGpuPage } from './NoGpuPage';
import { useStudio } from './store';

function Studio() {
  const failed = useStudio((s) => s.gpuStatus === 'failed' || (s.gpuStatus === 'probing' && s.failureKind !== null));
  if (failed) return <NoGpuPage />;
  return (
    <div className="shell">
      <Header />
      <Nav />
      <main className="main" id="main">
        <GpuPage />
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
