/**
 * Under a prompt: its token count ("n/75", "n/150" for two chunks, as A1111 shows it) and, for the main
 * prompt, how prompts longer than 75 tokens are treated — cut (diffusers, the default) or A1111's
 * 75-token chunks, with (word:1.2) emphasis as an option. In truncate mode an over-long prompt says
 * how many tokens will be dropped before anything runs (the run's own notice follows in the output).
 */
import { useStudio } from '../store';
import { useGenerate } from './generate-store';
import { useTokenizer } from './page-tokenizer';
import { countLabel, promptCount } from './prompt-count';

export function TokenCount({ text, testId }: { text: string; testId: string }) {
  const modelId = useStudio((s) => s.activeModelId);
  const tok = useTokenizer(modelId);
  const mode = useGenerate((s) => s.draft.promptMode);
  const emphasis = useGenerate((s) => s.draft.emphasis);
  if (!tok) return null;
  const c = promptCount(tok, text, mode, emphasis);
  return (
    <span className={`gen-tokens num${c.dropped ? ' warn-text' : ''}`} data-testid={testId} title={c.chunks > 1 ? `${c.chunks} chunks of 75 tokens` : 'tokens of the 75 one sequence holds'}>
      {countLabel(c)}
      {c.dropped > 0 && ` · ${c.dropped} will be cut`}
    </span>
  );
}

export function PromptLength() {
  const draft = useGenerate((s) => s.draft);
  const set = useGenerate((s) => s.setDraft);
  return (
    <div className="gen-prompt-length">
      <TokenCount text={draft.prompt} testId="gen-prompt-tokens" />
      <label className="check" title="How prompts longer than 75 tokens are treated">
        <select name="promptMode" data-testid="gen-prompt-mode" value={draft.promptMode} onChange={(e) => set({ promptMode: e.target.value as 'truncate' | 'chunked' })}>
          <option value="truncate">Long prompts: cut at 75 (diffusers)</option>
          <option value="chunked">Long prompts: 75-token chunks (A1111)</option>
        </select>
      </label>
      <label className="check" title="A1111 emphasis: (word) ×1.1, [word] ÷1.1, (word:1.3), \( for a literal bracket, BREAK starts a chunk">
        <input type="checkbox" data-testid="gen-emphasis" checked={draft.emphasis} disabled={draft.promptMode !== 'chunked'} onChange={(e) => set({ emphasis: e.target.checked })} />
        Emphasis <code>(word:1.2)</code>
      </label>
    </div>
  );
}
