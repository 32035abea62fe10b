/**
 * Agreement of relevance with human rationales (SPEC §4, ground truth): for each text, every
 * method's token scores are summed to words (word pieces → words), then compared with the word
 * mask of the human rationale by AUPRC (average precision of the ranking) and by the F1 of the
 * top-k words, k = the rationale's length in words. The explained class is the labelled one and
 * the scores are used signed (evidence for that class ranks first). Texts whose rationale is empty
 * are skipped and counted. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { encodeInput, getMethod, type MethodOptions } from "../explain/index.js";
import type { TransformerModel } from "../models/index.js";
import { bootstrapMetrics, type BootstrapResult } from "./bootstrap.js";
import { auprc, mean, topKF1 } from "./metrics.js";
import { alignWordsToTokens, sumToWords } from "./rationale-data.js";
import { sampleSeed } from "./run-perturbation.js";
import { MethodClock, type MethodTiming } from "./timing.js";

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

export function evaluateRationale(
  model: TransformerModel,
  samples: readonly RationaleSample[],
  methodIds: readonly string[],
  opts: RationaleOptions = {},
): RationaleResult {
  if (methodIds.length === 0) throw new XaitError("rationale: no methods to evaluate");
  const methods = methodIds.map(getMethod);
  const per = new Map<string, RationaleMetrics[]>(methods.map((m) => [m.id, []]));
  const clock = new MethodClock(methodIds);
  let skipped = 0;
  samples.forEach((s, i) => {
    if (s.words.length !== s.mask.length)
      throw new XaitError(
        `rationale: text ${i + 1} has ${s.words.length} words but ${s.mask.length} mask entries`,
      );
    if (!Number.isInteger(s.target) || s.target < 0 || s.target >= model.numLabels)
      throw new XaitError(
        `rationale: text ${i + 1}: class ${s.target} is not one of the model's ${model.numLabels} classes`,
      );
    if (!s.mask.some(Boolean)) {
      skipped++;
    } else {
      const { batch, tokens } = encodeInput(model, s.text, opts.warn);
      const options: MethodOptions = {
        gamma: opts.gamma ?? 0,
        steps: opts.steps ?? 50,
        seed: sampleSeed(opts.seed ?? 0, i),
      };
      for (const m of methods) {
        const { attributions } = clock.time(m.id, () => m.run({ model, batch, target: s.target, options }));
        per.get(m.id)!.push(rationaleAgreement(wordScores(s.words, tokens, attributions), s.mask));
      }
    }
    opts.onProgress?.(i + 1, samples.length);
  });
  const n = samples.length - skipped;
  if (n === 0)
    throw new XaitError(
      `rationale: all ${samples.length} texts have an empty rationale; nothing to evaluate`,
    );
  const metrics: Record<string, RationaleMetrics> = {};
  for (const m of methods) {
    const rows = per.get(m.id)!;
    metrics[m.id] = { auprc: mean(rows.map((r) => r.auprc)), f1: mean(rows.map((r) => r.f1)) };
  }
  const perText = (key: keyof RationaleMetrics) =>
    Object.fromEntries(methods.map((m) => [m.id, per.get(m.id)!.map((r) => r[key])]));
  return {
    n,
    skipped,
    methods: methods.map((m) => m.id),
    metrics,
    timing: clock.result(n),
    bootstrap: bootstrapMetrics(
      {
        auprc: { perText: perText("auprc"), higherIsBetter: true },
        f1: { perText: perText("f1"), higherIsBetter: true },
      },
      opts.seed ?? 0,
    ),
  };
}
