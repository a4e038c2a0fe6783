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
import './ui/app.css';

installBridge();
initPwa();
void probeGpu();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
