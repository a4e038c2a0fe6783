/** A button that copies a text and says "Copied" for a moment; a refusal goes to `onRefused` as a sentence. */
import { useEffect, useRef, useState } from 'react';
import { CLIPBOARD_REFUSED, copyText } from './clipboard';

interface Props {
  text: string | null;
  label: string;
  /** The accessible name when `label` alone is ambiguous ("Copy" beside the seed → "Copy seed"). */
  ariaLabel?: string;
  className?: string;
  testId?: string;
  onRefused(message: string): void;
  onCopied?(): void;
}

export function CopyButton({ text, label, ariaLabel, className = 'btn', testId, onRefused, onCopied }: Props) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      className={`${className} gal-copy${copied ? ' is-copied' : ''}`}
      aria-label={ariaLabel}
      disabled={text === null}
      data-testid={testId}
      onClick={() => {
        if (text === null) return;
        void copyText(text).then((ok) => {
          if (!ok) return onRefused(CLIPBOARD_REFUSED);
          onCopied?.();
          setCopied(true);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => setCopied(false), 1600);
        });
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </button>
  );
}
