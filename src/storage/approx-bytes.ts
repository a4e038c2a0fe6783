/**
 * The approximate stored size of a structured-clone value (an IndexedDB record), for the storage
 * view (usage-walk.ts): binary data (Blobs, ArrayBuffers, typed arrays) by its byte length, strings
 * one byte per code unit (mostly ASCII prompts and names), numbers 8 bytes, plus nothing for the
 * container itself. Binary data dominates every store (PNGs, masks, tensors), so this is close.
 */
export function approxBytes(value: unknown, seen: Set<object> = new Set()): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  const o = value as object;
  if (seen.has(o)) return 0;
  seen.add(o);
  if (typeof Blob !== 'undefined' && o instanceof Blob) return o.size;
  if (o instanceof ArrayBuffer) return o.byteLength;
  if (ArrayBuffer.isView(o)) return o.byteLength;
  if (o instanceof Date) return 8;
  if (o instanceof Map) {
    let n = 0;
    for (const [k, v] of o) n += approxBytes(k, seen) + approxBytes(v, seen);
    return n;
  }
  if (o instanceof Set) {
    let n = 0;
    for (const v of o) n += approxBytes(v, seen);
    return n;
  }
  let n = 0;
  for (const [k, v] of Object.entries(o)) n += (Array.isArray(o) ? 0 : k.length) + approxBytes(v, seen);
  return n;
}
