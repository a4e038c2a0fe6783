/**
 * The concept library (issue 11 point 3, "Keep"): every learned or imported concept, the active
 * model's first (in task order), then those of other models, marked. Search by name, class word or
 * placeholder; import a concept file (.cidm.safetensors). Named import errors are shown with what to do.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { conceptLibraryBytes } from '../../../storage/concepts/store';
import { matchesConceptQuery } from '../../../storage/concepts/record';
import { formatBytes } from '../../format';
import { useStudio } from '../../store';
import { conceptsOfModel, ensureConcepts, useConcepts } from '../concepts-store';
import { ConceptCard } from './ConceptCard';
import { importConceptFile } from './library-actions';
import { errorText, errorTitle } from './messages';
import './library.css';

interface Message {
  kind: 'ok' | 'bad';
  title?: string;
  text: string;
}

function useModelNames(): Map<string, string> {
  const models = useStudio((s) => s.models);
  return useMemo(() => new Map(models.map((m) => [m.id, m.name])), [models]);
}

export function LibraryPanel() {
  const { concepts, unreadable, loaded, error } = useConcepts();
  const activeModelId = useStudio((s) => s.activeModelId);
  const names = useModelNames();
  const [query, setQuery] = useState('');
  const [message, setMessage] = useState<Message | null>(null);
  const [bytes, setBytes] = useState<number | null>(null);
  const [importing, setImporting] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void ensureConcepts();
  }, []);
  useEffect(() => {
    conceptLibraryBytes().then(setBytes, () => setBytes(null));
  }, [concepts]);

  const found = concepts.filter((c) => matchesConceptQuery(c, query));
  const mine = conceptsOfModel(found, activeModelId);
  const others = found.filter((c) => c.modelId !== activeModelId);

  const onFiles = async (files: FileList | null) => {
    if (!files || files.length === 0) return;
    setImporting(true);
    const lines: string[] = [];
    try {
      for (const f of Array.from(files)) lines.push(await importConceptFile(f, activeModelId, names));
      setMessage({ kind: 'ok', text: lines.join(' ') });
    } catch (err) {
      setMessage({ kind: 'bad', title: errorTitle(err), text: [...lines, errorText(err)].join(' ') });
    } finally {
      setImporting(false);
      if (fileInput.current) fileInput.current.value = '';
    }
  };

  const card = (c: (typeof concepts)[number]) => (
    <ConceptCard key={c.id} concept={c} modelName={names.get(c.modelId) ?? null} otherModel={c.modelId !== activeModelId} onMessage={setMessage} />
  );

  return (
    <section className="card cl-library" data-testid="concept-library" aria-label="Concept library">
      <div className="cl-head">
        <div>
          <h2 className="card-title">Library</h2>
          <p className="small muted" data-testid="concept-count">
            {loaded ? `${concepts.length} concept${concepts.length === 1 ? '' : 's'}${bytes !== null ? ` · ${formatBytes(bytes)}` : ''}` : 'Reading the library…'}
          </p>
        </div>
        <div className="cl-tools">
          <input type="search" className="cl-search" placeholder="Search name, class word, <token>" aria-label="Search concepts" data-testid="concept-search" value={query} onChange={(e) => setQuery(e.target.value)} />
          <button type="button" className="btn" data-testid="concept-import" disabled={importing} onClick={() => fileInput.current?.click()} title="Import a concept exported by CIDM Studio (.cidm.safetensors)">
            {importing ? 'Importing…' : 'Import concept'}
          </button>
          <input ref={fileInput} type="file" accept=".safetensors" multiple hidden data-testid="concept-import-file" aria-label="Concept file" onChange={(e) => void onFiles(e.target.files)} />
        </div>
      </div>
      {message && (
        <div className={`callout ${message.kind === 'bad' ? 'callout-bad' : 'cl-ok'} cl-message`} role={message.kind === 'bad' ? 'alert' : 'status'} data-testid="concept-message">
          {message.title && <strong className="cl-message-title">{message.title}. </strong>}
          <span>{message.text}</span>
          <button type="button" className="cl-link" aria-label="Dismiss" onClick={() => setMessage(null)}>×</button>
        </div>
      )}
      {error && <p className="callout callout-bad" role="alert">{error}</p>}
      {unreadable.length > 0 && (
        <p className="callout callout-warn small" data-testid="concept-unreadable">
          {unreadable.length} stored concept{unreadable.length === 1 ? ' is' : 's are'} unreadable (damaged, or from a newer studio) and not listed.
        </p>
      )}
      {loaded && concepts.length === 0 && <p className="muted cl-empty">No concepts yet. Teach one above, or import a concept file.</p>}
      {loaded && concepts.length > 0 && found.length === 0 && <p className="muted cl-empty" data-testid="concept-none-found">No concept matches “{query}”.</p>}
      {mine.length > 0 && <ul className="cl-grid" data-testid="concept-list" aria-label="Concepts of the active model">{mine.map(card)}</ul>}
      {others.length > 0 && (
        <>
          <h3 className="cl-subhead">{activeModelId ? 'Other models' : 'Concepts (choose a model to use them)'}</h3>
          <p className="small muted">A concept only applies to the model it was trained on; these are used when their model is active.</p>
          <ul className="cl-grid" data-testid="concept-list-other" aria-label="Concepts of other models">{others.map(card)}</ul>
        </>
      )}
    </section>
  );
}
