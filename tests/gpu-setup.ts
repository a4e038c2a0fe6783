// Installs the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) of the npm `webgpu` package (Dawn)
// before any test module touches them.
import { globals } from 'webgpu';

Object.assign(globalThis, globals);
