/** Edit distance (insertions, deletions, substitutions; case ignored) between two names. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length];
}

/** `candidates` ordered by their distance to `name`, closest first (ties keep their order). */
export function closestFirst(name: string, candidates: readonly string[]): string[] {
  return candidates
    .map((candidate, index) => ({ candidate, index, distance: editDistance(name, candidate) }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .map((c) => c.candidate);
}

/** The candidate a typo most likely meant: within a third of the name's length in edits (at least 1), else undefined. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const best = closestFirst(name, candidates)[0];
  if (best === undefined) return undefined;
  return editDistance(name, best) <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}
