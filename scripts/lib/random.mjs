// The one pseudo-random family of the tests, the test fixtures, the
// benchmarks and the page's presets: mulberry32 (Tommy Ettinger's 32-bit
// generator). 32-bit state and integer operations only, so a seed gives the
// same stream on every run, machine and JS engine, and the fixture files it
// fills are byte-for-byte reproducible. Not for anything secret.

/** A stream of numbers uniform in [0, 1), 2^-32 apart, for `seed`. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` (any typed or plain array) with numbers uniform in [lo, hi); returns it. */
export function fillUniform(out, seed, lo = -1, hi = 1) {
  const next = mulberry32(seed);
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** n float32 values uniform in [lo, hi): test and benchmark inputs. */
export function uniformFloats(n, seed, lo = -1, hi = 1) {
  return fillUniform(new Float32Array(n), seed, lo, hi);
}

/** n integers uniform in [0, bound), e.g. token ids below a vocabulary size. */
export function uniformInts(n, bound, seed) {
  const next = mulberry32(seed);
  return Array.from({ length: n }, () => Math.floor(next() * bound));
}
