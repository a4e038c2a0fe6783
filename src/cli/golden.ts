/**
 * npm run golden -- <dir> [--f16 | --packed] [--filter name,...]
 * --packed: the models' weights as packed f16 under f32 compute (the path of a device without shader-f16).
 * Runs every supported case of a golden directory on WebGPU in Node (Dawn) and prints one line per
 * case: `<case> PASS|FAIL max_abs=<x> max_rel=<y> tol=<t>` or `<case> SKIP <why>`; exit 1 on any FAIL.
 * Adapter: VK_ICD_FILENAMES as set (npm test sets it); default Debian chromium's SwiftShader.
 */
import { create, globals } from 'webgpu';
import { GpuContext, adapterLabel } from '../gpu';
import { runGolden } from '../golden/runner';

Object.assign(globalThis, globals);
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const args = process.argv.slice(2);
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--filter');
if (!dir) {
  console.error('usage: npm run golden -- <dir> [--f16 | --packed] [--filter name,...]');
  process.exit(2);
}
const f16 = args.includes('--f16');
const packed = args.includes('--packed');
if (f16 && packed) {
  console.error('--f16 and --packed exclude each other (packed weights run under f32 compute)');
  process.exit(2);
}
const fi = args.indexOf('--filter');
const filter = fi >= 0 ? (args[fi + 1] ?? '').split(',').filter(Boolean) : undefined;

// Keep the Dawn instance referenced for the whole run (see tests/gpu-harness.ts).
const gpu = create([]) as unknown as GPU;
const ctx = await GpuContext.create(gpu, f16 ? { requiredFeatures: ['shader-f16'] } : {});
console.log(`# adapter ${adapterLabel(ctx.handle.summary)}, ${f16 ? 'f16 storage / f32 math' : packed ? 'packed f16 weights / f32 math' : 'f32'}`);
const results = await runGolden(ctx, dir, { dtype: f16 ? 'f16' : 'f32', packWeights: packed, filter, onResult: (_r, line) => console.log(line) });
const count = (s: string) => results.filter((r) => r.status === s).length;
console.log(`# ${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`);
ctx.destroy();
process.exit(count('FAIL') ? 1 : 0);
