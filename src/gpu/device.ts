/**
 * Adapter and device acquisition. Limits are requested explicitly (the defaults are small: 128 MiB per
 * binding, 16 KiB workgroup memory) and checked against what the kernels need, with a named error
 * that says have/need. Device loss is turned into a DeviceLostError that tells an intentional
 * destroy() apart from a real loss.
 */
import { DeviceLostError, FeatureMissingError, LimitTooLowError, WebGPUUnavailableError } from './errors';

/** The limits the kernels need, at minimum; every other listed limit is requested at the adapter's maximum. */
export const REQUIRED_LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxBufferSize: 256 * 1024 * 1024,
} as const;

/** Limits requested at the adapter's maximum, because big models and big tiles use them. */
const LIMITS_AT_ADAPTER_MAX = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups'];

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface GpuDeviceHandle {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
  hasF16: boolean;
  hasTimestamps: boolean;
  hasSubgroups: boolean;
  /** Resolves when the device is lost; `null` when it was destroyed on purpose. */
  lost: Promise<DeviceLostError | null>;
}

export interface DeviceOptions {
  /** Features the caller cannot work without (FeatureMissingError if absent). */
  requiredFeatures?: GPUFeatureName[];
  /** Turn off optional features, e.g. to test the f32 fallback on an f16 adapter. */
  disableFeatures?: GPUFeatureName[];
  powerPreference?: GPUPowerPreference;
  featureLevel?: 'core' | 'compatibility';
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of LIMITS_AT_ADAPTER_MAX) limits[name] = Number(adapter.limits[name]);
  limits.maxComputeWorkgroupStorageSize = Number(adapter.limits.maxComputeWorkgroupStorageSize);
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/** A one-line adapter name for logs, e.g. "google/swiftshader (swiftshader-device-subzero)". */
export function adapterLabel(s: AdapterSummary): string {
  const head = [s.vendor, s.architecture].filter(Boolean).join('/') || 'unknown adapter';
  return s.device || s.description ? `${head} (${s.device || s.description})` : head;
}

export async function requestGpuDevice(
  gpu: GPU | undefined,
  options: DeviceOptions = {},
): Promise<GpuDeviceHandle> {
  if (!gpu) throw new WebGPUUnavailableError('navigator.gpu is missing in this browser');
  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;
  if (options.featureLevel) (adapterOptions as { featureLevel?: string }).featureLevel = options.featureLevel;
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) throw new WebGPUUnavailableError('no GPU adapter was found (requestAdapter returned null)');

  const disabled = new Set(options.disableFeatures ?? []);
  for (const f of options.requiredFeatures ?? []) {
    if (!adapter.features.has(f)) throw new FeatureMissingError(f, 'required by the requested device');
  }
  const features = [...new Set([...(options.requiredFeatures ?? []), ...OPTIONAL_FEATURES])].filter(
    (f) => adapter.features.has(f) && !disabled.has(f),
  );

  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_AT_ADAPTER_MAX) {
    const have = Number(adapter.limits[name]);
    const need = (REQUIRED_LIMITS as Record<string, number>)[name];
    if (need !== undefined && have < need) throw new LimitTooLowError(name, have, need);
    requiredLimits[name] = have;
  }

  const device = await adapter.requestDevice({
    label: 'cidm-device',
    requiredFeatures: features,
    requiredLimits,
  });
  const lost = device.lost.then((info) =>
    info.reason === 'destroyed' ? null : new DeviceLostError(String(info.reason), info.message),
  );
  const has = (f: GPUFeatureName) => device.features.has(f);
  return {
    adapter,
    device,
    summary: summarizeAdapter(adapter),
    hasF16: has('shader-f16'),
    hasTimestamps: has('timestamp-query'),
    hasSubgroups: has('subgroups'),
    lost,
  };
}
