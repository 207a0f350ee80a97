// F32 safetensors writer shared by the recipes that derive one model folder
// from another (expand-vocab.mjs, grow-depth.mjs). Reading is
// tests/reference/gpt2-reference.mjs's readSafetensors.
import { writeFileSync } from 'node:fs';

// Writes `tensors` (an iterable of [name, {shape, values}]) in the given
// order, every one as F32; the header is padded with spaces to a multiple of
// 8 bytes.
export function writeSafetensors(file, tensors, metadata) {
  const list = [...tensors];
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const [name, { shape, values }] of list) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * values.length] };
    offset += 4 * values.length;
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
    for (let i = 0; i < values.length; ++i) view.setFloat32(at + 4 * i, values[i], true);
    at += 4 * values.length;
  }
  writeFileSync(file, out);
}
