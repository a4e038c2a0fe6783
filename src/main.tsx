/**
 * Entry point. The GPU probe and the service worker start outside React: StrictMode renders twice,
 * and a device or a registration must happen once.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installBridge } from './ui/bridge';
import { probeGpu } from './ui/gpu-probe';
import { initPwa } from './ui/pwa';
import { refreshModels } from './ui/models/actions';
import { persistDraft, restoreDraft } from './ui/generate/draft-persistence';
import { installPngDrop } from './ui/png-drop';
import { loadGallery } from './ui/gallery/gallery-state';
import { onEngineDeviceLost } from './ui/engine-service';
import { useGenerate } from './ui/generate/generate-store';
import { watchAdapterDefaults } from './ui/jobs/adapter-defaults';
import './ui/app.css';

installBridge();
initPwa();
void probeGpu();
void refreshModels();
void loadGallery();
// the adapter's defaults (a CPU adapter starts small) apply over the restored draft, never under it
void restoreDraft().then(() => {
  persistDraft();
  watchAdapterDefaults();
});
installPngDrop();
onEngineDeviceLost((e) =>
  useGenerate.setState({ notice: `${e.message} The model is loaded again on the next Generate; the gallery is untouched.` }),
);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
