/** A one-line message at the top of the section (parameters restored from a PNG, GPU recovered, …). */
import { useGenerate } from './generate/generate-store';

export function Notice() {
  const notice = useGenerate((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="callout notice" role="status" data-testid="notice">
      <p>{notice}</p>
      <button type="button" className="btn" onClick={() => useGenerate.setState({ notice: null })} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
