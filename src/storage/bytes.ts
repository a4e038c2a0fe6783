/** Byte counts in words for messages (binary units, like the GPU page: 1.5 GiB, 29.4 MiB). */
const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatSize(n: number): string {
  if (!Number.isFinite(n)) return 'an unknown amount';
  let v = Math.max(0, n);
  let u = 0;
  while (u < UNITS.length - 1 && v >= 1024) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} bytes`;
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${UNITS[u]}`;
}
