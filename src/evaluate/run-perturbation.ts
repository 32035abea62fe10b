/**
 * The paper's input-perturbation evaluation over a labelled set (SPEC §4): for every sample and
 * method, explain the TRUE class, run both protocols (`perturbationCurves`: generate and pruning,
 * the perturbed inputs of a sample — 22 per method, all methods together, duplicates once — in one
 * forward pass), then average the curves over samples and integrate (AUAC, AUPC, AU-MSE).
 * Explanation time is measured per method: explainer cost is a result too. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { paddingToken, replacementToken } from "../tokenize/index.js";
import { encodeInput, getMethod, type Method, type MethodOptions } from "../explain/index.js";
import type { Batch, TransformerModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { checkLabels, type LabelledText } from "./labels.js";
import { FRACTIONS, STEPS } from "./fractions.js";
import { bootstrapMetrics, type BootstrapResult } from "./bootstrap.js";
import { trapezoid } from "./metrics.js";
import { MethodClock, type MethodTiming } from "./timing.js";
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
  const unique = new Map<string, number[]>();
  for (const R of relevances)
    for (const input of [...generateInputs(ids, R, unk, pad), ...pruningInputs(ids, R, unk, pad)])
      unique.set(input.join(","), input);
  const inputs = [...unique.values()];
  const logits = perturbedLogits(model, sample, inputs);
  const table = new Map(inputs.map((input, i) => [input.join(","), logits[i]!]));
  return {
    rows: inputs.length,
    model: {
      unkId: unk,
      padId: pad,
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
  const methods: Method[] = methodIds.map(getMethod);
  const curves = new Map<string, PerturbationCurves[]>(methods.map((m) => [m.id, []]));
  const clock = new MethodClock(methodIds);
  let forwardMs = 0;
  let perturbedRows = 0;
  const start = performance.now();
  samples.forEach((sample, i) => {
    const input = sample.pair === undefined ? sample.text : ([sample.text, sample.pair] as [string, string]);
    const { batch } = encodeInput(model, input, opts.warn);
    const ids = Array.from(batch.ids);
    const options: MethodOptions = {
      gamma: opts.gamma ?? 0,
      steps: opts.steps ?? 50,
      seed: sampleSeed(opts.seed, i),
    };
    const relevances = methods.map(
      (method) =>
        clock.time(method.id, () => method.run({ model, batch, target: sample.label, options })).attributions,
    );
    const t0 = performance.now();
    const pm = sampleModel(model, batch, relevances);
    forwardMs += performance.now() - t0;
    perturbedRows += pm.rows;
    methods.forEach((method, m) =>
      curves.get(method.id)!.push(perturbationCurves(pm.model, ids, relevances[m]!, sample.label)),
    );
    opts.onProgress?.(i + 1, samples.length);
  });
  const n = samples.length;
  const result: PerturbationResult = {
    n,
    methods: methods.map((m) => m.id),
    metrics: {},
    curves: {},
    timing: clock.result(n),
    bootstrap: perturbationBootstrap(curves, opts.seed),
    seed: opts.seed,
    total_s: (performance.now() - start) / 1000,
    forward_s: forwardMs / 1000,
    perturbedInputs: perturbedRows,
  };
  for (const m of methods) {
    const s = aggregate(curves.get(m.id)!);
    result.metrics[m.id] = { AUAC: s.AUAC, AUPC: s.AUPC, "AU-MSE": s["AU-MSE"] };
    result.curves[m.id] = s.curves;
  }
  return result;
}
