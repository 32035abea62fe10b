/** Building padded batches from token id sequences. */
import { XaitError } from "../errors.js";
import type { Batch } from "./model.js";

export interface Sequence {
  ids: readonly number[];
  typeIds?: readonly number[];
}

/** Pad sequences to the longest with `padId`; mask marks real tokens. */
export function makeBatch(seqs: readonly Sequence[], padId: number): Batch {
  if (seqs.length === 0) throw new XaitError("empty batch");
  const seq = Math.max(...seqs.map((s) => s.ids.length));
  const n = seqs.length * seq;
  const ids = new Int32Array(n).fill(padId);
  const typeIds = new Int32Array(n);
  const mask = new Uint8Array(n);
  seqs.forEach((s, r) => {
    for (let t = 0; t < s.ids.length; t++) {
      ids[r * seq + t] = s.ids[t]!;
      typeIds[r * seq + t] = s.typeIds?.[t] ?? 0;
      mask[r * seq + t] = 1;
    }
  });
  return { batch: seqs.length, seq, ids, typeIds, mask };
}
