/**
 * The keyboard-shortcuts panel (issue 13 point 8): `?` anywhere outside a text field, or the header's
 * "?" button, opens it; Esc or Close shuts it and focus goes back to where it was. A modal dialog:
 * focus moves into it on open and Tab stays inside it.
 */
import { useEffect, useRef, useState } from 'react';
import { typingInField } from '../scenes/stage-hooks';
import { SHORTCUTS } from './shortcuts';
import './shortcuts.css';

export function ShortcutsButton() {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '?' || e.ctrlKey || e.metaKey || e.altKey || typingInField(e)) return;
      e.preventDefault();
      opener.current = document.activeElement as HTMLElement | null;
      setOpen(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };
  return (
    <>
      <button
        type="button" className="chip chip-button" data-testid="shortcuts-open" aria-haspopup="dialog" title="Keyboard shortcuts (?)"
        onClick={(e) => { opener.current = e.currentTarget; setOpen(true); }}
      >
        <span aria-hidden="true">?</span>
        <span className="sr-only">Keyboard shortcuts</span>
      </button>
      {open && <ShortcutsDialog onClose={close} />}
    </>
  );
}

function ShortcutsDialog({ onClose }: { onClose(): void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.querySelector<HTMLElement>('button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        // the Generate page's Esc cancels a run: while the panel is open, Esc only closes it
        e.stopImmediatePropagation();
        e.preventDefault();
        onClose();
      } else if (e.key === 'Tab') {
        // the dialog holds one button: Tab stays on it
        const focusable = box.current?.querySelectorAll<HTMLElement>('button, [href], [tabindex]:not([tabindex="-1"])');
        if (focusable?.length === 1) {
          e.preventDefault();
          focusable[0]!.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey, { capture: true });
    return () => window.removeEventListener('keydown', onKey, { capture: true });
  }, [onClose]);
  return (
    <div className="sk-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="sk-dialog card" role="dialog" aria-modal="true" aria-labelledby="sk-title" ref={box} data-testid="shortcuts-panel">
        <div className="sk-head">
          <h2 id="sk-title">Keyboard shortcuts</h2>
          <button type="button" className="btn btn-small" onClick={onClose} data-testid="shortcuts-close">Close</button>
        </div>
        <div className="sk-groups">
          {SHORTCUTS.map((g) => (
            <section key={g.title} aria-labelledby={`sk-${g.title}`}>
              <h3 id={`sk-${g.title}`}>{g.title}</h3>
              <dl className="sk-list">
                {g.items.map((s) => (
                  <div key={s.what} className="sk-row">
                    <dt>{s.keys.map((k, i) => <span key={k}>{i > 0 && <span className="muted"> or </span>}<kbd>{k}</kbd></span>)}</dt>
                    <dd>{s.what}</dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
        </div>
      </div>
    </div>
  );
}
