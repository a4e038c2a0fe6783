/// <reference types="vite-plugin-pwa/vanillajs" />
import type { AdapterSummary, SerializedError } from '../gpu';

/**
 * The test bridge: a plain-data snapshot of the shell's state, refreshed on every store change, for
 * the Playwright specs (and for a person poking at the console). Never read by the app itself.
 */
export interface StudioBridge {
  /** true once the GPU probe has finished, whether it succeeded or not. */
  ready: boolean;
  gpu: AdapterSummary | null;
  /** Features enabled on the device that was created. */
  enabled: { f16: boolean; subgroups: boolean; timestamps: boolean } | null;
  error: SerializedError | null;
  failureKind: string | null;
  offlineReady: boolean;
  /** A render error the error boundary caught. */
  crash: SerializedError | null;
}

declare global {
  interface Window {
    __studio?: StudioBridge;
  }
}

declare global {
  /** package.json's version, defined by vite.config.ts. */
  const __APP_VERSION__: string;
}
