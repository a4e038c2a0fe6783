/** Keeps window.__studio (declared in studio.d.ts) in step with the store. */
import { useStudio, type StudioState } from './store';
import { useGenerate, type GenerateState } from './generate/generate-store';
import { useGallery, type GalleryState } from './gallery/gallery-state';
import { sceneBridge, subscribeSceneBridge } from './scenes/scene-bridge';
import { useSettings, type SettingsState } from './settings/settings-store';
import type { StudioBridge } from './studio';

function storageBridge(st: SettingsState = useSettings.getState()): StudioBridge['storage'] {
  const u = st.usage;
  return {
    loaded: u !== null,
    usage: u?.estimate?.usage ?? 0,
    quota: u?.estimate?.quota ?? 0,
    available: u?.estimate?.available ?? 0,
    persisted: u?.estimate?.persisted ?? false,
    models: u?.modelsBytes ?? 0,
    modelsCount: u?.models.length ?? 0,
    galleryBytes: u?.gallery.bytes ?? 0,
    galleryCount: u?.gallery.count ?? 0,
    scenesBytes: u?.scenes.bytes ?? 0,
    scenesCount: u?.scenes.count ?? 0,
    busy: st.busy !== null || st.loading,
    persistRequest: st.persistRequest,
  };
}

function snapshot(s: StudioState, g: GenerateState = useGenerate.getState(), gal: GalleryState = useGallery.getState()): StudioBridge {
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
    generation: {
      phase: g.phase,
      step: g.step,
      batchIndex: g.batchIndex,
      batchTotal: g.batchTotal,
      steps: g.steps,
      progress: g.progress?.status ?? null,
      error: g.error,
      result: g.result ? { width: g.result.image.width, height: g.result.image.height, seed: g.result.params.seed, dtype: g.result.dtype, totalMs: g.result.timings.totalMs } : null,
      draft: { ...g.draft },
      notice: g.notice,
    },
    scenes: sceneBridge(),
    gallery: { loaded: gal.loaded, count: gal.items.length, ids: gal.items.map((i) => i.record.id), seeds: gal.items.map((i) => i.record.params.seed), regions: gal.items.map((i) => i.record.regions?.map((g) => g.name) ?? []), sceneIds: gal.items.map((i) => i.record.sceneId ?? null) },
    storage: storageBridge(),
  };
}

export function installBridge(): () => void {
  const refresh = () => {
    window.__studio = snapshot(useStudio.getState());
  };
  refresh();
  const subs = [useStudio.subscribe(refresh), useGenerate.subscribe(refresh), useGallery.subscribe(refresh), subscribeSceneBridge(refresh), useSettings.subscribe(refresh)];
  return () => subs.forEach((u) => u());
}
