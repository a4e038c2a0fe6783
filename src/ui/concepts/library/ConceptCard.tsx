/**
 * One concept of the library: its pictures (a sample, the training thumbnails), name (renamed inline),
 * the phrase prompts name it by, task number, model, steps, date and loss curve; export it in three
 * forms, delete it after a confirmation that says what that means for the later tasks.
 */
import { useState } from 'react';
import type { ConceptSummary } from '../../../storage/concepts/record';
import { conceptsConsolidatedAgainst } from '../../../storage/concepts/store';
import { formatBytes } from '../../format';
import { appendConcept, conceptPhrase } from '../prompt/autocomplete';
import { useGenerate } from '../../generate/generate-store';
import { useStudio } from '../../store';
import { useBlobUrl } from './blob-url';
import { exportConceptAs, removeConceptById, renameConceptTo, type ExportKind } from './library-actions';
import { deleteWarning, errorText, errorTitle } from './messages';
import { Sparkline } from './Sparkline';

export interface CardProps {
  concept: ConceptSummary;
  /** The model's name, or null when the model is not in this studio. */
  modelName: string | null;
  /** Trained on another model than the active one. */
  otherModel: boolean;
  onMessage(m: { kind: 'ok' | 'bad'; title?: string; text: string }): void;
}

function Thumb({ blob, alt, className }: { blob: Blob; alt: string; className: string }) {
  const url = useBlobUrl(blob);
  return url ? <img src={url} alt={alt} className={className} /> : <span className={className} />;
}

function Name({ concept, onMessage }: Pick<CardProps, 'concept' | 'onMessage'>) {
  const [editing, setEditing] = useState<string | null>(null);
  const save = async () => {
    const name = (editing ?? '').trim();
    setEditing(null);
    if (!name || name === concept.name) return;
    try {
      await renameConceptTo(concept.id, name);
    } catch (err) {
      onMessage({ kind: 'bad', title: errorTitle(err), text: errorText(err) });
    }
  };
  if (editing === null) {
    return (
      <div className="cl-name-row">
        <h3 className="cl-name" data-testid="concept-name" onDoubleClick={() => setEditing(concept.name)}>{concept.name}</h3>
        <button type="button" className="cl-link" data-testid="concept-rename" aria-label={`Rename ${concept.name}`} onClick={() => setEditing(concept.name)}>Rename</button>
      </div>
    );
  }
  return (
    <input
      className="cl-name-input"
      data-testid="concept-rename-input"
      aria-label={`New name for ${concept.name}`}
      autoFocus
      value={editing}
      maxLength={120}
      onChange={(e) => setEditing(e.target.value)}
      onBlur={() => void save()}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          void save();
        } else if (e.key === 'Escape') {
          e.stopPropagation();
          setEditing(null);
        }
      }}
    />
  );
}

function DeleteConfirm({ concept, text, onDone, onMessage }: { concept: ConceptSummary; text: string; onDone(): void } & Pick<CardProps, 'onMessage'>) {
  return (
    <div className="cl-confirm" role="alertdialog" aria-label={`Delete ${concept.name}?`} aria-describedby={`del-${concept.id}`} data-testid="concept-delete-confirm">
      <p id={`del-${concept.id}`} className="small">{text}</p>
      <div className="cl-actions">
        <button
          type="button"
          className="btn cl-danger"
          data-testid="concept-delete-yes"
          autoFocus
          onClick={async () => {
            onDone();
            try {
              await removeConceptById(concept.id);
              onMessage({ kind: 'ok', text: `Deleted "${concept.name}".` });
            } catch (err) {
              onMessage({ kind: 'bad', title: errorTitle(err), text: errorText(err) });
            }
          }}
        >
          Delete
        </button>
        <button type="button" className="btn" data-testid="concept-delete-no" onClick={onDone}>Keep it</button>
      </div>
    </div>
  );
}

const EXPORTS: { kind: ExportKind; label: string; what: string; title: string }[] = [
  { kind: 'concept', label: 'Export', what: 'the concept file', title: 'The whole concept as one .cidm.safetensors file (import it into another CIDM Studio)' },
  { kind: 'lora', label: 'LoRA', what: 'its kohya LoRA, for other SDXL tools', title: 'Its LoRA as a kohya .safetensors for other SDXL tools (A1111, ComfyUI); use it with the embedding' },
  { kind: 'embedding', label: 'Embedding', what: 'its embedding (clip_l, clip_g), for other SDXL tools', title: 'Its tokens (clip_l / clip_g, averaged over layers) as an embedding file for other SDXL tools' },
];

/** Appends the concept's phrase to the Generate draft's prompt and opens Generate. */
function useInPrompt(c: ConceptSummary): void {
  const { draft, setDraft } = useGenerate.getState();
  setDraft({ prompt: appendConcept(draft.prompt, c) });
  useStudio.getState().setSection('generate');
}

export function ConceptCard({ concept: c, modelName, otherModel, onMessage }: CardProps) {
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sample = c.samples[0];
  const cover = sample?.image ?? c.thumbnails[0];
  const exportAs = async (kind: ExportKind) => {
    setBusy(true);
    try {
      const name = await exportConceptAs(c.id, kind);
      onMessage({ kind: 'ok', text: `Saved ${name}: ${EXPORTS.find((x) => x.kind === kind)!.what}.` });
    } catch (err) {
      onMessage({ kind: 'bad', title: errorTitle(err), text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className={`cl-card card${otherModel ? ' is-other' : ''}`} data-testid="concept-card" data-concept-id={c.id} aria-label={c.name}>
      <div className="cl-cover">
        {cover ? <Thumb blob={cover} alt={sample ? `Sample: ${sample.prompt}` : `${c.name}, a training photo`} className="cl-cover-img" /> : <span className="cl-cover-empty" aria-hidden="true">{c.name.slice(0, 1).toUpperCase()}</span>}
        <span className="cl-task" title="Task number: the order concepts were learned in">#{c.taskIndex}</span>
      </div>
      <div className="cl-body">
        <Name concept={c} onMessage={onMessage} />
        <p className="cl-phrase" title="Write this in a prompt to use the concept">
          <code data-testid="concept-phrase">{conceptPhrase(c)}</code>
        </p>
        {otherModel && (
          <p className="chip chip-warn cl-other" data-testid="concept-other-model" title="Concepts apply only to the model they were trained on">
            {modelName ? `Model: ${modelName}` : `Model not here: ${c.modelId}`}
          </p>
        )}
        <dl className="cl-facts small">
          {!otherModel && <div><dt>Model</dt><dd>{modelName ?? c.modelId}</dd></div>}
          <div><dt>Steps</dt><dd className="value">{c.hyper.steps}</dd></div>
          <div><dt>Rank</dt><dd className="value">{c.rank}</dd></div>
          <div><dt>Made</dt><dd>{new Date(c.createdAt).toLocaleDateString()}</dd></div>
          <div><dt>Size</dt><dd className="value">{formatBytes(c.tensorBytes)}</dd></div>
        </dl>
        {c.thumbnails.length > 0 && (
          <div className="cl-thumbs" aria-label="Training photos">
            {c.thumbnails.slice(0, 6).map((t, k) => <Thumb key={k} blob={t} alt={`Training photo ${k + 1}`} className="cl-thumb" />)}
          </div>
        )}
        {c.lossCurve.length > 1 ? <Sparkline values={c.lossCurve} label={`${c.name} training`} /> : <p className="small muted">{c.thumbnails.length ? 'No loss curve.' : 'Imported: no photos or loss curve.'}</p>}
        <div className="cl-actions">
          {!otherModel && (
            <button type="button" className="btn btn-primary cl-btn-sm" data-testid="concept-use" title="Add this concept's words to the Generate prompt" onClick={() => useInPrompt(c)}>
              Use in prompt
            </button>
          )}
          {EXPORTS.map((x) => (
            <button key={x.kind} type="button" className="btn cl-btn-sm" title={x.title} disabled={busy} data-testid={`concept-export-${x.kind}`} onClick={() => void exportAs(x.kind)}>
              {x.label}
            </button>
          ))}
          <button
            type="button"
            className="btn cl-btn-sm cl-danger"
            data-testid="concept-delete"
            disabled={busy || confirm !== null}
            onClick={async () => {
              const later = await conceptsConsolidatedAgainst(c.id).catch(() => []);
              setConfirm(deleteWarning(c, later));
            }}
          >
            Delete
          </button>
        </div>
        {confirm !== null && <DeleteConfirm concept={c} text={confirm} onDone={() => setConfirm(null)} onMessage={onMessage} />}
      </div>
    </li>
  );
}
