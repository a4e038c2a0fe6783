/** The Models section: import SDXL weights into this browser's private storage, and manage them. */
import { useEffect } from 'react';
import { formatBytes } from '../format';
import { useStudio } from '../store';
import { initModels } from './actions';
import { ImportPanel } from './ImportPanel';
import { ImportRows } from './ImportRows';
import { ModelList } from './ModelList';
import { LoraSection } from '../loras/LoraSection';
import './models.css';

function StorageMeter() {
  const storage = useStudio((s) => s.storage);
  const models = useStudio((s) => s.models);
  if (!storage) return null;
  const modelBytes = models.reduce((a, m) => a + m.bytesOnDisk, 0);
  // The browser's estimate can lag behind (or leave OPFS out): the bar never shows less than the models.
  const usedBytes = Math.max(storage.usage, modelBytes);
  const used = storage.quota > 0 ? Math.min(100, (usedBytes / storage.quota) * 100) : 0;
  const available = Math.max(0, storage.quota - usedBytes);
  return (
    <div className="storage-meter" data-testid="storage-meter">
      <div className="bar"><div className="bar-fill" style={{ width: `${used}%` }} /></div>
      <p className="small">
        Models use <span className="strong num" data-testid="storage-models">{formatBytes(modelBytes)}</span>
        {' · '}
        <span className="num" data-testid="storage-available">{formatBytes(available)}</span> available to the studio
        <span className="muted"> (of {formatBytes(storage.quota)}{storage.persisted ? ', kept by the browser' : ''})</span>
      </p>
    </div>
  );
}

export function ModelsPage() {
  useEffect(() => {
    void initModels();
  }, []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Models</h1>
        <p className="lede">
          SDXL and SD-1.5 weights live in this browser's private storage, on this device. Import them once from Hugging Face, a
          checkpoint file, or a diffusers folder; they are checked before they can be used.
        </p>
        <StorageMeter />
      </div>
      <div className="models-stack">
        <ImportPanel />
        <ImportRows />
        <ModelList />
        <LoraSection />
      </div>
    </div>
  );
}
