/**
 * Agreement of relevance with human rationales (ground truth, as in Ali et al. 2022): for each text, every
 * method's token scores are summed to words (word pieces → words), then compared with the word
 * mask of the human rationale by AUPRC (average precision of the ranking) and by the F1 of the
 * top-k words, k = the rationale's length in words. The explained class is the labelled one and
 * the scores are used signed (evidence for that class ranks first). Texts whose rationale is empty
 * are skipped and counted. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { getMethod } from "../explain/index.js";
import type { TransformerModel } from "../models/index.js";
import { bootstrapMetrics, type BootstrapResult } from "./bootstrap.js";
import { auprc, mean, topKF1 } from "./metrics.js";
import { alignWordsToTokens, sumToWords } from "./rationale-data.js";
import { sampleSeed } from "./run-perturbation.js";
import type { MethodTiming } from "./timing.js";
import { DEFAULT_BLOCK, explainSamples, type ExplainedSample } from "./sample-loop.js";

/** A text with a word-level human rationale and the class to explain. */
export interface RationaleSample {
  text: string;
  /** The text's words as the rationale counts them. */
  words: string[];
  /** true = the word is in the rationale. */
  mask: boolean[];
  /** The class to explain (model class id). */
  target: number;
}

export interface RationaleMetrics {
  /** Mean over evaluated texts of the word-level AUPRC. */
  auprc: number;
  /** Mean over evaluated texts of the top-k word F1. */
  f1: number;
}

export interface RationaleResult {
  /** Texts evaluated. */
  n: number;
  /** Texts skipped for an empty rationale. */
  skipped: number;
  methods: string[];
  metrics: Record<string, RationaleMetrics>;
  /** Explanation time per method (texts with an empty rationale are not explained). */
  timing: Record<string, MethodTiming>;
  /** The bootstrap over texts (see bootstrap.ts; both metrics higher is better), seeded by `seed`. */
  bootstrap: BootstrapResult<keyof RationaleMetrics>;
}

export interface RationaleOptions {
  /** Seed of the `random` baseline; text i gets its own seed derived from (seed, i). */
  seed?: number;
  gamma?: number;
  steps?: number;
  /** Samples whose rule-set explanations share passes (see sample-loop.ts; default 8). */
  block?: number;
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

/** Word-level scores of one text: token attributions summed over the word pieces of each word. */
export function wordScores(
  words: readonly string[],
  tokens: readonly string[],
  attributions: readonly number[],
): number[] {
  return sumToWords(attributions, alignWordsToTokens(words, tokens), words.length);
}

/** AUPRC and top-k F1 (k = number of rationale words) of word scores against a rationale mask. */
export function rationaleAgreement(scores: readonly number[], mask: readonly boolean[]): RationaleMetrics {
  const k = mask.filter(Boolean).length;
  return { auprc: auprc(scores, mask), f1: topKF1(scores, mask, k) };
}

/** One text's part: skipped for an empty rationale, or every method's agreement and explanation time (ms). */
export type RationaleSampleResult =
  | { skipped: true }
  | { skipped: false; agreement: Record<string, RationaleMetrics>; ms: Record<string, number> };

/** Checks the texts (words and mask agree, the class is the model's) before any is explained. */
export function checkRationaleSamples(model: TransformerModel, samples: readonly RationaleSample[]): void {
  samples.forEach((s, i) => {
    if (s.words.length !== s.mask.length)
      throw new XaitError(
        `rationale: text ${i + 1} has ${s.words.length} words but ${s.mask.length} mask entries`,
      );
    if (!Number.isInteger(s.target) || s.target < 0 || s.target >= model.numLabels)
      throw new XaitError(
        `rationale: text ${i + 1}: class ${s.target} is not one of the model's ${model.numLabels} classes`,
      );
  });
}

/** Whether a text is explained: its rationale has at least one word. */
export function hasRationale(s: RationaleSample): boolean {
  return s.mask.some(Boolean);
}

/** The agreement of every method's word scores with one text's rationale. */
export function rationaleSample(
  methodIds: readonly string[],
  sample: RationaleSample,
  explained: ExplainedSample,
): RationaleSampleResult {
  const agreement: Record<string, RationaleMetrics> = {};
  const ms: Record<string, number> = {};
  methodIds.forEach((id, m) => {
    agreement[id] = rationaleAgreement(
      wordScores(sample.words, explained.tokens, explained.outputs[m]!.attributions),
      sample.mask,
    );
    ms[id] = explained.ms[m]!;
  });
  return { skipped: false, agreement, ms };
}

/** Means, bootstrap and timing from every text's part, in text order. */
export function rationaleResult(
  methodIds: readonly string[],
  parts: readonly RationaleSampleResult[],
  seed: number,
): RationaleResult {
  const done = parts.filter((p) => !p.skipped);
  const skipped = parts.length - done.length;
  const n = done.length;
  if (n === 0)
    throw new XaitError(`rationale: all ${parts.length} texts have an empty rationale; nothing to evaluate`);
  const metrics: Record<string, RationaleMetrics> = {};
  const timing: Record<string, MethodTiming> = {};
  for (const id of methodIds) {
    metrics[id] = {
      auprc: mean(done.map((p) => p.agreement[id]!.auprc)),
      f1: mean(done.map((p) => p.agreement[id]!.f1)),
    };
    const ms = done.reduce((a, p) => a + p.ms[id]!, 0);
    timing[id] = { total_s: ms / 1000, per_sample_ms: ms / n };
  }
  const perText = (key: keyof RationaleMetrics) =>
    Object.fromEntries(methodIds.map((id) => [id, done.map((p) => p.agreement[id]![key])]));
  return {
    n,
    skipped,
    methods: [...methodIds],
    metrics,
    timing,
    bootstrap: bootstrapMetrics(
      {
        auprc: { perText: perText("auprc"), higherIsBetter: true },
        f1: { perText: perText("f1"), higherIsBetter: true },
      },
      seed,
    ),
  };
}

export function evaluateRationale(
  model: TransformerModel,
  samples: readonly RationaleSample[],
  methodIds: readonly string[],
  opts: RationaleOptions = {},
): RationaleResult {
  if (methodIds.length === 0) throw new XaitError("rationale: no methods to evaluate");
  methodIds.forEach(getMethod);
  checkRationaleSamples(model, samples);
  const parts: RationaleSampleResult[] = samples.map(() => ({ skipped: true }));
  const loop = explainSamples(
    model,
    samples.flatMap((s, index) => (hasRationale(s) ? [{ index, input: s.text, target: s.target }] : [])),
    methodIds,
    () => true,
    {
      gamma: opts.gamma ?? 0,
      steps: opts.steps ?? 50,
      seedOf: (i) => sampleSeed(opts.seed ?? 0, i),
      block: opts.block ?? DEFAULT_BLOCK,
      warn: opts.warn,
    },
  );
  let done = 0;
  for (const explained of loop) {
    parts[explained.index] = rationaleSample(methodIds, samples[explained.index]!, explained);
    opts.onProgress?.(++done, samples.length);
  }
  return rationaleResult(methodIds, parts, opts.seed ?? 0);
}
