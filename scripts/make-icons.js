#!/usr/bin/env node
// Draws the tray and app icons (resources/*.png): a gate in a rounded square, one colour per tray state.
// Run by hand when the icons change; the PNGs are committed. Plain zlib, no image library needed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const STATES = { idle: [110, 118, 129], recording: [46, 160, 67], pending: [219, 145, 20], paused: [56, 132, 244], error: [210, 56, 56] };

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(size, [r, g, b]) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      const corner = 0.22;
      const dx = Math.max(corner - u, u - (1 - corner), 0);
      const dy = Math.max(corner - v, v - (1 - corner), 0);
      const inside = Math.hypot(dx, dy) <= corner;
      // The gate: two posts and an arch, in white.
      const post = (u > 0.22 && u < 0.34) || (u > 0.66 && u < 0.78);
      const arch = v > 0.2 && v < 0.34 && u > 0.22 && u < 0.78;
      const bars = v > 0.34 && v < 0.82 && ((u > 0.42 && u < 0.46) || (u > 0.54 && u < 0.58));
      const gate = v > 0.2 && v < 0.82 && (post || arch || bars);
      const [pr, pg, pb, pa] = !inside ? [0, 0, 0, 0] : gate ? [255, 255, 255, 255] : [r, g, b, 255];
      row.set([pr, pg, pb, pa], 1 + x * 4);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

for (const [state, colour] of Object.entries(STATES)) {
  writeFileSync(new URL(`../resources/tray-${state}.png`, import.meta.url), png(32, colour));
}
writeFileSync(new URL('../resources/icon.png', import.meta.url), png(512, STATES.recording));
