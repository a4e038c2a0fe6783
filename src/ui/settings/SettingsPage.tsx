/** The Settings section: how images are computed (precision, memory), storage use and clean-up, and persistence. */
import { useEffect } from 'react';
import { PersistCard } from './PersistCard';
import { RunOptions } from './RunOptions';
import { refreshUsage } from './settings-store';
import { StorageView } from './StorageView';
import './settings.css';

export function SettingsPage() {
  useEffect(() => {
    void refreshUsage();
  }, []);
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
