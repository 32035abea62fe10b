/**
 * The paper's conservation experiment (Ali et al. 2022): for every sentence, the relevance sum Σ_t R_t of a
 * method beside the explained logit f (the true class). A conservative explanation lies on the
 * diagonal Σ R = f: the summary gives Pearson's r, the mean |Σ R − f| and the least-squares slope
 * of Σ R on f. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { getMethod } from "../explain/index.js";
import type { TransformerModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { checkLabels, type LabelledText } from "./labels.js";
import { meanAbsDiff, pearson, slope } from "./metrics.js";
import type { MethodTiming } from "./timing.js";
import { labelledInput } from "./run-perturbation.js";
import { DEFAULT_BLOCK, explainSamples, type ExplainedSample } from "./sample-loop.js";

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
  /** Samples whose rule-set explanations share passes (see sample-loop.ts; default 8). */
  block?: number;
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

/** One sentence's part: its point and the explanation time per method (ms). */
export interface ConservationSampleResult {
  point: ConservationPoint;
  ms: Record<string, number>;
}

/** The explained logit f (one forward pass of the unpadded sample) and every method's Σ R. */
export function conservationSample(
  model: TransformerModel,
  methodIds: readonly string[],
  sample: ExplainedSample,
  target: number,
): ConservationSampleResult {
  const logit = noGrad(() => model.forward(sample.batch)).data[target]!;
  const sums: Record<string, number> = {};
  const layers: Record<string, number[]> = {};
  const ms: Record<string, number> = {};
  methodIds.forEach((id, m) => {
    const out = sample.outputs[m]!;
    sums[id] = out.attributions.reduce((a, b) => a + b, 0);
    if (out.layers) layers[id] = out.layers;
    ms[id] = sample.ms[m]!;
  });
  const point = {
    index: sample.index,
    target,
    logit,
    sums,
    ...(Object.keys(layers).length ? { layers } : {}),
  };
  return { point, ms };
}

/** The summary from every sentence's part, in sample order. */
export function conservationResult(
  methodIds: readonly string[],
  samples: readonly ConservationSampleResult[],
): ConservationResult {
  if (samples.length === 0) throw new XaitError("conservation: no samples to evaluate");
  const points = samples.map((s) => s.point);
  const logits = points.map((p) => p.logit);
  const summary: Record<string, ConservationStats> = {};
  const timing: Record<string, MethodTiming> = {};
  for (const id of methodIds) {
    summary[id] = conservationStats(
      logits,
      points.map((p) => p.sums[id]!),
    );
    if (points.every((p) => p.layers?.[id])) {
      const top = points.map((p) => p.layers![id]!.at(-1)!);
      const bottom = points.map((p) => p.layers![id]![0]!);
      summary[id]!.head = { pearson: pearson(logits, top), slope: slope(logits, top) };
      summary[id]!.encoder = { pearson: pearson(top, bottom), slope: slope(top, bottom) };
    }
    const ms = samples.reduce((a, s) => a + s.ms[id]!, 0);
    timing[id] = { total_s: ms / 1000, per_sample_ms: ms / samples.length };
  }
  return { n: points.length, methods: [...methodIds], summary, points, timing };
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
  methodIds.forEach(getMethod);
  const parts: ConservationSampleResult[] = [];
  const loop = explainSamples(
    model,
    samples.map((s, index) => ({ index, input: labelledInput(s), target: s.label })),
    methodIds,
    () => true,
    {
      gamma: opts.gamma ?? 0,
      steps: opts.steps ?? 50,
      seedOf: () => opts.seed ?? 0,
      block: opts.block ?? DEFAULT_BLOCK,
      warn: opts.warn,
    },
  );
  for (const explained of loop) {
    parts.push(conservationSample(model, methodIds, explained, samples[explained.index]!.label));
    opts.onProgress?.(parts.length, samples.length);
  }
  return conservationResult(methodIds, parts);
}
