#!/usr/bin/env node
// Writes the app icons into public/: icon.svg (also the favicon), icon-192.png, icon-512.png,
// icon-maskable-512.png (full-bleed, mark inside the 80% safe zone of the maskable-icon spec,
// https://www.w3.org/TR/appmanifest/#icon-masks) and apple-touch-icon.png (180, opaque).
// The PNGs are rasterised here from the same geometry as the SVG (4x4 supersampling) and encoded
// with node:zlib, so no image tool or network is needed. Run: node scripts/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');

// Geometry in unit coordinates (0..1). The mark: a ring (the noise being shaped) around a disc (the
// concept), with a bright seed dot on the ring.
const BG_TOP = [0x17, 0x1b, 0x29];
const BG_BOTTOM = [0x0b, 0x0d, 0x12];
const ACCENT_A = [0x8b, 0x7b, 0xff]; // violet, top-left
const ACCENT_B = [0x38, 0xd5, 0xf2]; // cyan, bottom-right
const RING = { r: 0.315, w: 0.05 };
const DISC = { r: 0.165 };
const SEED = { x: 0.5 + 0.315 * Math.cos(-Math.PI / 4), y: 0.5 + 0.315 * Math.sin(-Math.PI / 4), r: 0.062 };
const CORNER = 0.225;

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
const clamp01 = (t) => Math.min(1, Math.max(0, t));

/** Colour and alpha of one sample at (x, y) in unit coordinates; `scale` shrinks the mark toward the centre. */
function sample(x, y, { rounded, scale }) {
  // Background: rounded square (or full bleed), vertical gradient.
  let inside = true;
  if (rounded) {
    const cx = Math.min(Math.max(x, CORNER), 1 - CORNER);
    const cy = Math.min(Math.max(y, CORNER), 1 - CORNER);
    inside = (x - cx) ** 2 + (y - cy) ** 2 <= CORNER * CORNER;
  }
  if (!inside) return [0, 0, 0, 0];
  let c = mix(BG_TOP, BG_BOTTOM, y);
  const mx = 0.5 + (x - 0.5) / scale;
  const my = 0.5 + (y - 0.5) / scale;
  const d = Math.hypot(mx - 0.5, my - 0.5);
  const accent = mix(ACCENT_A, ACCENT_B, clamp01((mx + my - 0.5) / 1.0));
  if (Math.abs(d - RING.r) <= RING.w / 2 || d <= DISC.r) c = accent;
  const ds = Math.hypot(mx - SEED.x, my - SEED.y);
  if (ds <= SEED.r + 0.03) c = mix(BG_TOP, BG_BOTTOM, y); // a gap around the seed
  if (ds <= SEED.r) c = [0xf5, 0xf7, 0xff];
  return [...c, 255];
}

function rasterise(size, opts) {
  const SS = 4;
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const s = sample((px + (sx + 0.5) / SS) / size, (py + (sy + 0.5) / SS) / size, opts);
          // Premultiplied accumulation, so transparent corner samples do not darken the edge.
          for (let i = 0; i < 3; i++) acc[i] += (s[i] * s[3]) / 255;
          acc[3] += s[3];
        }
      }
      const o = (py * size + px) * 4;
      const a = acc[3] / (SS * SS);
      for (let i = 0; i < 3; i++) rgba[o + i] = a > 0 ? Math.round((acc[i] / (SS * SS)) * (255 / a)) : 0;
      rgba[o + 3] = Math.round(a);
    }
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** PNG (RFC 2083): 8-bit RGBA, filter type 0 on every row. */
function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (c) => '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
const f = (v) => +(v * 512).toFixed(2);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="${hex(BG_TOP)}"/><stop offset="1" stop-color="${hex(BG_BOTTOM)}"/>
    </linearGradient>
    <linearGradient id="accent" gradientUnits="userSpaceOnUse" x1="${f(0.25)}" y1="${f(0.25)}" x2="${f(0.75)}" y2="${f(0.75)}">
      <stop offset="0" stop-color="${hex(ACCENT_A)}"/><stop offset="1" stop-color="${hex(ACCENT_B)}"/>
    </linearGradient>
  </defs>
  <rect width="512" height="512" rx="${f(CORNER)}" fill="url(#bg)"/>
  <circle cx="256" cy="256" r="${f(RING.r)}" fill="none" stroke="url(#accent)" stroke-width="${f(RING.w)}"/>
  <circle cx="256" cy="256" r="${f(DISC.r)}" fill="url(#accent)"/>
  <circle cx="${f(SEED.x)}" cy="${f(SEED.y)}" r="${f(SEED.r + 0.03)}" fill="${hex(mix(BG_TOP, BG_BOTTOM, SEED.y))}"/>
  <circle cx="${f(SEED.x)}" cy="${f(SEED.y)}" r="${f(SEED.r)}" fill="#f5f7ff"/>
</svg>
`;

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'icon.svg'), svg);
const pngs = [
  ['icon-192.png', 192, { rounded: true, scale: 1 }],
  ['icon-512.png', 512, { rounded: true, scale: 1 }],
  ['icon-maskable-512.png', 512, { rounded: false, scale: 0.78 }],
  ['apple-touch-icon.png', 180, { rounded: false, scale: 0.86 }],
];
for (const [name, size, opts] of pngs) {
  writeFileSync(join(OUT, name), encodePng(size, rasterise(size, opts)));
  console.log(`public/${name} (${size}x${size})`);
}
console.log('public/icon.svg');
