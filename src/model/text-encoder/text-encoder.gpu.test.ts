/**
 * The SDXL text encoders on the golden case `text_encoders` (f32 on SwiftShader: max_rel <= 1e-4 per
 * tensor; f16 storage on lavapipe: <= 1e-2), a token table split into many row blocks, a single-file
 * checkpoint through the clip-sgm mappings, and learned extra embedding rows (ids >= vocab_size).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16, toF16Array } from '../../gpu/f16';
import type { DType } from '../../gpu/tensor';
import { GoldenCase, readManifest } from '../../golden/case-file';
import { GoldenEnv, TOLERANCE } from '../../golden/env';
import { caseIds, loadGoldenTextEncoder, textEncodersCase } from '../../golden/text-encoder-case';
import { embeddingReference } from '../../ops/embedding';
import { SafetensorsFile } from '../safetensors/reader';
import { MemorySource } from '../safetensors/source';
import { mapOpenClipG } from '../weights/clip-sgm';
import { parseTextEncoderConfig } from './config';
import { buildSingleFileTextEncoders, readAll, TE1_FILE, TE2_FILE } from './fixtures.test-util';
import { releaseTextEncoderOutput, textEncoderForward } from './forward';
import { destroyTextEncoder, loadTextEncoder } from './load';
import { mappedTensorSource } from './source';

const DTYPE: DType = TEST_ADAPTER === 'lavapipe' ? 'f16' : 'f32';
const TOL: number = TOLERANCE[DTYPE].network;
const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

async function openCase(): Promise<GoldenCase> {
  return GoldenCase.open('golden', 'text_encoders', readManifest('golden').cases.text_encoders!);
}

async function expectClose(ctx: GpuContext, what: string, t: Parameters<GpuContext['read']>[0], want: Float32Array, tol = TOL) {
  const cmp = compare(await ctx.read(t), want);
  console.log(`[text-encoder ${DTYPE}] ${what} ${describeComparison(cmp)}`);
  expect(cmp.maxRel, `${what}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(tol);
}

describe(`SDXL text encoders on ${TEST_ADAPTER} (${DTYPE})`, () => {
  it('match every tensor of the golden case text_encoders', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', DTYPE);
    const c = await openCase();
    try {
      const results = await checked(ctx, 'text_encoders case', () => textEncodersCase(env, c));
      for (const r of results) console.log(`[golden ${DTYPE}] ${r.name} ${r.status} max_abs=${r.maxAbs?.toExponential(2)} max_rel=${r.maxRel?.toExponential(2)}`);
      const names = results.map((r) => r.name.replace(/^text_encoders\[(.*)\]$/, '$1'));
      expect(names).toEqual([
        ...[0, 1, 2, 3].map((i) => `te1.hidden_states.${i}`), 'te1.last_hidden_state', 'te1.pooler_output',
        ...[0, 1, 2, 3, 4].map((i) => `te2.hidden_states.${i}`), 'te2.last_hidden_state', 'te2.pooled_output', 'te2.text_embeds',
        'sdxl.prompt_embeds', 'sdxl.pooled_prompt_embeds',
      ]);
      for (const r of results) {
        expect(r.status, `${r.name}: ${r.why ?? r.maxRel}`).toBe('PASS');
        expect(r.maxRel!).toBeLessThanOrEqual(TOL);
      }
    } finally {
      await c.close();
    }
  });

  it('a token table split into many row blocks gives the same embeddings', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', DTYPE);
    const te = await loadGoldenTextEncoder(env, 'text_encoder', 1 << 20); // 1 MiB blocks: 4-7 of them
    const c = await openCase();
    try {
      expect(te.tokenBlocks.length).toBeGreaterThanOrEqual(4);
      expect(te.tokenBlocks.reduce((n, b) => n + b.tensor.shape[0]!, 0)).toBe(49408);
      const out = await checked(ctx, 'te1 blocks', async () => textEncoderForward(ctx, te, await caseIds(c, 'input.input_ids_1'), { hiddenStates: [0] }));
      await expectClose(ctx, 'blocks te1.hidden_states.0', out.hiddenStates.get(0)!, await c.f32('te1.hidden_states.0'));
      await expectClose(ctx, 'blocks te1.pooler_output', out.pooled!, await c.f32('te1.pooler_output'));
      releaseTextEncoderOutput(ctx, out);
    } finally {
      destroyTextEncoder(ctx, te);
      await c.close();
    }
  });

  it('loads OpenCLIP-bigG from a single-file checkpoint through the clip-sgm mappings', async () => {
    const ctx = await testContext();
    const ckpt = await SafetensorsFile.open(new MemorySource(buildSingleFileTextEncoders(), 'tiny_sdxl.safetensors'));
    const config = parseTextEncoderConfig(json('golden/models/text_encoder_2/config.json'));
    let progress = 0;
    const te = await loadTextEncoder(ctx, mappedTensorSource(ckpt, mapOpenClipG(ckpt.names())), config, { dtype: DTYPE, onProgress: (d) => (progress = d) });
    const c = await openCase();
    try {
      expect(progress).toBe(69);
      const out = await checked(ctx, 'te2 single-file', async () => textEncoderForward(ctx, te, await caseIds(c, 'input.input_ids_2'), { hiddenStates: [3] }));
      await expectClose(ctx, 'single-file te2.hidden_states.3', out.hiddenStates.get(3)!, await c.f32('te2.hidden_states.3'));
      await expectClose(ctx, 'single-file te2.text_embeds', out.textEmbeds!, await c.f32('te2.text_embeds'));
      releaseTextEncoderOutput(ctx, out);
    } finally {
      destroyTextEncoder(ctx, te);
      await c.close();
    }
  });

  it('ids >= vocab_size use the extra embedding rows, exactly as if the rows were in the table', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', DTYPE);
    const te = await loadGoldenTextEncoder(env, 'text_encoder');
    try {
      const D = te.config.hiddenSize;
      const V = te.config.vocabSize;
      const K = 3;
      const rowsF32 = randomArray(K * D, 7, -0.5, 0.5);
      const rows = DTYPE === 'f16' ? roundToF16(rowsF32) : rowsF32;
      // "a photo of <c0> <c2> <c1> dog" style ids, padded with EOS, batch 2
      const base = [49406, 320, 1125, 539, V, V + 2, V + 1, 1929, 49407];
      const pad = (a: number[]) => [...a, ...new Array<number>(77 - a.length).fill(49407)];
      const idsExtra = [...pad(base), ...pad([49406, V + 1, 49407])];
      // the same prompt with the concept rows written into table rows 500..502 instead
      const idsTable = idsExtra.map((id) => (id >= V ? 500 + (id - V) : id));
      const extra = ctx.upload(rows, [K, D], DTYPE, 'concept rows');
      const opts = { hiddenStates: 'all' as const, pooling: 'eos' as const };
      const a = await checked(ctx, 'extra rows', () => textEncoderForward(ctx, te, idsExtra, { ...opts, extraEmbeddings: extra }));
      const block = te.tokenBlocks.find((b) => b.start <= 500 && 502 < b.start + b.tensor.shape[0]!)!;
      ctx.write(block.tensor, DTYPE === 'f16' ? toF16Array(rows) : rows, (500 - block.start) * D);
      const b = await checked(ctx, 'rows in table', () => textEncoderForward(ctx, te, idsTable, opts));
      for (const i of [0, 1, 2, 3]) {
        expect(Array.from(await ctx.read(a.hiddenStates.get(i)!)), `hidden_states.${i}`).toEqual(Array.from(await ctx.read(b.hiddenStates.get(i)!)));
      }
      expect(Array.from(await ctx.read(a.pooled!))).toEqual(Array.from(await ctx.read(b.pooled!)));
      // and the embeddings really are the given rows (+ positions)
      const file = readAll(TE1_FILE);
      const round = (x: Float32Array) => (DTYPE === 'f16' ? roundToF16(x) : x); // what the GPU stores
      const table = new Float32Array((V + K) * D);
      table.set(round(file.get('text_model.embeddings.token_embedding.weight')!.data));
      table.set(rows, V * D);
      const pos = round(file.get('text_model.embeddings.position_embedding.weight')!.data);
      // f32: one correctly rounded addition on both sides; f16: the f32 sum rounded once more (2^-11)
      const want = round(embeddingReference(idsExtra, table, D, pos, 77));
      await expectClose(ctx, 'extra-row embeddings', a.hiddenStates.get(0)!, want, DTYPE === 'f16' ? 5e-4 : 0);
      releaseTextEncoderOutput(ctx, a);
      releaseTextEncoderOutput(ctx, b);
      ctx.release(extra);
      await expect(textEncoderForward(ctx, te, idsExtra)).rejects.toThrow(/no table block holds/); // no extra rows given
    } finally {
      destroyTextEncoder(ctx, te);
    }
  });

  it('refuses f16 weights without shader-f16, and stops loading on abort', async () => {
    const ctx = await testContext();
    const file = await SafetensorsFile.open(new MemorySource(new Uint8Array(readFileSync(TE2_FILE)), 'te2.safetensors'));
    const config = parseTextEncoderConfig(json('golden/models/text_encoder_2/config.json'));
    if (!ctx.hasF16) await expect(loadTextEncoder(ctx, file, config, { dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
    else expect(TEST_ADAPTER).toBe('lavapipe');
    const ac = new AbortController();
    await expect(loadTextEncoder(ctx, file, config, { dtype: DTYPE, signal: ac.signal, onProgress: (d) => d === 5 && ac.abort() })).rejects.toThrow(
      expect.objectContaining({ name: 'AbortError' }),
    );
    const wrong = parseTextEncoderConfig(json('golden/models/text_encoder/config.json'));
    await expect(loadTextEncoder(ctx, file, wrong, { dtype: DTYPE })).rejects.toThrow(expect.objectContaining({ code: 'wrong-model', file: 'te2.safetensors' }));
  });
});
