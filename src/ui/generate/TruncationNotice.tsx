/** The run's notice that prompts were cut to 77 tokens (issue 12 point 4: never silently). */
import { describeTruncation } from '../../engine/prompt-notices';
import { useGenerate } from './generate-store';

export function TruncationNotice() {
  const truncated = useGenerate((s) => s.truncated);
  const asked = useGenerate((s) => s.draft.promptMode);
  if (!truncated.length) return null;
  return (
    <div className="callout" role="status" data-testid="gen-truncated">
      {truncated.map((n) => (
        <p key={n.field} className="small">
          {describeTruncation(n)}
        </p>
      ))}
      <p className="small muted">
        {asked === 'chunked'
          ? 'Runs with painted regions or concepts encode each prompt as one 77-token sequence; shorten these prompts to keep every word.'
          : 'Choose “75-token chunks” under the prompt to keep every word, or shorten the prompt.'}
      </p>
    </div>
  );
}
