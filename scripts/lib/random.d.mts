// Types of random.mjs for the page's TypeScript (web/src/views/presets.ts).
export function mulberry32(seed: number): () => number;
export function fillUniform<A extends { length: number; [i: number]: number }>(out: A, seed: number, lo?: number, hi?: number): A;
export function uniformFloats(n: number, seed: number, lo?: number, hi?: number): Float32Array;
export function uniformInts(n: number, bound: number, seed: number): number[];
