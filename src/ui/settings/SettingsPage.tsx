/** The Settings section: how images are computed (precision, memory), storage use and clean-up, and persistence. */
import { useEffect } from 'react';
import { useStudio } from '../store';
import { PersistCard } from './PersistCard';
import { RunOptions } from './RunOptions';
import { refreshUsage } from './settings-store';
import { StorageView } from './StorageView';
import './settings.css';

export function SettingsPage() {
  // Read on opening, and again whenever the model list changes (an import finished, failed or was
  // cancelled while this page is open; a model deleted here or on the Models page).
  const models = useStudio((s) => s.models);
  useEffect(() => {
    void refreshUsage();
  }, [models]);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
        <p className="lede">How the studio computes images, and what it keeps on this device.</p>
      </div>
      <div className="settings-stack">
        <RunOptions />
        <StorageView />
        <PersistCard />
      </div>
    </div>
  );
}
