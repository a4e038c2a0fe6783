/**
 * Import verification of the SD-1.5 family (issue 12 points 2 and 9) on the tiny SD-1.5 model written
 * at test time (tiny-sd15.fixture.ts): its folder and its LDM single file are accepted as 'sd15' with
 * what they hold; what the studio cannot run (an unknown block type, a UNet feature it lacks, a noise
 * schedule it cannot compute, a pipeline whose parts disagree) is refused at import with the reason.
 */
import { openAsBlob, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../model/errors';
import { writeTinySd15Folder, writeTinySd15SingleFile } from '../../model/weights/tiny-sd15.fixture';
import { verifyDiffusers, verifySingleFile, type OpenFile } from './verify';

const dir = writeTinySd15Folder();
const single = writeTinySd15SingleFile();
afterAll(() => [dir, single.dir].forEach((d) => rmSync(d, { recursive: true, force: true })));

function walk(root: string, d = root): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(root, join(d, n)) : [relative(root, join(d, n))]));
}
const PATHS = walk(dir).sort();

/** Opens the folder's files, with some JSON files edited. */
function opener(edit: Record<string, (j: Record<string, unknown>) => Record<string, unknown>> = {}): OpenFile {
  return async (path) => {
    const e = edit[path];
    if (!e) return openAsBlob(join(dir, path));
    return new Blob([JSON.stringify(e(JSON.parse(readFileSync(join(dir, path), 'utf8')) as Record<string, unknown>))]);
  };
}

async function refusal(p: Promise<unknown>): Promise<ModelFileError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ModelFileError);
  return err as ModelFileError;
}

describe('SD-1.5 family at import', () => {
  it('accepts the diffusers folder as sd15 with one text encoder and tokenizer', async () => {
    const v = await verifyDiffusers(opener(), PATHS);
    expect(v).toEqual({ kind: 'sd15', components: ['unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler'], needs: [] });
  });

  it('accepts a v-prediction SD-2-style scheduler (prediction_type is read from the config)', async () => {
    const v = await verifyDiffusers(opener({ 'scheduler/scheduler_config.json': (j) => ({ ...j, prediction_type: 'v_prediction' }) }), PATHS);
    expect(v.kind).toBe('sd15');
  });

  it('accepts the LDM single file; only CLIP-L\'s tokenizer is needed, and none when it is beside the file', async () => {
    const open: OpenFile = async (p) => openAsBlob(p === 'checkpoint.safetensors' ? single.file : join(single.dir, p));
    const name = basename(single.file);
    const alone = await verifySingleFile(open, 'checkpoint.safetensors', name);
    expect(alone.kind).toBe('sd15');
    expect(alone.components).toEqual(['unet', 'vae', 'text_encoder']);
    expect(alone.needs.map((n) => n.component)).toEqual(['tokenizer']);
    const beside = await verifySingleFile(open, 'checkpoint.safetensors', name, ['checkpoint.safetensors', 'tokenizer/vocab.json', 'tokenizer/merges.txt']);
    expect(beside.components).toEqual(['unet', 'vae', 'text_encoder', 'tokenizer']);
    expect(beside.needs).toEqual([]);
  });

  it('refuses a UNet block type the studio does not implement, naming the field', async () => {
    const e = await refusal(verifyDiffusers(opener({ 'unet/config.json': (j) => ({ ...j, down_block_types: ['SimpleCrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'] }) }), PATHS));
    expect(e).toMatchObject({ code: 'bad-config', file: 'unet/config.json' });
    expect(e.message).toContain('SimpleCrossAttnDownBlock2D');
  });

  it('refuses UNet features the studio lacks (a class embedding, an image-conditioned added embedding)', async () => {
    const cls = await refusal(verifyDiffusers(opener({ 'unet/config.json': (j) => ({ ...j, class_embed_type: 'timestep' }) }), PATHS));
    expect(cls.message).toMatch(/class_embed_type/);
    const add = await refusal(verifyDiffusers(opener({ 'unet/config.json': (j) => ({ ...j, addition_embed_type: 'image' }) }), PATHS));
    expect(add.message).toMatch(/addition_embed_type/);
  });

  it('refuses a latent space the sampling loop cannot run (16 latent channels, a UNet of another width), naming the field', async () => {
    const wide = await refusal(verifyDiffusers(opener({ 'vae/config.json': (j) => ({ ...j, latent_channels: 16 }) }), PATHS));
    expect(wide).toMatchObject({ code: 'unsupported-model', file: 'vae/config.json' });
    expect(wide.message).toMatch(/16 latent channels/);
    const odd = await refusal(verifyDiffusers(opener({ 'unet/config.json': (j) => ({ ...j, in_channels: 8 }) }), PATHS));
    expect(odd).toMatchObject({ code: 'unsupported-model', file: 'unet/config.json' });
    expect(odd.message).toMatch(/8 input channels/);
  });

  it('refuses a noise schedule the samplers cannot compute, and an unknown prediction type', async () => {
    const cos = await refusal(verifyDiffusers(opener({ 'scheduler/scheduler_config.json': (j) => ({ ...j, beta_schedule: 'squaredcos_cap_v2' }) }), PATHS));
    expect(cos).toMatchObject({ code: 'bad-config', file: 'scheduler/scheduler_config.json' });
    expect(cos.message).toContain('squaredcos_cap_v2');
    const pred = await refusal(verifyDiffusers(opener({ 'scheduler/scheduler_config.json': (j) => ({ ...j, prediction_type: 'flow' }) }), PATHS));
    expect(pred.message).toMatch(/prediction_type/);
  });

  it('refuses an SDXL class name over SD-1.5 parts', async () => {
    const e = await refusal(verifyDiffusers(opener({ 'model_index.json': (j) => ({ ...j, _class_name: 'StableDiffusionXLPipeline' }) }), PATHS));
    expect(e.code).toBe('wrong-model');
  });
});
