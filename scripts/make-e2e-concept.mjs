/**
 * node scripts/make-e2e-concept.mjs
 * Writes the concept files e2e/concepts-compose.spec.ts imports (committed under e2e/fixtures/concepts/):
 *   rex.cidm.safetensors          "Rex" (<rex1> <rex2> dog), task 1 of the tiny e2e model (tiny--sdxl)
 *   other-model.cidm.safetensors  "Moss" (<moss1> cat), the same shapes but trained on another model id
 * Seeded random layer-wise tokens and LoRAs (src/cidm/ewa/synthetic.ts) of exactly the shapes the tiny
 * model (golden/models) gives: one token table per text encoder ([layers, P, hidden_k], hidden from
 * text_encoder(_2)/config.json), a rank-4 pair on to_q/k/v/out.0 of every attn2 (src/cidm/train/layers.ts).
 * No training behind them: the files stand in for a learned concept in the library's e2e. The studio's
 * own TypeScript (synthetic concepts, the concept file writer) runs through Vite's SSR loader, so the
 * files are what the studio itself would export. Deterministic: the same bytes on every run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = join(root, 'golden/models');
const outDir = join(root, 'e2e/fixtures/concepts');
const json = (p) => JSON.parse(readFileSync(join(modelDir, p), 'utf8'));

const vite = await createServer({ root, configFile: false, logLevel: 'warn', appType: 'custom', server: { middlewareMode: true, hmr: false, ws: false }, optimizeDeps: { noDiscovery: true, include: [] } });
try {
  const { unetArch } = await vite.ssrLoadModule('/src/model/unet/arch.ts');
  const { syntheticConcepts } = await vite.ssrLoadModule('/src/cidm/ewa/synthetic.ts');
  const { crossAttentionLayers, loraTargets } = await vite.ssrLoadModule('/src/cidm/train/layers.ts');
  const { exportConcept, importConcept } = await vite.ssrLoadModule('/src/storage/concepts/export.ts');

  const arch = unetArch(json('unet/config.json'));
  const tokenWidths = [json('text_encoder/config.json').hidden_size, json('text_encoder_2/config.json').hidden_size];
  const layers = crossAttentionLayers(arch).length;
  const targets = loraTargets(arch);

  const specs = [
    { file: 'rex.cidm.safetensors', seed: 4242, id: 'e2e-rex', name: 'Rex', classWord: 'dog', placeholders: ['<rex1>', '<rex2>'], modelId: 'tiny--sdxl', createdAt: Date.UTC(2025, 0, 2) },
    { file: 'other-model.cidm.safetensors', seed: 777, id: 'e2e-moss', name: 'Moss', classWord: 'cat', placeholders: ['<moss1>'], modelId: 'other--sdxl', createdAt: Date.UTC(2025, 0, 3) },
  ];
  mkdirSync(outDir, { recursive: true });
  for (const s of specs) {
    const [base] = syntheticConcepts(arch, tokenWidths, 1, { words: s.placeholders.length, rank: 4, seed: s.seed });
    const concept = {
      ...base,
      id: s.id,
      name: s.name,
      classWord: s.classWord,
      placeholders: s.placeholders,
      taskIndex: 1,
      modelId: s.modelId,
      createdAt: s.createdAt,
      hyper: { steps: 40, lrLora: 1e-4, lrTokens: 1e-3, rank: 4, seed: s.seed, resolution: 64, masked: false, gamma: 0.1, r1Form: 'code' },
    };
    const bytes = exportConcept(concept);
    // read it back as the studio will: shapes and names must pass the importer's checks
    const back = await importConcept(bytes, s.file);
    if (back.layers !== layers || back.lora.size !== targets.length || back.tokenWidths.join() !== tokenWidths.join()) {
      throw new Error(`${s.file}: read back ${back.layers} layers, ${back.lora.size} LoRA modules, widths ${back.tokenWidths}; expected ${layers}, ${targets.length}, ${tokenWidths}`);
    }
    writeFileSync(join(outDir, s.file), bytes);
    console.log(`${s.file}: ${bytes.length} bytes, ${layers} cross-attention layers, ${targets.length} LoRA modules, token widths ${tokenWidths.join('/')}`);
  }
} finally {
  await vite.close();
}
