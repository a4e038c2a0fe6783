/**
 * `npm run generate` end to end on the tiny golden SDXL (golden/models) in Node/Dawn, through the CLI's
 * own entry function: 2 steps at the smallest size the model allows (one latent cell: the VAE factor
 * from its vae/config.json). The PNG decodes at that size, carries exactly the `parameters` text the
 * studio's formatter gives for these settings, is byte for byte what the studio's PNG encoder writes
 * for its pixels, and a second run with the same seed writes the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../storage/png/png';
import { formatParameters, parseParameters, type ImageParameters } from '../storage/png/parameters';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';
import { runGenerateCli, type GenerateCliResult } from './generate';

const dir = mkdtempSync(join(tmpdir(), 'cidm-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vae = JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')) as { block_out_channels: number[] };
const SIDE = 2 ** (vae.block_out_channels.length - 1); // diffusers' vae_scale_factor

const expected: ImageParameters = {
  prompt: 'a photo of a red cube, studio light',
  negativePrompt: 'blurry, dark',
  steps: 2,
  scheduler: 'euler_ancestral',
  guidanceScale: 5,
  seed: 424242,
  width: SIDE,
  height: SIDE,
  model: 'models', // the folder's name, as the studio's folder import names a model
};

const argv = (out: string, json?: string) => [
  '--model', 'golden/models',
  '--prompt', expected.prompt,
  '--negative', expected.negativePrompt,
  '--size', `${SIDE}x${SIDE}`,
  '--steps', String(expected.steps),
  '--cfg', String(expected.guidanceScale),
  '--sampler', expected.scheduler,
  '--seed', String(expected.seed),
  '--out', out,
  ...(json ? ['--json', json] : []),
];

async function run(name: string, json?: string): Promise<{ result: GenerateCliResult; file: Uint8Array; lines: string[] }> {
  const lines: string[] = [];
  const out = join(dir, name);
  const result = await runGenerateCli(argv(out, json), { gpu: testGpu(), deviceOptions: TEST_DEVICE_OPTIONS, log: (l) => lines.push(l) });
  return { result, file: new Uint8Array(readFileSync(out)), lines };
}

describe(`npm run generate on ${TEST_ADAPTER}`, () => {
  it('writes the studio PNG with its parameters, reports each phase, and the same seed gives the same bytes', async () => {
    const jsonPath = join(dir, 'a.json');
    const a = await run('a.png', jsonPath);
    expect(a.file).toEqual(a.result.png);

    const img = await decodePng(a.file);
    expect([img.width, img.height]).toEqual([SIDE, SIDE]);
    expect(new Set(Array.from(img.rgba.filter((_, i) => i % 4 !== 3))).size).toBeGreaterThan(1); // not a flat image
    expect(img.text.parameters).toBe(formatParameters(expected));
    expect(parseParameters(img.text.parameters!)).toEqual(expected);
    expect(img.text.Software).toBe('CIDM Studio');
    // nothing but the pixels and these two texts: exactly the studio encoder's bytes for those pixels
    expect(a.file).toEqual(await encodePng(img.rgba, SIDE, SIDE, { parameters: formatParameters(expected), Software: 'CIDM Studio' }));

    for (const phase of ['load', 'text encoders', 'steps', 'decode']) expect(a.lines.some((l) => new RegExp(`^${phase} +\\d+ ms`).test(l))).toBe(true);
    const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as { parameters: ImageParameters; parametersText: string; timings: Record<string, number>; sha256: string; bytes: number };
    expect(report.parameters).toEqual(expected);
    expect(report.parametersText).toBe(formatParameters(expected));
    expect(Object.keys(report.timings).sort()).toEqual(['decodeMs', 'deviceMs', 'encodeMs', 'loadMs', 'stepsMs', 'totalMs']);
    for (const v of Object.values(report.timings)) expect(v).toBeGreaterThanOrEqual(0);
    expect(report.bytes).toBe(a.file.length);
    expect(report.sha256).toBe(a.result.sha256);

    const b = await run('b.png');
    expect(b.file).toEqual(a.file);
  }, 600_000);
});
