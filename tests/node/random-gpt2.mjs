// Random-weight GPT-2 models written as F32 safetensors in memory, for the
// benchmarks and for tests that need a shape no fixture has.
import { fillUniform } from '../../scripts/lib/random.mjs';

// GPT-2 parameter names and shapes (HF Conv1D layout), in file order.
export function gpt2Tensors({ n_layer: L, n_embd: C, n_positions: P, vocab_size: V }) {
  const tensors = [
    ['wte.weight', [V, C], 'noise'],
    ['wpe.weight', [P, C], 'noise'],
  ];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}.`;
    tensors.push(
      [`${h}ln_1.weight`, [C], 'one'],
      [`${h}ln_1.bias`, [C], 'zero'],
      [`${h}attn.c_attn.weight`, [C, 3 * C], 'noise'],
      [`${h}attn.c_attn.bias`, [3 * C], 'zero'],
      [`${h}attn.c_proj.weight`, [C, C], 'noise'],
      [`${h}attn.c_proj.bias`, [C], 'zero'],
      [`${h}ln_2.weight`, [C], 'one'],
      [`${h}ln_2.bias`, [C], 'zero'],
      [`${h}mlp.c_fc.weight`, [C, 4 * C], 'noise'],
      [`${h}mlp.c_fc.bias`, [4 * C], 'zero'],
      [`${h}mlp.c_proj.weight`, [4 * C, C], 'noise'],
      [`${h}mlp.c_proj.bias`, [C], 'zero'],
    );
  }
  tensors.push(['ln_f.weight', [C], 'one'], ['ln_f.bias', [C], 'zero']);
  return tensors;
}

// A minimal F32 safetensors writer: 8-byte little-endian header length, the
// JSON header padded with spaces to a multiple of 8, then the tensors.
export function writeSafetensors(tensors) {
  const header = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - ((8 + headerText.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.length;
  let seed = 1234;
  for (const [name, shape, init] of tensors) {
    const values = new Float32Array(file.buffer, dataStart + header[name].data_offsets[0],
      shape.reduce((a, b) => a * b, 1));
    if (init === 'one') values.fill(1);
    else if (init === 'noise') fillUniform(values, seed++, -0.035, 0.035);  // std 0.02, GPT-2's init
  }
  return file;
}

// The values of one tensor of a file made by writeSafetensors, as a view
// (edits go into the file).
export function tensorView(file, name) {
  const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
  const [begin, end] = header[name].data_offsets;
  return new Float32Array(file.buffer, file.byteOffset + 8 + headerLength + begin, (end - begin) / 4);
}
