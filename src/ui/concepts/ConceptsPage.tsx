/**
 * The Concepts section (issue 11): Teach a concept, follow its Training job, keep it in the Library,
 * and watch Forgetting across tasks. The Training tab shows a count while jobs wait or run.
 */
import { useEffect, useRef, useState } from 'react';
import { ForgettingPanel } from './forgetting/ForgettingPanel';
import { LibraryPanel } from './library/LibraryPanel';
import { useConcepts } from './concepts-store';
import { TeachPanel } from './teach/TeachPanel';
import { JobsPanel } from './training/JobsPanel';
import { useTraining } from './training/training-store';
import { FirstStepCard } from '../models/ModelChoice';
import './concepts.css';

const TABS = [
  { id: 'teach', label: 'Teach' },
  { id: 'training', label: 'Training' },
  { id: 'library', label: 'Library' },
  { id: 'forgetting', label: 'Forgetting' },
] as const;
type Tab = (typeof TABS)[number]['id'];

export function ConceptsPage() {
  const jobs = useTraining((s) => s.jobs.length);
  const running = useTraining((s) => s.live !== null);
  const loaded = useTraining((s) => s.loaded);
  const [tab, setTabState] = useState<Tab>(() => (useTraining.getState().jobs.length ? 'training' : 'teach'));
  const chosen = useRef(false);
  const setTab = (t: Tab) => {
    chosen.current = true;
    setTabState(t);
  };
  useEffect(() => {
    if (!useConcepts.getState().loaded) void useConcepts.getState().refresh().catch(() => undefined);
  }, []);
  // the queue is read after start-up: open on Training when there are jobs, unless a tab was picked
  useEffect(() => {
    if (loaded && jobs > 0 && !chosen.current) setTabState('training');
  }, [loaded, jobs]);
  return (
    <div className="page cc-page">
      <div className="page-head">
        <h1>Concepts</h1>
        <p className="lede">Teach the model your own subjects and styles, one task after another, without it forgetting the earlier ones.</p>
      </div>
      <FirstStepCard purpose="to teach it a concept" />
      <div className="cc-tabs" role="tablist" aria-label="Concepts">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" id={`cc-tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`cc-panel-${t.id}`} className={`cc-tab${tab === t.id ? ' is-active' : ''}`} data-testid={`concepts-tab-${t.id}`} onClick={() => setTab(t.id)}>
            {t.label}
            {t.id === 'training' && jobs > 0 && <span className={`cc-tab-badge${running ? ' is-live' : ''}`}>{jobs}</span>}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`cc-panel-${tab}`} aria-labelledby={`cc-tab-${tab}`} className="cc-panel">
        {tab === 'teach' && <TeachPanel onStarted={() => setTab('training')} />}
        {tab === 'training' && <JobsPanel onTeach={() => setTab('teach')} />}
        {tab === 'library' && <LibraryPanel />}
        {tab === 'forgetting' && <ForgettingPanel />}
      </div>
    </div>
  );
}
