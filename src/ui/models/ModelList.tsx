/** The stored models and unfinished imports: size, kind, source, state; Use, Resume and Delete (confirmed). */
import { useRef, useState } from 'react';
import type { ModelEntry, ModelSource } from '../../storage/models/types';
import { formatBytes } from '../format';
import { useStudio } from '../store';
import { clearableImports } from '../../storage/unfinished-imports';
import { importFile, importFolder, isImporting, removeModel, resumeImport, useModel } from './actions';
import { clearFailedImports } from './clear-imports';
import { clearConfirmText, clearOutcomeText, runningImportIds } from './clear-imports-text';
import { FolderInput } from './ImportPanel';
import type { Picked } from './drop';

function sourceText(s: ModelSource | null): string {
  if (!s) return 'unknown source';
  if (s.type === 'url') return s.repo !== undefined ? `${s.repo} on ${new URL(s.hub).host}` : s.url;
  return s.type === 'file' ? `file ${s.name}` : `folder ${s.name}`;
}

const KIND = { sdxl: 'SDXL', sd15: 'SD-1.5' } as const;

function Needs({ m }: { m: ModelEntry }) {
  const needs = m.manifest?.needs ?? [];
  if (needs.length === 0) return null;
  const tok = needs.filter((n) => n.component.startsWith('tokenizer'));
  return (
    <p className="small warn-text" data-testid="model-needs">
      {tok.length > 0 &&
        `A single-file checkpoint carries no tokenizer vocabulary (vocab.json, merges.txt). The studio takes it from ${tok[0]!.from}; import one as well if you have not. `}
      {needs.filter((n) => !n.component.startsWith('tokenizer') && n.component !== 'scheduler').map((n) => `Also needed: ${n.component.replace(/_/g, ' ')}. `)}
    </p>
  );
}

function ResumeButton({ m, busy, onError }: { m: ModelEntry; busy: boolean; onError(message: string | null): void }) {
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const type = m.source?.type;
  const onPick = (p: Picked) => {
    if (p.type === 'file') importFile(p.file);
    if (p.type === 'folder') importFolder(p.name, p.files);
  };
  if (!m.pending) return null;
  const resume = () => {
    if (type === 'url') {
      const r = resumeImport(m.id, m.name);
      onError('error' in r ? r.error : null);
    }
    else if (type === 'file') fileRef.current?.click();
    else folderRef.current?.click();
  };
  return (
    <>
      <button type="button" className="btn btn-small" data-testid="model-resume" disabled={busy} onClick={resume} title={type === 'url' ? 'Continue from the bytes already stored' : `Choose the same ${type} again to continue`}>
        Resume
      </button>
      <input ref={fileRef} type="file" accept=".safetensors" hidden onChange={(e) => e.target.files?.[0] && onPick({ type: 'file', file: e.target.files[0] })} />
      <FolderInput inputRef={folderRef} testId="resume-folder-input" onPick={onPick} />
    </>
  );
}

function Row({ m }: { m: ModelEntry }) {
  const active = useStudio((s) => s.activeModelId === m.id);
  const busy = useStudio((s) => isImporting(s.imports, m.id));
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const verified = m.state === 'verified';
  const size = verified ? formatBytes(m.bytesOnDisk) : `${formatBytes(m.bytesOnDisk)}${m.bytesTotal !== null ? ` of ${formatBytes(m.bytesTotal)}` : ''}`;
  return (
    <li className={`model-row${active ? ' is-active' : ''}`} data-testid="model-row" data-model-id={m.id} data-state={m.state}>
      <div className="model-main">
        <div className="model-name">
          <span className="strong">{m.name}</span>
          {m.kind && <span className="tag">{KIND[m.kind]}</span>}
          {m.layout && <span className="tag">{m.layout === 'diffusers' ? 'diffusers folder' : 'single file'}</span>}
          {verified ? <span className="status status-done">Verified</span> : <span className="status status-cancelled">{busy ? 'Importing' : 'Incomplete'}</span>}
          {active && <span className="status status-active">In use</span>}
        </div>
        <p className="small muted">
          <span className="num" data-testid="model-size">{size}</span> · {sourceText(m.source)}
        </p>
        {!verified && !busy && (
          <p className="small muted">
            {m.problem
              ? `Not usable: ${m.problem}.`
              : m.source?.type === 'url'
                ? 'Not finished, so not usable yet. Resume continues from the bytes already stored.'
                : `Not finished, so not usable yet. Resume asks for the same ${m.source?.type ?? 'file'} again and continues from the bytes already copied.`}
          </p>
        )}
        <Needs m={m} />
        {error && <p className="import-input-error" role="alert">{error}</p>}
      </div>
      <div className="model-actions">
        {confirm ? (
          <>
            <span className="small">Delete and free {formatBytes(m.bytesOnDisk)}?</span>
            <button
              type="button"
              className="btn btn-small btn-danger"
              data-testid="model-delete-confirm"
              onClick={() => {
                setConfirm(false);
                void removeModel(m.id).then(setError);
              }}
            >
              Delete
            </button>
            <button type="button" className="btn btn-small btn-quiet" onClick={() => setConfirm(false)}>Keep</button>
          </>
        ) : (
          <>
            {verified && !active && <button type="button" className="btn btn-small" data-testid="model-use" onClick={() => void useModel(m.id)}>Use</button>}
            {!verified && <ResumeButton m={m} busy={busy} onError={setError} />}
            <button type="button" className="btn btn-small btn-quiet" data-testid="model-delete" disabled={busy} onClick={() => setConfirm(true)}>Delete</button>
          </>
        )}
      </div>
    </li>
  );
}

/** "Clear failed imports": every unfinished import not running in this tab, after an inline confirmation (how many, how many bytes). */
function ClearImports() {
  const models = useStudio((s) => s.models);
  const rows = useStudio((s) => s.imports);
  const [confirm, setConfirm] = useState(false);
  const [working, setWorking] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const { imports, bytes } = clearableImports(
    models.map((m) => ({ id: m.id, name: m.name, state: m.state, bytes: m.bytesOnDisk })),
    runningImportIds(rows),
  );
  const clear = async () => {
    setConfirm(false);
    setWorking(true);
    try {
      const out = await clearFailedImports(imports);
      setOutcome({ ok: out.busy.length === 0 && out.failed.length === 0, text: clearOutcomeText(out) });
    } finally {
      setWorking(false);
    }
  };
  return (
    <>
      {imports.length > 0 && (
        <div className="clear-imports">
          {confirm ? (
            <>
              <span className="small">{clearConfirmText(imports.length, bytes)}</span>
              <button type="button" className="btn btn-small btn-danger" data-testid="clear-failed-imports-confirm" onClick={() => void clear()}>Delete</button>
              <button type="button" className="btn btn-small btn-quiet" onClick={() => setConfirm(false)}>Keep</button>
            </>
          ) : (
            <button type="button" className="btn btn-small btn-danger" data-testid="clear-failed-imports" data-count={imports.length} data-bytes={bytes} disabled={working} onClick={() => setConfirm(true)}>
              {working ? 'Deleting…' : `Clear failed imports (${imports.length}, ${formatBytes(bytes)})`}
            </button>
          )}
        </div>
      )}
      {outcome && <p className={`small clear-imports-outcome${outcome.ok ? '' : ' import-input-error'}`} role="status" data-testid="clear-imports-outcome">{outcome.text}</p>}
    </>
  );
}

export function ModelList() {
  const models = useStudio((s) => s.models);
  const loaded = useStudio((s) => s.modelsLoaded);
  const error = useStudio((s) => s.modelsError);
  return (
    <section className="card" aria-labelledby="models-title">
      <h2 id="models-title" className="card-title">On this device</h2>
      <ClearImports />
      {error && <p className="import-input-error" role="alert">{error}</p>}
      {loaded && models.length === 0 && <p className="muted" data-testid="models-empty">No model yet. Import an SDXL or SD-1.5 model above: a Hugging Face repo, a .safetensors checkpoint, or a diffusers folder.</p>}
      <ul className="model-list">{models.map((m) => <Row key={m.id} m={m} />)}</ul>
    </section>
  );
}
