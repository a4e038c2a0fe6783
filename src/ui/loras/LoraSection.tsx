/**
 * The Models page's LoRAs card (issue 13 point 1). LoRAs live beside the models, not among the
 * concepts: a plain LoRA is an add-on file from another tool (kohya, diffusers, peft) that fits one
 * base model and is checked against it, as a checkpoint is; concepts are the studio's own CIDM tasks
 * with placeholder words and EWA. Drop or pick `.safetensors` files; rename (the name prompts use),
 * delete; a refused file is said by name.
 */
import { useEffect, useState } from 'react';
import { formatBytes } from '../format';
import { formatLoraTag } from '../../model/lora/prompt-tags';
import type { LoraRecord } from '../../storage/loras/record';
import { deleteStoredLora, ensureLoras, importLoraFiles, renameStoredLora, useLoras } from './loras-store';

const FORMAT: Record<LoraRecord['format'], string> = { kohya: 'kohya', peft: 'peft', 'diffusers-legacy': 'diffusers' };

function LoraRow({ r }: { r: LoraRecord }) {
  const [name, setName] = useState(r.name);
  const [confirm, setConfirm] = useState(false);
  useEffect(() => setName(r.name), [r.name]);
  return (
    <li className="model-row" data-testid="lora-row" data-lora-id={r.id}>
      <div className="model-main">
        <div className="model-name">
          <span className="strong" data-testid="lora-name">{r.name}</span>
          <span className="tag">{FORMAT[r.format]}</span>
          <span className="tag">rank {r.rank}</span>
        </div>
        <p className="small muted">
          <span className="num">{formatBytes(r.bytes)}</span> · {r.unetLayers} UNet and {r.teLayers} text-encoder layers · hash <span className="num" data-testid="lora-hash">{r.hash}</span> · in prompts: <code>{formatLoraTag(r.name, 0.8)}</code>
        </p>
      </div>
      <div className="model-actions">
        <input aria-label={`Name of ${r.name}`} data-testid="lora-rename-input" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="button" className="btn btn-small" data-testid="lora-rename" disabled={name === r.name} onClick={() => void renameStoredLora(r.id, name)}>Rename</button>
        {confirm ? (
          <button type="button" className="btn btn-small btn-danger" data-testid="lora-delete-confirm" onClick={() => void deleteStoredLora(r.id)}>Delete for good</button>
        ) : (
          <button type="button" className="btn btn-small btn-quiet" data-testid="lora-delete" onClick={() => setConfirm(true)}>Delete</button>
        )}
      </div>
    </li>
  );
}

export function LoraSection() {
  const { loras, busy, error, loaded } = useLoras();
  const [over, setOver] = useState(false);
  useEffect(() => ensureLoras(), []);
  const take = (files: FileList | null) => {
    const list = [...(files ?? [])];
    if (list.length) void importLoraFiles(list);
  };
  return (
    <section
      className={`card${over ? ' is-drop' : ''}`}
      aria-labelledby="loras-title"
      data-testid="lora-section"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
    >
      <h2 id="loras-title" className="card-title">LoRAs</h2>
      <p className="small muted">
        Drop <code>.safetensors</code> LoRAs (kohya, diffusers or peft) here, or{' '}
        <label className="link">
          pick files
          <input type="file" accept=".safetensors" multiple hidden data-testid="lora-import-input" onChange={(e) => take(e.target.files)} />
        </label>
        . Each is checked against the model in use. Use one in a prompt as <code>&lt;lora:name:0.8&gt;</code>.
      </p>
      {busy && <p className="small" role="status">Checking and storing…</p>}
      {error && (
        <p className="small warn-text" role="alert" data-testid="lora-error">
          {error.message}
        </p>
      )}
      {loaded && loras.length === 0 && <p className="muted" data-testid="loras-empty">No LoRA yet.</p>}
      <ul className="model-list">
        {loras.map((r) => (
          <LoraRow key={r.id} r={r} />
        ))}
      </ul>
    </section>
  );
}
