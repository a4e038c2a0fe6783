/** Display formatting for GPU facts. Plain functions, unit-tested in format.test.ts. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1073741824 -> "1 GiB", 268435456 -> "256 MiB", 1000 * 2**20 -> "1000 MiB", 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return String(n);
  let v = n;
  let u = 0;
  // Step up only while the value stays a "nice" number (or is at least 1024 of the next unit).
  while (u < UNITS.length - 1 && v >= 1024) {
    v /= 1024;
    u++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${text} ${UNITS[u]}`;
}

/** 65535 -> "65,535" (locale-independent, so tests and screenshots agree everywhere). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [int, frac] = String(Math.abs(n)).split('.');
  const grouped = (int ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-' : '') + grouped + (frac ? `.${frac}` : '');
}

/** The limits the shell shows, in order, with how to read them. */
export const SHOWN_LIMITS = [
  { key: 'maxBufferSize', label: 'Largest buffer', unit: 'bytes' },
  { key: 'maxStorageBufferBindingSize', label: 'Largest storage binding', unit: 'bytes' },
  { key: 'maxComputeWorkgroupStorageSize', label: 'Workgroup memory', unit: 'bytes' },
  { key: 'maxComputeInvocationsPerWorkgroup', label: 'Invocations per workgroup', unit: 'count' },
  { key: 'maxComputeWorkgroupsPerDimension', label: 'Workgroups per dimension', unit: 'count' },
] as const;

export function formatLimit(value: number | undefined, unit: 'bytes' | 'count'): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  return unit === 'bytes' ? formatBytes(value) : formatCount(value);
}

/** A short human name for an adapter, e.g. "SwiftShader" for google/swiftshader. */
export function adapterTitle(s: { vendor: string; architecture: string; description: string }): string {
  const arch = s.architecture.trim();
  if (/swiftshader/i.test(arch)) return 'SwiftShader';
  if (/llvmpipe|lavapipe/i.test(`${arch} ${s.description}`)) return 'llvmpipe';
  if (arch) return arch.replace(/(^|[-_ ])(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());
  if (s.description.trim()) return s.description.trim();
  return s.vendor.trim() ? `${capitalize(s.vendor.trim())} GPU` : 'Unnamed GPU';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A duration for people, in minutes and seconds (issue 13: "times shown as minutes and seconds"):
 * 45 -> "45 s", 200 -> "3 min 20 s", 180 -> "3 min", 3725 -> "1 h 2 min". Seconds round up below a
 * minute (a run never shows "0 s" while work is left) and to the nearest second above.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (Math.ceil(seconds) < 60) return `${Math.ceil(seconds)} s`;
  const total = Math.max(60, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}
