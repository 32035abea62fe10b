/**
 * Language-model training data: documents tokenised, joined into one token stream with the
 * end-of-text token between consecutive documents, and cut into consecutive windows of a fixed
 * length. Every token of the stream is in exactly one window; the last, partial window is dropped
 * (no padding, so every position of every window is a real prediction). Browser-safe.
 */
import { XaitError } from "../errors.js";
import type { Random } from "../tensor/index.js";

/** The windows of a packed token stream, and what was dropped. */
export interface PackedWindows {
  /** Windows of exactly `length` token ids each. */
  windows: number[][];
  /** Tokens in the stream (documents plus separators). */
  tokens: number;
  /** Tokens of the last, partial window, left out. */
  dropped: number;
}

/**
 * Joins the token ids of documents with `separator` between consecutive documents (not before the
 * first nor after the last) and cuts the stream into windows of `length` tokens; documents run
 * across window boundaries. Empty documents are skipped.
 */
export function packDocuments(
  documents: Iterable<readonly number[]>,
  separator: number,
  length: number,
): PackedWindows {
  if (!Number.isInteger(length) || length < 2)
    throw new XaitError(`a language-model window needs at least 2 tokens, got ${length}`);
  const windows: number[][] = [];
  let current: number[] = [];
  let tokens = 0;
  let first = true;
  const push = (id: number) => {
    current.push(id);
    tokens++;
    if (current.length === length) {
      windows.push(current);
      current = [];
    }
  };
  for (const doc of documents) {
    if (doc.length === 0) continue;
    if (!first) push(separator);
    first = false;
    for (const id of doc) push(id);
  }
  return { windows, tokens, dropped: current.length };
}

/** The windows of one epoch in batches: a seeded shuffle of the windows, cut into runs of `batchSize`. */
export function windowBatches(count: number, batchSize: number, rng: Random): number[][] {
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += batchSize) batches.push(order.slice(s, s + batchSize));
  return batches;
}
