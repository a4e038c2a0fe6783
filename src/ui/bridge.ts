/** Keeps window.__studio (declared in studio.d.ts) in step with the store. */
import { useStudio, type StudioState } from './store';
import type { StudioBridge } from './studio';

function snapshot(s: StudioState): StudioBridge {
  return {
    ready: s.gpuStatus !== 'probing',
    gpu: s.summary,
    enabled: s.enabled,
    error: s.gpuError,
    failureKind: s.failureKind,
    offlineReady: s.offlineReady,
    crash: s.crash,
  };
}

export function installBridge(): () => void {
  window.__studio = snapshot(useStudio.getState());
  return useStudio.subscribe((s) => {
    window.__studio = snapshot(s);
  });
}
