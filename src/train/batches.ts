/** Training batches: shuffled, grouped by length to limit padding (or by exact length for mask-free models). */
import type { Random } from "../tensor/index.js";

export interface EncodedExample {
  ids: number[];
  typeIds: number[];
  label: number;
}

/**
 * Batches of indices for one epoch. `exactLength`: every batch holds sequences of one length (the
 * xai-transformer has no attention mask, so padding would change what it computes). Otherwise
 * examples are shuffled, sorted by length within windows of 50 batches, and the batches shuffled.
 */
export function epochBatches(
  examples: readonly EncodedExample[],
  batchSize: number,
  rng: Random,
  exactLength: boolean,
): number[][] {
  const order = rng.shuffle(examples.map((_, i) => i));
  const batches: number[][] = [];
  if (exactLength) {
    const byLength = new Map<number, number[]>();
    for (const i of order) {
      const n = examples[i]!.ids.length;
      if (!byLength.has(n)) byLength.set(n, []);
      byLength.get(n)!.push(i);
    }
    for (const n of [...byLength.keys()].sort((a, b) => a - b)) {
      const group = byLength.get(n)!;
      for (let s = 0; s < group.length; s += batchSize) batches.push(group.slice(s, s + batchSize));
    }
  } else {
    const window = batchSize * 50;
    for (let w = 0; w < order.length; w += window) {
      const chunk = order
        .slice(w, w + window)
        .sort((a, b) => examples[a]!.ids.length - examples[b]!.ids.length);
      for (let s = 0; s < chunk.length; s += batchSize) batches.push(chunk.slice(s, s + batchSize));
    }
  }
  return rng.shuffle(batches);
}

/**
 * Shortens every example of a batch to the length of its shortest one, keeping each example's last
 * token (the closing [SEP]): lets the mask-free xai-transformer train on batches of similar rather
 * than equal length (long-document corpora have too few texts of any one length to fill a batch).
 */
export function cropToShortest(batch: readonly EncodedExample[]): EncodedExample[] {
  const n = Math.min(...batch.map((e) => e.ids.length));
  const crop = (a: number[]) => (a.length === n ? a : [...a.slice(0, n - 1), a[a.length - 1]!]);
  return batch.map((e) => ({ ids: crop(e.ids), typeIds: crop(e.typeIds), label: e.label }));
}
