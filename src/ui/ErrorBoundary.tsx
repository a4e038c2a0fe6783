/**
 * Catches render errors anywhere below it and shows a calm recovery card instead of a blank page.
 * The message is shown in plain words (plain-error.ts: a built-in RangeError's text never reaches the
 * screen); the error itself and the stack go to the console only (they help a developer, not a user).
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { serializeError, type SerializedError } from '../gpu';
import { IconAlert, Logo } from './Icons';
import { useStudio } from './store';
import { plainError } from './plain-error';

interface State {
  error: SerializedError | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(err: unknown): State {
    return { error: serializeError(err) };
  }

  override componentDidCatch(err: unknown, info: ErrorInfo): void {
    console.error('CIDM Studio render error', err, info.componentStack);
    useStudio.getState().setCrash(serializeError(err));
  }

  private readonly retry = () => {
    useStudio.getState().setCrash(null);
    this.setState({ error: null });
  };

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <main className="nogpu" data-testid="crash" role="alert">
        <div className="nogpu-card">
          <div className="nogpu-brand"><Logo size={32} /><span>CIDM Studio</span></div>
          <div className="nogpu-icon nogpu-icon-bad"><IconAlert /></div>
          <h1>Something went wrong in the studio</h1>
          <p className="lede">
            A part of the page failed to draw. Your concepts, scenes and images are stored on this device and are not
            affected.
          </p>
          <div className="nogpu-reason">
            <div className="nogpu-reason-head"><span className="nogpu-reason-label">Error</span></div>
            <p data-testid="crash-message">{plainError(error).message}</p>
          </div>
          <div className="nogpu-actions">
            <button type="button" className="btn btn-primary" onClick={() => window.location.reload()}>Reload the studio</button>
            <button type="button" className="btn" onClick={this.retry}>Try to continue</button>
          </div>
        </div>
      </main>
    );
  }
}
