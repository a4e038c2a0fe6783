/**
 * The GPU page's kernel tuning card (issue 15 point 4): what the engine measured on this GPU (the
 * fastest matmul tile per shape of the loaded model, engine/autotune.ts) and a button to measure again,
 * e.g. after a driver update. The measurement runs in the engine's queue like any job.
 */
import { useEffect, useState } from 'react';
import type { TuningSummary } from '../../engine/autotune';
import { studioEngine } from '../engine-service';
import { plainError } from '../plain-error';

type State = { phase: 'idle' } | { phase: 'running'; done: number; total: number } | { phase: 'error'; message: string };

export function TuningCard() {
  const [summary, setSummary] = useState<TuningSummary | null | undefined>(undefined);
  const [modelLoaded, setModelLoaded] = useState(false);
  const [state, setState] = useState<State>({ phase: 'idle' });
  useEffect(() => {
    let live = true;
    studioEngine()
      .status()
      .then((s) => {
        if (!live) return;
        setSummary(s.tuning);
        setModelLoaded(s.model !== null);
      }, () => live && setSummary(null));
    return () => {
      live = false;
    };
  }, []);
  const measure = async () => {
    setState({ phase: 'running', done: 0, total: 0 });
    try {
      const s = await studioEngine().retune({ onProgress: (p) => p.status === 'load' && setState({ phase: 'running', done: p.done, total: p.total }) });
      setSummary(s);
      setState({ phase: 'idle' });
    } catch (e) {
      const p = plainError(e as Error);
      setState({ phase: 'error', message: `${p.title}: ${p.message}` });
    }
  };
  return (
    <section className="card" aria-labelledby="tuning-title" data-testid="tuning-card">
      <h3 id="tuning-title" className="card-title">Kernel tuning</h3>
      {summary === undefined ? (
        <p className="muted">Asking the engine…</p>
      ) : summary ? (
        <p data-testid="tuning-summary">
          Measured {new Date(summary.date).toLocaleString()}: the fastest matrix tile for {summary.problems} {summary.problems === 1 ? 'shape' : 'shapes'} of the model, in{' '}
          {(summary.ms / 1000).toFixed(1)} s. The built-in choice was already right for {summary.heuristicRight}; the measured tiles
          run {summary.speedup.toFixed(2)}× as fast as the built-in ones. Tiles never change the numbers: the same seed gives the same image.
        </p>
      ) : (
        <p data-testid="tuning-summary">
          Not measured yet. On a graphics card the studio spends a few seconds at the first model load finding its fastest matrix
          tiles, and remembers them; a software adapter is measured only when you ask.
        </p>
      )}
      {state.phase === 'running' && (
        <p className="small" data-testid="tuning-progress" aria-live="polite">
          Measuring{state.total ? ` ${state.done} of ${state.total} shapes` : ''}…
        </p>
      )}
      {state.phase === 'error' && <p className="small warn-text" role="alert">{state.message}</p>}
      <div className="card-note">
        <button type="button" className="btn btn-small" data-testid="tuning-rerun" disabled={state.phase === 'running' || !modelLoaded} onClick={() => void measure()}>
          {summary ? 'Measure again' : 'Measure now'}
        </button>{' '}
        {!modelLoaded && <span className="small muted">Load a model (generate once) to measure its shapes.</span>}
      </div>
    </section>
  );
}
