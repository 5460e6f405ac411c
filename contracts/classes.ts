/**
 * A multiclass label's classes as Sluice stores and writes them: how many a pipeline may have, and the column
 * each class's probability is written to. Shared by the feature step (which refuses names that collide) and batch
 * inference; imports nothing of ours.
 */

/** The most classes a multiclass label may have (and the fewest: 2). */
export const MAX_CLASSES = 100;

/** The column of a class's probability: `p_` and the class name in lower case, each run of other characters than a–z, 0–9 and _ made one `_`. */
export function probabilityColumn(name: string): string {
  return `p_${name.toLowerCase().replace(/[^a-z0-9_]+/g, '_')}`;
}

/** The column a multiclass model's most probable class is written to. */
export const PREDICTED_CLASS = 'predicted_class';
