/**
 * The benchmark peer: onnxruntime-web's native WebGPU execution provider running the same block as an
 * ONNX model, on the same GPUDevice as our kernels (shared/onnx/README.md, "Snippet"). Inputs are
 * GPU-resident, written once; a run is `session.run` + `queue.onSubmittedWorkDone()`.
 */
import * as ort from 'onnxruntime-web/webgpu';
import type { Sidecar } from './inputs';

ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export interface PeerRun {
  /** One timed run; resolves when the GPU is done. */
  run(): Promise<void>;
  /** The output of one run, read back. */
  output(): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function createPeer(device: GPUDevice, meta: Sidecar, inputs: Record<string, Float32Array>, modelUrl: string): Promise<PeerRun> {
  const session = await ort.InferenceSession.create(modelUrl, {
    executionProviders: [{ name: 'webgpu', device } as unknown as ort.InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    preferredOutputLocation: 'gpu-buffer',
    extra: { session: { disable_cpu_ep_fallback: '1' } },
    ...(meta.name.startsWith('tiny_unet') ? { freeDimensionOverrides: { batch: 2 } } : {}),
  });
  const feeds: Record<string, ort.Tensor> = {};
  const buffers: GPUBuffer[] = [];
  for (const input of meta.inputs) {
    const data = inputs[input.name]!;
    const buffer = device.createBuffer({
      label: `peer ${input.name}`,
      size: Math.ceil(data.byteLength / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    buffers.push(buffer);
    const dims = input.shape.map((d) => (typeof d === 'number' ? d : 2)); // symbolic batch -> 2 (CFG)
    feeds[input.name] = ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims });
  }
  const outName = session.outputNames[0]!;
  return {
    async run() {
      const out = await session.run(feeds);
      await device.queue.onSubmittedWorkDone();
      out[outName]!.dispose();
    },
    async output() {
      const out = await session.run(feeds);
      const data = (await out[outName]!.getData(true)) as Float32Array;
      return data;
    },
    async dispose() {
      await session.release();
      for (const b of buffers) b.destroy();
    },
  };
}
