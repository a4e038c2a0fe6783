/** The left navigation. Sections that are not built yet are shown, disabled, with a "Soon" badge. */
import type { ReactNode } from 'react';
import { IconChip, IconConcepts, IconGallery, IconGenerate, IconModels, IconScenes, IconSettings } from './Icons';
import { useStudio, type Section } from './store';

interface Item {
  id: Section;
  label: string;
  hint: string;
  icon: ReactNode;
  ready: boolean;
}

const GROUPS: { title: string; items: Item[] }[] = [
  {
    title: 'Create',
    items: [
      { id: 'generate', label: 'Generate', hint: 'Text to image with your concepts', icon: <IconGenerate />, ready: true },
      { id: 'concepts', label: 'Concepts', hint: 'Teach the model a subject or a style', icon: <IconConcepts />, ready: true },
      { id: 'scenes', label: 'Scenes', hint: 'Paint regions, one concept each', icon: <IconScenes />, ready: true },
      { id: 'gallery', label: 'Gallery', hint: 'Everything you have made', icon: <IconGallery />, ready: true },
    ],
  },
  {
    title: 'Setup',
    items: [
      { id: 'models', label: 'Models', hint: 'SDXL and SD-1.5 weights on this device', icon: <IconModels />, ready: true },
      { id: 'settings', label: 'Settings', hint: 'Precision, memory, storage', icon: <IconSettings />, ready: true },
      { id: 'gpu', label: 'GPU', hint: 'The adapter the studio runs on', icon: <IconChip />, ready: true },
    ],
  },
];

export function Nav() {
  const section = useStudio((s) => s.section);
  const setSection = useStudio((s) => s.setSection);
  return (
    <nav className="sidenav" aria-label="Studio sections">
      {GROUPS.map((group) => (
        <div className="nav-group" key={group.title}>
          <div className="nav-title">{group.title}</div>
          <ul>
            {group.items.map((item) => (
              <li key={item.id}>
                <button
                  type="button"
                  className={`nav-item${section === item.id ? ' is-active' : ''}`}
                  aria-current={section === item.id ? 'page' : undefined}
                  aria-disabled={!item.ready}
                  disabled={!item.ready}
                  title={item.ready ? item.hint : `${item.hint} — coming soon`}
                  onClick={() => setSection(item.id)}
                >
                  <span className="nav-icon">{item.icon}</span>
                  <span className="nav-label">{item.label}</span>
                  {!item.ready && <span className="badge-soon">Soon</span>}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
      <div className="nav-foot">
        <div className="nav-foot-line"><span className="dot dot-ok" />Runs on this device</div>
        <div className="nav-foot-sub">Nothing you make leaves it. v{__APP_VERSION__}</div>
      </div>
    </nav>
  );
}
