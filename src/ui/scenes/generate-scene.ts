/**
 * Generating from a scene: its size, global prompts and painted regions (CIDM context-controllable
 * synthesis) with the Generate panel's steps, CFG, sampler and seed. The run shows in the Generate
 * section (progress, preview, cancel) and the image goes to the gallery with its regions and scene.
 */
import type { GenerateResult } from '../../engine/protocol';
import { addResult } from '../gallery/gallery-state';
import { generate } from '../generate/generate-controller';
import { useGenerate } from '../generate/generate-store';
import { useStudio } from '../store';
import type { SceneGenerationInput } from './editor/regions';
import { useScenes } from './scene-store';
import { sceneInitParams } from './scene-init';
import { serializeError } from '../../gpu';

export async function generateScene(modelId: string | null, modelName: string | null, input: SceneGenerationInput, sceneId: string): Promise<GenerateResult | null> {
  useStudio.getState().setSection('generate');
  // the reference image as the init image, when asked for (scene-init.ts; issue 14 point 6)
  let init: Awaited<ReturnType<typeof sceneInitParams>>;
  try {
    init = await sceneInitParams(useScenes.getState().doc.scene.referenceImageId);
  } catch (err) {
    useGenerate.setState({ phase: 'error', error: serializeError(err) });
    return null;
  }
  return generate(
    modelId,
    { onResult: (r) => addResult(r, modelName ?? r.modelId, sceneId).then(() => undefined) },
    {
      width: input.width,
      height: input.height,
      prompt: input.prompt,
      negativePrompt: input.negativePrompt,
      // one guidance scale for the global estimate E and every region's E_u (spec §4.3, Eq. 4): a
      // different scale inside and outside a mask leaves a seam at its edge
      guidanceScale: useGenerate.getState().draft.regionGuidance,
      regionAlpha: useGenerate.getState().draft.regionAlpha,
      regions: input.regions.map((g) => ({ name: g.name, color: g.color, prompt: g.prompt, negativePrompt: g.negativePrompt, mask: new Float32Array(g.mask) })),
      ...init,
    },
  );
}
