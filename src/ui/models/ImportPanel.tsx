/** Import: a repo id or URL, a picked .safetensors file, a picked or dropped diffusers folder; the hub under Advanced. */
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useStudio } from '../store';
import { importFile, importFolder, importFromText, setAccessToken, setHubUrl } from './actions';
import { fromDrop, fromFolderInput, type Picked } from './drop';
import { takeImportFocus } from './import-focus';
import { reasonOf } from '../plain-error';

function start(p: Picked, setError: (e: string | null) => void): void {
  if (p.type === 'file') importFile(p.file);
  else if (p.type === 'folder') importFolder(p.name, p.files);
  else return setError(p.why);
  setError(null);
}

/** A hidden folder input (React has no typed prop for webkitdirectory). */
export function FolderInput({ inputRef, onPick, testId }: { inputRef: React.RefObject<HTMLInputElement | null>; onPick(p: Picked): void; testId: string }) {
  useEffect(() => {
    if (inputRef.current) inputRef.current.webkitdirectory = true;
  }, [inputRef]);
  return (
    <input
      ref={inputRef}
      type="file"
      multiple
      hidden
      data-testid={testId}
      onChange={(e) => {
        if (e.target.files) onPick(fromFolderInput(e.target.files));
        e.target.value = '';
      }}
    />
  );
}

export function ImportPanel() {
  const hubUrl = useStudio((s) => s.hubUrl);
  const [text, setText] = useState('');
  const [hub, setHub] = useState(hubUrl);
  const [error, setError] = useState<string | null>(null);
  const [hubError, setHubError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const sourceRef = useRef<HTMLInputElement>(null);
  // opened from a first-step card: the import field is where to start (highlighted until used)
  const [highlight, setHighlight] = useState(false);
  useEffect(() => setHub(hubUrl), [hubUrl]);
  useEffect(() => {
    if (!takeImportFocus()) return;
    setHighlight(true);
    sourceRef.current?.focus();
  }, []);

  const saveHub = async () => setHubError(await setHubUrl(hub));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (hub !== hubUrl) {
      const bad = await setHubUrl(hub);
      setHubError(bad);
      if (bad) return;
    }
    const r = importFromText(text);
    if ('error' in r) setError(r.error);
    else {
      setError(null);
      setText('');
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void fromDrop(e.dataTransfer).then((p) => start(p, setError), (err: unknown) => setError(reasonOf(err)));
  };

  return (
    <section className={`card models-import${highlight ? ' is-first-step' : ''}`} aria-labelledby="import-title" data-first-step={highlight || undefined}>
      <h2 id="import-title" className="card-title">Import a model</h2>
      <form className="import-form" onSubmit={(e) => void submit(e)}>
        <label className="sr-only" htmlFor="import-source">Hugging Face repo or .safetensors URL</label>
        <input
          ref={sourceRef}
          id="import-source"
          className="text-input"
          data-testid="import-source"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="stabilityai/stable-diffusion-xl-base-1.0 or https://…/model.safetensors"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setHighlight(false);
          }}
        />
        <button type="submit" className="btn btn-primary" data-testid="import-go" disabled={text.trim() === ''}>Import</button>
      </form>
      {error && <p className="import-input-error" role="alert" data-testid="import-input-error">{error}</p>}
      <div
        className={`drop-zone${dragging ? ' is-over' : ''}`}
        data-testid="import-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop a <code>.safetensors</code> checkpoint or a diffusers folder here, or</p>
        <div className="drop-actions">
          <button type="button" className="btn" onClick={() => fileRef.current?.click()}>Choose a file…</button>
          <button type="button" className="btn" onClick={() => folderRef.current?.click()}>Choose a folder…</button>
        </div>
        <input
          ref={fileRef}
          type="file"
          accept=".safetensors"
          hidden
          data-testid="import-file-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) start({ type: 'file', file: f }, setError);
            e.target.value = '';
          }}
        />
        <FolderInput inputRef={folderRef} testId="import-folder-input" onPick={(p) => start(p, setError)} />
        <p className="small muted">
          A single-file checkpoint carries no tokenizer vocabulary: choose a folder that holds it with its <code>tokenizer/</code> and{' '}
          <code>tokenizer_2/</code> folders, or import a diffusers SDXL as well. <code>.ckpt</code> and other pickle files are never read (loading one can run code).
        </p>
      </div>
      <details className="advanced">
        <summary>Advanced</summary>
        <div className="advanced-body">
          <label className="field">
            <span className="field-label">Hub address</span>
            <input
              type="url"
              className="text-input"
              data-testid="hub-url"
              value={hub}
              onChange={(e) => setHub(e.target.value)}
              onBlur={() => void saveHub()}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  void saveHub();
                }
              }}
            />
            <span className="small muted">Repo ids are looked up here (a Hugging Face mirror, or a local server).</span>
            {hubError && <span className="import-input-error" role="alert">{hubError}</span>}
          </label>
          <label className="field">
            <span className="field-label">Access token (gated repos)</span>
            <input type="password" className="text-input" autoComplete="off" placeholder="hf_…" onChange={(e) => setAccessToken(e.target.value)} />
            <span className="small muted">Kept in memory for this tab only; sent only with this tab's downloads.</span>
          </label>
        </div>
      </details>
    </section>
  );
}
