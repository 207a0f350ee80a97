// Safetensors writer shared by the recipes that derive one model folder from
// another (expand-vocab.mjs, grow-depth.mjs, grow-context.mjs: F32;
// average-weights.mjs: F16, as the shipped models). Reading is
// tests/reference/gpt2-reference.mjs's readSafetensors.
import { writeFileSync } from 'node:fs';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// The IEEE half nearest to x (ties to even), as its 16 bits.
export function toHalfBits(x) {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);  // inf, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;  // too large: inf
  let half, rem, mid;
  if (e <= 0) {  // a subnormal half: (1.mant) 2^(exp-127) = m 2^-24
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    half = mant >>> shift;
    rem = mant & ((1 << shift) - 1);
    mid = 1 << (shift - 1);
  } else {
    half = (e << 10) | (mant >>> 13);
    rem = mant & 0x1fff;
    mid = 0x1000;
  }
  if (rem > mid || (rem === mid && (half & 1))) half++;  // a carry into the exponent is right
  return sign | half;
}

// Writes `tensors` (an iterable of [name, {shape, values}]) in the given
// order, every one as `dtype` (F32, or F16 rounded to nearest); the header is
// padded with spaces to a multiple of 8 bytes.
export function writeSafetensors(file, tensors, metadata, { dtype = 'F32' } = {}) {
  if (dtype !== 'F32' && dtype !== 'F16') throw new Error(`writeSafetensors: dtype ${dtype} is not F32 or F16`);
  const size = dtype === 'F32' ? 4 : 2;
  const list = [...tensors];
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const [name, { shape, values }] of list) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + size * values.length] };
    offset += size * values.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, { values }] of list) {
    if (size === 4) for (let i = 0; i < values.length; ++i) view.setFloat32(at + 4 * i, values[i], true);
    else for (let i = 0; i < values.length; ++i) view.setUint16(at + 2 * i, toHalfBits(values[i]), true);
    at += size * values.length;
  }
  writeFileSync(file, out);
}
