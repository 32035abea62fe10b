/**
 * What every explanation method receives: the model, one encoded input, and the explained output —
 * a class of a classifier or a token of a language model, optionally against a contrast (the
 * explained quantity is then the logit difference f = logit(target) − logit(contrast)).
 */
import type { Batch, RuleMap, Site, TransformerModel } from "../models/index.js";

export interface MethodOptions {
  /** LRP-γ for the rule-set methods (default 0). */
  gamma: number;
  /** Integrated Gradients steps (default 50). */
  steps: number;
  /** Seed of the `random` baseline. */
  seed: number;
  /** Per-site rule overrides of the rule-set methods (`--rule SITE=RULE`). */
  rules?: Partial<Record<Site, string>>;
}

export interface MethodInput {
  model: TransformerModel;
  /** One unpadded sequence (batch = 1). */
  batch: Batch;
  target: number;
  /** Explain logit(target) − logit(contrast). */
  contrast?: number;
  options: MethodOptions;
}

export interface MethodOutput {
  attributions: number[];
  /** Relevance sum at the input of every block and at the output of the last (rule-set methods). */
  layers?: number[];
}

/** Several padded sequences explained at once (row r explains class targets[r]). */
export interface BatchInput {
  model: TransformerModel;
  batch: Batch;
  targets: number[];
  /** Per row: explain logit(target) − logit(contrast) (null: the target's logit alone). */
  contrasts?: (number | null)[];
  options: MethodOptions;
}

export interface Method {
  id: string;
  /** Title as in the paper's tables. */
  title: string;
  /** Relevance meant to sum to the logit (conservation is reported against it). */
  conservative: boolean;
  /** The rule map of a rule-set method (`--rule` overrides its sites); absent for the other methods. */
  rules?: RuleMap;
  run(input: MethodInput): MethodOutput;
  /**
   * The same for a padded batch in one forward and one backward pass (methods whose rows do not
   * interact); outputs are trimmed to each row's length. Absent: rows are explained one by one.
   */
  runBatch?(input: BatchInput): MethodOutput[];
}

/** A batch holding `copies` copies of a one-sequence batch, optionally with other ids. */
export function replicate(b: Batch, copies: number, ids?: (copy: number, t: number) => number): Batch {
  const n = b.seq * copies;
  const out: Batch = {
    batch: copies,
    seq: b.seq,
    ids: new Int32Array(n),
    typeIds: new Int32Array(n),
    mask: new Uint8Array(n),
  };
  for (let c = 0; c < copies; c++)
    for (let t = 0; t < b.seq; t++) {
      out.ids[c * b.seq + t] = ids ? ids(c, t) : b.ids[t]!;
      out.typeIds[c * b.seq + t] = b.typeIds[t]!;
      out.mask[c * b.seq + t] = b.mask[t]!;
    }
  return out;
}

/**
 * The seed for backward(): ∂(Σ_rows f_row)/∂logits with f = logit[target] (− logit[contrast]); one
 * target (and contrast) for all rows, or one per row.
 */
export function targetSeed(
  rows: number,
  classes: number,
  target: number | readonly number[],
  contrast?: number | readonly (number | null)[] | null,
): Float32Array {
  const seed = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    seed[r * classes + (typeof target === "number" ? target : target[r]!)] = 1;
    const c =
      contrast === undefined || contrast === null
        ? null
        : typeof contrast === "number"
          ? contrast
          : contrast[r];
    if (c !== null && c !== undefined) seed[r * classes + c]! -= 1;
  }
  return seed;
}

/** The explained quantity from a row of logits: logit[target] (− logit[contrast]). */
export function explainedValue(
  logits: ArrayLike<number>,
  offset: number,
  target: number,
  contrast?: number | null,
): number {
  return (
    logits[offset + target]! - (contrast === undefined || contrast === null ? 0 : logits[offset + contrast]!)
  );
}

/** Rows of at most this many tokens are pushed through the model at once (IG steps, occlusion). */
export const TOKENS_PER_CHUNK = 4096;
