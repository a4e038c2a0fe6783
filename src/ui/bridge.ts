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
    models: s.models.map((m) => ({ id: m.id, name: m.name, kind: m.kind, layout: m.layout, state: m.state, verified: m.state === 'verified', bytes: m.manifest?.bytes ?? m.bytesOnDisk, bytesOnDisk: m.bytesOnDisk })),
    modelsLoaded: s.modelsLoaded,
    activeModelId: s.activeModelId,
    imports: s.imports.map((r) => ({
      job: r.job,
      id: r.modelId,
      state: r.state,
      phase: r.progress?.phase ?? null,
      currentFile: r.progress?.currentFile ?? null,
      bytesDone: r.progress?.bytesDone ?? 0,
      bytesTotal: r.progress?.bytesTotal ?? null,
      error: r.error ? { code: r.error.code, message: r.error.message, file: r.error.file } : null,
    })),
  };
}

export function installBridge(): () => void {
  window.__studio = snapshot(useStudio.getState());
  return useStudio.subscribe((s) => {
    window.__studio = snapshot(s);
  });
}
