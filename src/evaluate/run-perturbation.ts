/**
 * The paper's input-perturbation evaluation over a labelled set (Ali et al. 2022): for every sample and
 * method, explain the TRUE class, run both protocols (`perturbationCurves`: generate and pruning,
 * the perturbed inputs of a sample — 22 per method, all methods together, duplicates once — in one
 * forward pass), then average the curves over samples and integrate (AUAC, AUPC, AU-MSE).
 * Explanation time is measured per method: explainer cost is a result too. A sample's part
 * (`perturbationSample`) is computed on its own, so that a run can journal it, and the result is
 * made from the parts (`perturbationResult`). Browser-safe.
 */
import { XaitError } from "../errors.js";
import { paddingToken, replacementToken } from "../tokenize/index.js";
import { getMethod, type ExplainInput } from "../explain/index.js";
import type { Batch, TransformerModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { checkLabels, type LabelledText } from "./labels.js";
import { FRACTIONS, STEPS } from "./fractions.js";
import { bootstrapMetrics, type BootstrapResult } from "./bootstrap.js";
import { trapezoid } from "./metrics.js";
import type { MethodTiming } from "./timing.js";
import { DEFAULT_BLOCK, explainSamples, type ExplainedSample } from "./sample-loop.js";
import {
  aggregate,
  generateInputs,
  perturbationCurves,
  pruningInputs,
  type PerturbationCurves,
  type PerturbationModel,
} from "./perturbation.js";

export interface PerturbationOptions {
  /** Seed of the `random` baseline; sample i gets its own seed derived from (seed, i). */
  seed: number;
  /** LRP-γ for lrp, lrp-ah, attnlrp (default 0). */
  gamma?: number;
  /** Integrated Gradients steps (default 50). */
  steps?: number;
  /** Samples whose rule-set explanations share passes (see sample-loop.ts; default 8). */
  block?: number;
  /** Called after every sample (all methods done) with the number of samples done. */
  onProgress?: (done: number, total: number) => void;
  /** Receives warnings (e.g. a truncated text). */
  warn?: (message: string) => void;
}

export interface PerturbationMetrics {
  AUAC: number;
  AUPC: number;
  "AU-MSE": number;
}

export type PerturbationMetric = keyof PerturbationMetrics;

/** The bootstrap over samples of each area (see bootstrap.ts), resampling seeded by the run's seed. */
export type PerturbationBootstrap = BootstrapResult<PerturbationMetric>;

export interface PerturbationResult {
  n: number;
  /** Method ids in the order given. */
  methods: string[];
  metrics: Record<string, PerturbationMetrics>;
  /** The sample-averaged curves, 11 points each (fractions 0, 0.1, …, 1). */
  curves: Record<string, PerturbationCurves>;
  /** Intervals of the areas and which methods the best one cannot be told apart from. */
  bootstrap: PerturbationBootstrap;
  timing: Record<string, MethodTiming>;
  seed: number;
  /** Wall time of the whole evaluation, seconds. */
  total_s: number;
  /** Time of the forward passes over the perturbed inputs, seconds. */
  forward_s: number;
  /** Distinct perturbed inputs run through the model (at most 22 per sample and method). */
  perturbedInputs: number;
}

/**
 * A per-sample seed for the `random` baseline: a fresh permutation for every sample, reproducible
 * from (seed, sample index). The pair is mixed by murmur3's 32-bit finaliser.
 */
export function sampleSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (index >>> 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Rows of at most this many tokens go through one forward pass (but always a whole method's 22). */
const TOKENS_PER_FORWARD = 8192;

/**
 * Logits of perturbed copies of one sample: every input has the sample's length and token types,
 * so no padding is needed (the xai-transformer has no attention mask).
 */
export function perturbedLogits(
  model: TransformerModel,
  sample: Batch,
  inputs: readonly number[][],
): number[][] {
  const T = sample.seq;
  const C = model.numLabels;
  const rowsPerForward = Math.max(2 * (STEPS + 1), Math.floor(TOKENS_PER_FORWARD / T));
  const out: number[][] = [];
  for (let from = 0; from < inputs.length; from += rowsPerForward) {
    const rows = inputs.slice(from, from + rowsPerForward);
    const b: Batch = {
      batch: rows.length,
      seq: T,
      ids: new Int32Array(rows.length * T),
      typeIds: new Int32Array(rows.length * T),
      mask: new Uint8Array(rows.length * T),
    };
    rows.forEach((ids, r) => {
      if (ids.length !== T) throw new XaitError(`perturbation: input of ${ids.length} tokens, expected ${T}`);
      for (let t = 0; t < T; t++) {
        b.ids[r * T + t] = ids[t]!;
        b.typeIds[r * T + t] = sample.typeIds[t]!;
        b.mask[r * T + t] = sample.mask[t]!;
      }
    });
    const logits = noGrad(() => model.forward(b)).data;
    rows.forEach((_, r) => out.push(Array.from(logits.subarray(r * C, (r + 1) * C))));
  }
  return out;
}

/**
 * The protocol's model for one sample and all methods at once: the perturbed inputs of every method
 * (generate and pruning, 22 each) are collected, duplicates dropped (all-[UNK] and the unperturbed
 * input occur in every method, and methods often agree on the first tokens), and run in one
 * forward pass; `perturbationCurves` then reads their logits from the table.
 */
function sampleModel(
  model: TransformerModel,
  sample: Batch,
  relevances: readonly number[][],
): { model: PerturbationModel; rows: number } {
  const tok = model.tokenizer;
  if (!tok) throw new XaitError("the model has no tokenizer (tokenizer.json or vocab.txt)");
  const unk = replacementToken(tok.special);
  if (unk === undefined)
    throw new XaitError("the tokenizer has no unknown, pad or end-of-text token to replace tokens with");
  const pad = paddingToken(tok.special, model.config.padTokenId);
  const ids = Array.from(sample.ids);
  // a decoder's explained position carries the prediction: it is never perturbed
  const keep =
    model.capabilities.explainedPosition === "last" ? model.explainedPositions(sample)[0] : undefined;
  const unique = new Map<string, number[]>();
  for (const R of relevances)
    for (const input of [...generateInputs(ids, R, unk, pad, keep), ...pruningInputs(ids, R, unk, pad, keep)])
      unique.set(input.join(","), input);
  const inputs = [...unique.values()];
  const logits = perturbedLogits(model, sample, inputs);
  const table = new Map(inputs.map((input, i) => [input.join(","), logits[i]!]));
  return {
    rows: inputs.length,
    model: {
      unkId: unk,
      padId: pad,
      ...(keep !== undefined ? { keep } : {}),
      predictBatch: (batch) =>
        batch.map((input) => {
          const y = table.get(input.join(","));
          if (!y) throw new XaitError("perturbation: an input was not among the sample's perturbed inputs");
          return y;
        }),
    },
  };
}

/** Per-sample areas of every method's curves, bootstrapped (AUAC and AUPC higher, AU-MSE lower is better). */
function perturbationBootstrap(
  curves: ReadonlyMap<string, readonly PerturbationCurves[]>,
  seed: number,
): PerturbationBootstrap {
  const areas = (pick: (c: PerturbationCurves) => number[]) =>
    Object.fromEntries([...curves].map(([id, list]) => [id, list.map((c) => trapezoid(pick(c), FRACTIONS))]));
  return bootstrapMetrics(
    {
      AUAC: { perText: areas((c) => c.generate), higherIsBetter: true },
      AUPC: { perText: areas((c) => c.pruning), higherIsBetter: true },
      "AU-MSE": { perText: areas((c) => c.mse), higherIsBetter: false },
    },
    seed,
  );
}

/** One sample's part of the evaluation: every method's curves and what it cost. */
export interface PerturbationSampleResult {
  curves: Record<string, PerturbationCurves>;
  /** Explanation time per method, ms. */
  ms: Record<string, number>;
  /** Time of the forward passes over the perturbed inputs, ms. */
  forward_ms: number;
  /** Distinct perturbed inputs run through the model. */
  inputs: number;
}

/** Both protocols for one explained sample, every method's relevance at once (see `sampleModel`). */
export function perturbationSample(
  model: TransformerModel,
  methodIds: readonly string[],
  sample: ExplainedSample,
  target: number,
): PerturbationSampleResult {
  const relevances = sample.outputs.map((o) => o.attributions);
  const t0 = performance.now();
  const pm = sampleModel(model, sample.batch, relevances);
  const forward_ms = performance.now() - t0;
  const ids = Array.from(sample.batch.ids);
  const curves: Record<string, PerturbationCurves> = {};
  const ms: Record<string, number> = {};
  methodIds.forEach((id, m) => {
    curves[id] = perturbationCurves(pm.model, ids, relevances[m]!, target);
    ms[id] = sample.ms[m]!;
  });
  return { curves, ms, forward_ms, inputs: pm.rows };
}

/**
 * The evaluation's result from every sample's part, in sample order: curves averaged over samples,
 * then integrated; the bootstrap over samples; timing summed. `wallMs` is the run's wall time.
 */
export function perturbationResult(
  methodIds: readonly string[],
  samples: readonly PerturbationSampleResult[],
  seed: number,
  wallMs: number,
): PerturbationResult {
  if (samples.length === 0) throw new XaitError("perturbation: no samples to evaluate");
  const n = samples.length;
  const curves = new Map<string, PerturbationCurves[]>(
    methodIds.map((id) => [id, samples.map((s) => s.curves[id]!)]),
  );
  const timing: Record<string, MethodTiming> = {};
  for (const id of methodIds) {
    const ms = samples.reduce((a, s) => a + s.ms[id]!, 0);
    timing[id] = { total_s: ms / 1000, per_sample_ms: ms / n };
  }
  const result: PerturbationResult = {
    n,
    methods: [...methodIds],
    metrics: {},
    curves: {},
    timing,
    bootstrap: perturbationBootstrap(curves, seed),
    seed,
    total_s: wallMs / 1000,
    forward_s: samples.reduce((a, s) => a + s.forward_ms, 0) / 1000,
    perturbedInputs: samples.reduce((a, s) => a + s.inputs, 0),
  };
  for (const id of methodIds) {
    const s = aggregate(curves.get(id)!);
    result.metrics[id] = { AUAC: s.AUAC, AUPC: s.AUPC, "AU-MSE": s["AU-MSE"] };
    result.curves[id] = s.curves;
  }
  return result;
}

/** The input of a labelled text, for the sample loop. */
export function labelledInput(sample: LabelledText): ExplainInput {
  return sample.pair === undefined ? sample.text : [sample.text, sample.pair];
}

/** Runs the perturbation evaluation of `methods` (ids) on `samples`, explaining each sample's label. */
export function evaluatePerturbation(
  model: TransformerModel,
  samples: readonly LabelledText[],
  methodIds: readonly string[],
  opts: PerturbationOptions,
): PerturbationResult {
  if (samples.length === 0) throw new XaitError("perturbation: no samples to evaluate");
  if (methodIds.length === 0) throw new XaitError("perturbation: no methods to evaluate");
  checkLabels(model, samples);
  methodIds.forEach(getMethod);
  const start = performance.now();
  const parts: PerturbationSampleResult[] = [];
  const loop = explainSamples(
    model,
    samples.map((s, index) => ({ index, input: labelledInput(s), target: s.label })),
    methodIds,
    () => true,
    {
      gamma: opts.gamma ?? 0,
      steps: opts.steps ?? 50,
      seedOf: (i) => sampleSeed(opts.seed, i),
      block: opts.block ?? DEFAULT_BLOCK,
      warn: opts.warn,
    },
  );
  for (const explained of loop) {
    parts.push(perturbationSample(model, methodIds, explained, samples[explained.index]!.label));
    opts.onProgress?.(parts.length, samples.length);
  }
  return perturbationResult(methodIds, parts, opts.seed, performance.now() - start);
}
