import { describe, expect, it } from 'vitest';
import { createScene, type Scene } from './editor/scene';
import { decodeScene, upgradeSceneRecord, type SceneRunSettings } from '../../storage/scenes/record';
import { planRestore, sameScene, sceneSnapshot, snapshotSummary } from './scene-snapshot';
import { effectiveRun, runSeed, sceneRunDefaults } from './scene-run';
import { DEFAULT_DRAFT } from '../generate/generate-store';

const RUN: SceneRunSettings = { steps: 2, scheduler: 'euler', guidanceScale: 6.5, regionAlpha: 0.2, seed: 31, seedLocked: true };

/** A 64×32 scene with two painted regions (distinct masks, prompts, a concept) and a reference image. */
function twoRegions(): Scene {
  const s = createScene(64, 32, { id: 'scene-a', name: 'Fox and bird', now: 10, layerId: 'fox' });
  const fox = Uint8Array.from({ length: 64 * 32 }, (_, i) => (i % 64 < 20 ? 255 : i % 7));
  const bird = Uint8Array.from({ length: 64 * 32 }, (_, i) => (i % 64 > 40 && i < 640 ? 200 : 0));
  return {
    ...s,
    globalPrompt: 'a meadow',
    globalNegative: 'blurry',
    referenceImageId: 'img-ref',
    layers: [
      { ...s.layers[0]!, name: 'Fox', prompt: 'a red fox', negativePrompt: 'dog', concepts: ['c-fox'], mask: fox },
      { ...s.layers[0]!, id: 'bird', name: 'Bird', color: '#38d5f2', prompt: 'a blue bird', negativePrompt: 'cage', concepts: [], visible: false, opacity: 0.3, mask: bird },
    ],
  };
}

const restoredOf = (s: Scene, run = RUN) => decodeScene(upgradeSceneRecord(structuredClone(sceneSnapshot(s, run).record)));

describe('a scene kept with its gallery image', () => {
  it('the snapshot round-trips every region, mask byte, prompt, size and the run settings', () => {
    const s = twoRegions();
    const snap = sceneSnapshot(s, RUN, { strength: 0.4 });
    expect(snapshotSummary(snap)).toEqual({ name: 'Fox and bird', regions: 2 });
    expect(snap.init).toEqual({ strength: 0.4 });
    // stored shape: masks PackBits-coded (a few bytes for runs), the record survives IndexedDB's structured clone
    expect(snap.record.layers[1]!.mask.length).toBeLessThan(64 * 32);
    expect(restoredOf(s)).toEqual({ ...s, run: RUN });
    expect(sceneSnapshot(s, RUN).init).toBeUndefined();
  });

  it('the same saved scene opens as it is (a different seed is no edit); an edited one opens as a "(restored)" copy', () => {
    const s = twoRegions();
    const snap = sceneSnapshot(s, RUN);
    const stored = { ...s, run: { ...RUN, seed: 99, seedLocked: false }, updatedAt: 500 };
    const same = planRestore(snap, stored, () => 'scene-new', 1000);
    expect(same.mode).toBe('same');
    expect(same.scene).toBe(stored);
    expect(same.run).toEqual(RUN);
    // saved before scenes had settings: matches on the rest
    expect(planRestore(snap, { ...s, run: undefined }, () => 'x', 0).mode).toBe('same');

    const edits: Scene[] = [
      { ...s, layers: [s.layers[0]!] },
      { ...s, layers: s.layers.map((l, i) => (i === 1 ? { ...l, mask: Uint8Array.from(l.mask, (v, j) => (j === 5 ? 1 : v)) } : l)) },
      { ...s, layers: s.layers.map((l, i) => (i === 0 ? { ...l, prompt: 'a grey fox' } : l)) },
      { ...s, globalPrompt: 'a beach' },
      { ...s, run: { ...RUN, steps: 20 } },
    ];
    for (const edited of edits) {
      expect(sameScene(edited, restoredOf(s))).toBe(false);
      const p = planRestore(snap, edited, () => 'scene-new', 1000);
      expect(p.mode).toBe('copy');
      expect(p.scene).toEqual({ ...s, run: RUN, id: 'scene-new', name: 'Fox and bird (restored)', createdAt: 1000, updatedAt: 1000 });
    }
  });

  it('a deleted (or never saved) scene comes back under its own id and name', () => {
    const s = twoRegions();
    const p = planRestore(sceneSnapshot(s, RUN), undefined, () => 'scene-new', 1000);
    expect(p.mode).toBe('recreated');
    expect(p.scene).toEqual({ ...s, run: RUN });
  });
});

describe('a scene’s own run settings', () => {
  const draft = { ...DEFAULT_DRAFT, steps: 12, scheduler: 'ddim' as const, seed: 5, seedLocked: true, regionGuidance: 4, regionAlpha: 0.3 };
  it('a scene without its own (new, or saved before) takes the Generate panel’s values', () => {
    expect(sceneRunDefaults(draft)).toEqual({ steps: 12, scheduler: 'ddim', guidanceScale: 4, regionAlpha: 0.3, seed: 5, seedLocked: true });
    const s = createScene(64, 64);
    expect(effectiveRun(s, draft)).toEqual(sceneRunDefaults(draft));
    expect(effectiveRun({ ...s, run: RUN }, draft)).toBe(RUN);
  });
  it('a locked seed is the scene’s; an unlocked one is fresh each run', () => {
    expect(runSeed(RUN, () => 7)).toBe(31);
    expect(runSeed({ ...RUN, seedLocked: false }, () => 7)).toBe(7);
  });
});
