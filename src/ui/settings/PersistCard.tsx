/**
 * Persistent storage (Storage API, https://storage.spec.whatwg.org/#persistence): whether the browser
 * has agreed to keep this site's data, and the request. Without it the browser may evict the models,
 * the gallery and the concepts when the device runs low on space ("best-effort" mode).
 */
import type { PersistOutcome } from '../../storage/usage';
import { keepMyData, useSettings } from './settings-store';

const ANSWER: Record<PersistOutcome, { title: string; text: string }> = {
  granted: {
    title: 'Granted',
    text: 'The browser keeps your models, gallery and concepts until you delete them here or clear the site’s data yourself.',
  },
  denied: {
    title: 'Not granted',
    text: 'The browser decided not to, this time. Your data stays where it is, but under storage pressure the browser may still evict it. Browsers grant this more readily to sites you use often or install as an app; you can ask again later.',
  },
  unsupported: {
    title: 'Not available',
    text: 'This browser cannot be asked to keep the data; it may evict it under storage pressure.',
  },
};

export function PersistCard() {
  const persisted = useSettings((s) => s.usage?.estimate?.persisted ?? null);
  const answer = useSettings((s) => s.persistRequest);
  const busy = useSettings((s) => s.persistBusy);
  return (
    <section className="card settings-card" aria-labelledby="persist-title" data-testid="persist-card">
      <h2 className="settings-h2" id="persist-title">Keep my data</h2>
      <p className="small muted settings-sub">
        Everything the studio stores stays on this device; nothing is uploaded. Unless you ask it to keep the data, the
        browser may evict the models, the gallery and the concepts when the device runs low on space, and you would
        have to import the models again.
      </p>
      <p className="persist-state" data-testid="persist-state" data-persisted={persisted === null ? 'unknown' : String(persisted)}>
        <span className={`dot ${persisted ? 'dot-ok' : 'dot-warn'}`} />
        {persisted === null
          ? 'Checking whether the browser keeps the data…'
          : persisted
            ? 'Kept: the browser will not evict the studio’s data to free space.'
            : 'Best effort: the browser may evict the studio’s data under storage pressure.'}
      </p>
      <button type="button" className="btn btn-primary" data-testid="persist-request" disabled={busy} onClick={() => void keepMyData()}>
        {busy ? 'Asking the browser…' : 'Keep my data'}
      </button>
      {answer && (
        <div className={`persist-answer is-${answer}`} role="status" data-testid="persist-result" data-result={answer}>
          <span className="strong">{ANSWER[answer].title}.</span> {ANSWER[answer].text}
        </div>
      )}
    </section>
  );
}
