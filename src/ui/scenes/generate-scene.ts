/**
 * Generating from a scene (issue 13 point 5: a scene is a job of its own): its size, global prompts
 * and painted regions (CIDM context-controllable synthesis) with the scene's own steps, sampler, CFG,
 * seed and whole-picture share (scene-run.ts). The run joins the header's queue as "Scene: <name>"
 * and shows on the Scenes page (SceneRunPane); the image goes to the gallery with a snapshot of the
 * whole scene (scene-snapshot.ts), so it restores after the scene was edited or deleted.
 */
import type { GenerateResult } from '../../engine/protocol';
import { randomSeed } from '../../diffusion/rng';
import { addResult } from '../gallery/gallery-state';
import { generate } from '../generate/generate-controller';
import { useGenerate } from '../generate/generate-store';
import { plainError } from '../plain-error';
import { draftErrors } from '../validation/fields';
import type { SceneGenerationInput } from './editor/regions';
import { effectiveRun, runSeed, SCENE_RUN_RULES } from './scene-run';
import { useSceneRun } from './scene-run-store';
import { useScenes } from './scene-store';
import { sceneInitParams, useSceneInit } from './scene-init';
import { sceneSnapshot } from './scene-snapshot';

/** The pane says why nothing runs; returns the run's null. */
function refused(sceneName: string, error: string): null {
  useSceneRun.setState({ jobId: null, sceneName, seed: null, phase: 'error', image: null, error });
  return null;
}

export async function generateScene(modelId: string | null, modelName: string | null, input: SceneGenerationInput, sceneId: string): Promise<GenerateResult | null> {
  const scene = useScenes.getState().doc.scene;
  const name = scene.name.trim() || 'Untitled scene';
  if (scene.id !== sceneId) return null; // another scene was opened meanwhile: nothing of this one to run
  // the pane turns to this run at once (the last image leaves it), before anything is awaited
  useSceneRun.setState({ jobId: null, sceneName: name, seed: null, phase: 'queued', image: null, error: null });
  if (!modelId) return refused(name, 'No model is chosen: import an SDXL model on the Models page and choose it.');
  const run = effectiveRun(scene, useGenerate.getState().draft);
  const bad = Object.values(draftErrors({ ...run }, SCENE_RUN_RULES));
  if (bad.length) return refused(name, `Not queued: ${bad[0]}`);
  // the reference image as the init image, when asked for (scene-init.ts; issue 14 point 6)
  let init: Awaited<ReturnType<typeof sceneInitParams>>;
  try {
    init = await sceneInitParams(scene.referenceImageId);
  } catch (err) {
    return refused(name, plainError({ name: (err as Error).name, message: (err as Error).message }).message);
  }
  const seed = runSeed(run, randomSeed);
  // the scene as run, seed locked, so the gallery's "Reuse" makes this image again
  const snapshot = sceneSnapshot(scene, { ...run, seed, seedLocked: true }, init.initImage ? { strength: useSceneInit.getState().strength } : undefined);
  useSceneRun.setState({ seed });
  // set by the queue's callback (the narrowing must not assume it stays null)
  let jobId = null as number | null;
  const result = await generate(
    modelId,
    {
      onResult: async (r) => {
        await addResult(r, modelName ?? r.modelId, sceneId, snapshot);
        useSceneRun.setState({ image: r.image });
      },
    },
    {
      width: input.width,
      height: input.height,
      prompt: input.prompt,
      negativePrompt: input.negativePrompt,
      steps: run.steps,
      scheduler: run.scheduler,
      seed,
      // one guidance scale for the global estimate E and every region's E_u (spec §4.3, Eq. 4): a
      // different scale inside and outside a mask leaves a seam at its edge
      guidanceScale: run.guidanceScale,
      regionAlpha: run.regionAlpha,
      regions: input.regions.map((g) => ({ name: g.name, color: g.color, prompt: g.prompt, negativePrompt: g.negativePrompt, mask: new Float32Array(g.mask) })),
      ...init,
    },
    {
      label: name,
      images: 1,
      onQueued: (id) => {
        jobId = id;
        useSceneRun.setState({ jobId: id });
      },
    },
  );
  const g = useGenerate.getState();
  // refused before queuing (a setting out of range): the controller's notice says why
  if (jobId === null) return refused(name, g.notice ?? 'The run was not queued.');
  // a newer scene run took over the pane meanwhile: leave it alone
  if (useSceneRun.getState().jobId !== jobId) return result;
  if (result) useSceneRun.setState({ phase: 'done' });
  else if (g.phase === 'error' && g.error) useSceneRun.setState({ phase: 'error', error: `${plainError(g.error).title}: ${plainError(g.error).message}` });
  else useSceneRun.setState({ phase: 'cancelled' });
  return result;
}
