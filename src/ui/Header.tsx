/** The top bar: the product name, and the three things a person wants to know at a glance. */
import { adapterTitle } from './format';
import { IconOffline, Logo } from './Icons';
import { useStudio } from './store';
import { JobsChip } from './jobs/JobsChip';
import { ShortcutsButton } from './shortcuts/ShortcutsPanel';

function GpuChip() {
  const status = useStudio((s) => s.gpuStatus);
  const summary = useStudio((s) => s.summary);
  if (status === 'probing') return <span className="chip"><span className="dot dot-pending" />Starting GPU…</span>;
  if (status !== 'ready' || !summary) {
    return <span className="chip chip-bad"><span className="dot dot-bad" />{status === 'lost' ? 'GPU lost' : 'No GPU'}</span>;
  }
  const fallback = summary.isFallbackAdapter;
  return (
    <span className={fallback ? 'chip chip-warn' : 'chip chip-ok'} title={fallback ? 'Software (CPU) fallback adapter' : 'Hardware adapter'}>
      <span className={fallback ? 'dot dot-warn' : 'dot dot-ok'} />
      {adapterTitle(summary)}
    </span>
  );
}

function OfflineChip() {
  const online = useStudio((s) => s.online);
  const offlineReady = useStudio((s) => s.offlineReady);
  if (!online) return <span className="chip chip-warn" data-testid="net-chip">Offline</span>;
  if (!offlineReady) return null;
  return (
    <span className="chip" data-testid="net-chip" title="The studio is cached on this device and opens without a network">
      <IconOffline />
      Works offline
    </span>
  );
}

export function Header() {
  return (
    <header className="topbar">
      <a className="skip-link" href="#main">Skip to the section</a>
      <div className="brand">
        <Logo size={26} />
        <span className="brand-name">CIDM Studio</span>
        <span className="brand-tag">Preview</span>
      </div>
      <div className="topbar-status">
        <JobsChip />
        <OfflineChip />
        <GpuChip />
        <ShortcutsButton />
      </div>
    </header>
  );
}
