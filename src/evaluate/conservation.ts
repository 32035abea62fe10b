/**
 * The paper's conservation experiment (SPEC §4): for every sentence, the relevance sum Σ_t R_t of a
 * method beside the explained logit f (the true class). A conservative explanation lies on the
 * diagonal Σ R = f: the summary gives Pearson's r, the mean |Σ R − f| and the least-squares slope
 * of Σ R on f. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { encodeInput, getMethod, type MethodOptions } from "../explain/index.js";
import type { TransformerModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { checkLabels, type LabelledText } from "./labels.js";
import { meanAbsDiff, pearson, slope } from "./metrics.js";
import { MethodClock, type MethodTiming } from "./timing.js";

/** The default methods: those of the paper's figure, and AttnLRP. */
export const CONSERVATION_METHODS = ["gi", "lrp-ah", "lrp", "attnlrp"] as const;

export interface ConservationStats {
  /** Pearson's r between f and Σ R. */
  pearson: number;
  /** mean |Σ R − f|. */
  meanAbsDiff: number;
  /** Least-squares slope of Σ R on f (1 on the diagonal). */
  slope: number;
  n: number;
  /**
   * Where conservation is lost, for methods that report per-block sums: `head` compares the
   * relevance arriving at the top of the encoder (after the classifier head) with f; `encoder`
   * compares the relevance at the embeddings with that at the top of the encoder.
   */
  head?: { pearson: number; slope: number };
  encoder?: { pearson: number; slope: number };
}

/** One sentence: the explained logit and each method's relevance sum. */
export interface ConservationPoint {
  /** 0-based index in the evaluated samples. */
  index: number;
  target: number;
  logit: number;
  sums: Record<string, number>;
  /** Per-block relevance sums (embeddings first, top of the encoder last), for methods that report them. */
  layers?: Record<string, number[]>;
}

export interface ConservationResult {
  n: number;
  methods: string[];
  summary: Record<string, ConservationStats>;
  points: ConservationPoint[];
  /** Explanation time per method. */
  timing: Record<string, MethodTiming>;
}

export interface ConservationOptions {
  gamma?: number;
  steps?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

/** The summary statistics of relevance sums against logits. */
export function conservationStats(logits: readonly number[], sums: readonly number[]): ConservationStats {
  if (logits.length !== sums.length)
    throw new XaitError(`conservation: ${logits.length} logits but ${sums.length} sums`);
  return {
    pearson: pearson(logits, sums),
    meanAbsDiff: meanAbsDiff(sums, logits),
    slope: slope(logits, sums),
    n: logits.length,
  };
}

/** Σ_t R_t of every method against the true-class logit, for every sample. */
export function evaluateConservation(
  model: TransformerModel,
  samples: readonly LabelledText[],
  methodIds: readonly string[] = CONSERVATION_METHODS,
  opts: ConservationOptions = {},
): ConservationResult {
  if (samples.length === 0) throw new XaitError("conservation: no samples to evaluate");
  if (methodIds.length === 0) throw new XaitError("conservation: no methods to evaluate");
  checkLabels(model, samples);
  const methods = methodIds.map(getMethod);
  const options: MethodOptions = { gamma: opts.gamma ?? 0, steps: opts.steps ?? 50, seed: opts.seed ?? 0 };
  const clock = new MethodClock(methodIds);
  const points: ConservationPoint[] = samples.map((sample, index) => {
    const input = sample.pair === undefined ? sample.text : ([sample.text, sample.pair] as [string, string]);
    const { batch } = encodeInput(model, input, opts.warn);
    const logit = noGrad(() => model.forward(batch)).data[sample.label]!;
    const sums: Record<string, number> = {};
    const layers: Record<string, number[]> = {};
    for (const m of methods) {
      const out = clock.time(m.id, () => m.run({ model, batch, target: sample.label, options }));
      sums[m.id] = out.attributions.reduce((a, b) => a + b, 0);
      if (out.layers) layers[m.id] = out.layers;
    }
    opts.onProgress?.(index + 1, samples.length);
    return { index, target: sample.label, logit, sums, ...(Object.keys(layers).length ? { layers } : {}) };
  });
  const logits = points.map((p) => p.logit);
  const summary: Record<string, ConservationStats> = {};
  for (const m of methods) {
    summary[m.id] = conservationStats(
      logits,
      points.map((p) => p.sums[m.id]!),
    );
    if (points.every((p) => p.layers?.[m.id])) {
      const top = points.map((p) => p.layers![m.id]!.at(-1)!);
      const bottom = points.map((p) => p.layers![m.id]![0]!);
      summary[m.id]!.head = { pearson: pearson(logits, top), slope: slope(logits, top) };
      summary[m.id]!.encoder = { pearson: pearson(top, bottom), slope: slope(top, bottom) };
    }
  }
  return {
    n: points.length,
    methods: methods.map((m) => m.id),
    summary,
    points,
    timing: clock.result(points.length),
  };
}
