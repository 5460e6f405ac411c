/**
 * A seeded stream of uniform numbers in [0, 1) (mulberry32): the same sequence for the same seed on every
 * machine, for samples and shuffles that must repeat (permutation importance) and for test data. Imports nothing.
 */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
