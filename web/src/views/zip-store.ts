/**
 * A store-only ZIP archive (PKWARE APPNOTE 6.3: local headers, the files
 * uncompressed, a central directory, the end record): enough to hand the
 * reader a model folder as one download. No compression (the weights are
 * float bits, which deflate barely shrinks), no ZIP64 (files under 4 GiB).
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as ZIP uses) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface ZipEntry {
  /** Path inside the archive ("attn-live/config.json"). */
  name: string;
  bytes: Uint8Array;
}

/** The archive's bytes: entries in order, every one stored as is. */
export function storeZip(entries: ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const crc = crc32(entry.bytes);
    const size = entry.bytes.length;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); // local file header signature
    local.setUint16(4, 20, true);          // version needed: 2.0
    local.setUint16(6, 0x0800, true);      // flags: names are UTF-8
    local.setUint16(8, 0, true);           // method: stored
    local.setUint16(10, 0, true);          // time
    local.setUint16(12, 0x21, true);       // date: 1980-01-01
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true);       // compressed size
    local.setUint32(22, size, true);       // uncompressed size
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);          // extra field length
    parts.push(new Uint8Array(local.buffer), name, entry.bytes);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true); // central directory signature
    record.setUint16(4, 20, true);         // made by: 2.0
    record.setUint16(6, 20, true);
    record.setUint16(8, 0x0800, true);
    record.setUint16(10, 0, true);
    record.setUint16(12, 0, true);
    record.setUint16(14, 0x21, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, size, true);
    record.setUint32(24, size, true);
    record.setUint16(28, name.length, true);
    // extra, comment, disk number, internal attributes: 0
    record.setUint32(38, 0, true);         // external attributes
    record.setUint32(42, offset, true);    // offset of the local header
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + size;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);      // end of central directory signature
  end.setUint16(8, entries.length, true);  // entries on this disk
  end.setUint16(10, entries.length, true); // entries in all
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);         // where the central directory starts
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of all) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
