/** The VAE (AutoencoderKL): architecture, loading, forward, tiled large-image paths and the memory plan. */
export { vaeArch, vaeWeightShapes, vaeTensorPart, VAE_NORM_EPS, type VaeArch, type VaePart } from './arch';
export { GpuVaeBackend, PlanVaeBackend, type VaeBackend } from './backend';
export { decoderForward, encoderForward, vaeAttention, vaeDownBlock, vaeMid, vaeResnet, vaeUpBlock, type VaeTap } from './forward';
export { imageToUnit, posteriorFromMoments, rgba8ToImage, samplePosterior, scaled, unitToRgba8, type HostTensor, type VaePosterior } from './image';
export { destroyVae, loadVae, resolveVaeMappings, type LoadedVae, type LoadVaeOptions } from './load';
export { DEFAULT_MAX_BINDING_BYTES, DEFAULT_TILE_OVERLAP, planVae, planVaeRun, type VaeOp, type VaePlan, type VaePlanOptions } from './plan';
export { latentsToImage, planFor, vaeDecodeAuto, vaeDecodeTiledHost, vaeEncodeAuto, type TiledOptions } from './tiled';
export { type TileGrid, type TileSpan } from './tiles';
export { vaeBackend, vaeDecode, vaeEncode, vaeEncodeMoments, type VaeEncoding } from './vae';
