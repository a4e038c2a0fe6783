import { describe, expect, it } from 'vitest';
import { createScene, type Scene } from './scene';
import { rasterizeStroke } from './brush';
import { fillEllipseMask, fillRectMask } from './raster';
import { addLayer, canRedo, canUndo, maskAction, moveLayer, newDoc, redo, removeLayer, resizeScene, setMask, setSceneFields, undo, updateLayer, type EditorDoc } from './doc';

const W = 24;
const H = 16;
const fresh = () => newDoc(createScene(W * 8, H * 8, { id: 's', now: 1, layerId: 'a' }));
const small = (s: Scene) => ({ ...s, width: W, height: H, maskWidth: W, maskHeight: H, layers: s.layers.map((l) => ({ ...l, mask: new Uint8Array(W * H) })) });
const doc0 = (): EditorDoc => ({ ...fresh(), scene: small(fresh().scene) });

const stroke = (d: EditorDoc, id: string, pts: { x: number; y: number }[], mode: 'paint' | 'erase' = 'paint') => {
  const l = d.scene.layers.find((x) => x.id === id)!;
  return setMask(d, id, rasterizeStroke(l.mask, W, H, { size: 3, hardness: 0.5, mode }, pts), 'Stroke');
};

/** The scene as plain data with every mask byte, for exact comparisons. */
const dump = (s: Scene) => JSON.stringify({ ...s, layers: s.layers.map((l) => ({ ...l, mask: Array.from(l.mask) })) });

describe('editor document: undo and redo', () => {
  it('undo restores the exact mask bytes and redo reapplies them; the entry keeps only the dirty rect', () => {
    let d = doc0();
    const before = d.scene.layers[0]!.mask;
    d = stroke(d, 'a', [{ x: 3, y: 3 }, { x: 8, y: 5 }]);
    const after = d.scene.layers[0]!.mask;
    expect(after).not.toEqual(before);
    const e = d.history.undo[0]!;
    expect(e.kind).toBe('mask');
    if (e.kind === 'mask') expect(e.before.length).toBeLessThan(W * H / 3);
    d = undo(d);
    expect(d.scene.layers[0]!.mask).toEqual(before);
    expect(canRedo(d)).toBe(true);
    d = redo(d);
    expect(d.scene.layers[0]!.mask).toEqual(after);
    expect(canRedo(d)).toBe(false);
  });

  it('every operation undoes and redoes exactly, in any order', () => {
    let d = doc0();
    const states = [dump(d.scene)];
    const step = (next: EditorDoc) => {
      expect(next).not.toBe(d);
      d = next;
      states.push(dump(d.scene));
    };
    step(stroke(d, 'a', [{ x: 2, y: 2 }, { x: 12, y: 9 }]));
    step(setMask(d, 'a', fillRectMask(d.scene.layers[0]!.mask, W, H, { x0: 15, y0: 1, x1: 22, y1: 6 }, 'paint'), 'Rectangle'));
    step(stroke(d, 'a', [{ x: 4, y: 4 }, { x: 16, y: 3 }], 'erase'));
    const add = addLayer(d, 'a', { id: 'b' });
    step(add.doc);
    step(setMask(d, 'b', fillEllipseMask(d.scene.layers[1]!.mask, W, H, { x0: 3, y0: 6, x1: 14, y1: 15 }, 'paint'), 'Ellipse'));
    step(maskAction(d, 'b', 'invert'));
    step(updateLayer(d, 'b', { name: 'Sky' }));
    step(updateLayer(d, 'b', { prompt: 'a blue sky' }));
    step(updateLayer(d, 'a', { negativePrompt: 'blurry' }));
    step(updateLayer(d, 'a', { visible: false }));
    step(setSceneFields(d, { globalPrompt: 'a meadow', name: 'Meadow' }));
    step(moveLayer(d, 'b', -1));
    step(maskAction(d, 'a', 'fill'));
    step(maskAction(d, 'b', 'clear'));
    step(removeLayer(d, 'a'));
    step(resizeScene(d, W * 2 * 8, H * 8));
    expect(d.history.undo.length).toBe(states.length - 1);
    for (let i = states.length - 2; i >= 0; i--) {
      d = undo(d);
      expect(dump(d.scene), `undo to state ${i}`).toBe(states[i]);
    }
    expect(canUndo(d)).toBe(false);
    for (let i = 1; i < states.length; i++) {
      d = redo(d);
      expect(dump(d.scene), `redo to state ${i}`).toBe(states[i]);
    }
  });

  it('records nothing for an operation that changes nothing', () => {
    let d = doc0();
    d = maskAction(d, 'a', 'clear');
    d = updateLayer(d, 'a', { name: d.scene.layers[0]!.name });
    d = moveLayer(d, 'a', 1);
    expect(d.history.undo.length).toBe(0);
    expect(d.rev).toBe(0);
  });

  it('merges consecutive typing in one field into one entry, and drops it when typed back', () => {
    let d = doc0();
    for (const p of ['a', 'a f', 'a fox']) d = updateLayer(d, 'a', { prompt: p });
    expect(d.history.undo.length).toBe(1);
    d = updateLayer(d, 'a', { name: 'Fox' });
    expect(d.history.undo.length).toBe(2);
    d = undo(undo(d));
    expect(d.scene.layers[0]!.prompt).toBe('');
    d = setSceneFields(d, { globalPrompt: 'x' });
    d = setSceneFields(d, { globalPrompt: '' });
    expect(d.history.undo.length).toBe(0);
    // Show/hide toggles are not merged: each is its own step.
    d = updateLayer(updateLayer(d, 'a', { visible: false }), 'a', { visible: true });
    expect(d.history.undo.length).toBe(2);
  });

  it('a deleted layer comes back at its place with its exact mask', () => {
    let d = doc0();
    d = addLayer(d, undefined, { id: 'b' }).doc;
    d = addLayer(d, undefined, { id: 'c' }).doc;
    d = stroke(d, 'b', [{ x: 5, y: 5 }, { x: 9, y: 12 }]);
    const mask = d.scene.layers[1]!.mask;
    d = removeLayer(d, 'b');
    expect(d.scene.layers.map((l) => l.id)).toEqual(['a', 'c']);
    d = undo(d);
    expect(d.scene.layers.map((l) => l.id)).toEqual(['a', 'b', 'c']);
    expect(d.scene.layers[1]!.mask).toEqual(mask);
  });

  it('caps the history by entries and by bytes, dropping the oldest', () => {
    let d: EditorDoc = { ...doc0(), history: { ...doc0().history, limits: { maxEntries: 3, maxBytes: 1 << 20 } } };
    const masks: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      d = stroke(d, 'a', [{ x: 2 + i * 4, y: 3 }, { x: 3 + i * 4, y: 12 }]);
      masks.push(d.scene.layers[0]!.mask);
    }
    expect(d.history.undo.length).toBe(3);
    d = undo(undo(undo(d)));
    expect(canUndo(d)).toBe(false);
    expect(d.scene.layers[0]!.mask).toEqual(masks[1]);

    let b: EditorDoc = { ...doc0(), history: { ...doc0().history, limits: { maxEntries: 100, maxBytes: 2 * W * H + 10 } } };
    b = maskAction(b, 'a', 'fill');
    b = maskAction(b, 'a', 'invert');
    expect(b.history.undo.length).toBe(1);
    expect(b.history.bytes).toBe(2 * W * H);
    expect(b.history.bytes).toBeLessThanOrEqual(b.history.limits.maxBytes);
  });

  it('a new edit after undo clears the redo stack', () => {
    let d = stroke(doc0(), 'a', [{ x: 2, y: 2 }]);
    d = undo(d);
    d = stroke(d, 'a', [{ x: 9, y: 9 }]);
    expect(canRedo(d)).toBe(false);
    expect(d.history.undo.length).toBe(1);
  });

  it('the scene’s run settings are part of the document: one edit, undone and redone exactly', () => {
    const run = { steps: 2, scheduler: 'euler' as const, guidanceScale: 6, regionAlpha: 0.1, seed: 3, seedLocked: true };
    let d = setSceneFields(doc0(), { run });
    d = setSceneFields(d, { run: { ...run, steps: 4 } });
    expect(d.history.undo.length).toBe(1);
    expect(d.scene.run?.steps).toBe(4);
    d = undo(d);
    expect(d.scene.run).toBeUndefined();
    d = redo(d);
    expect(d.scene.run).toEqual({ ...run, steps: 4 });
  });
});
