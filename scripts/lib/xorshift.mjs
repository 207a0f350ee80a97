// Deterministic test and benchmark inputs: n floats uniform in [lo, hi) from
// a xorshift32 stream, the same on every run and machine for a given seed.
export function xorshiftFloats(n, seed, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}
