/**
 * Bootstrap over texts, for metrics that are means over texts: the perturbation areas (the trapezoid
 * of the mean curve equals the mean of the per-text trapezoids) and the rationale AUPRC and F1.
 *
 * Texts are resampled with replacement, the same resampled texts for every method (paired), and
 * for each resample every method's mean is taken. From these: a percentile interval of each
 * method's mean, and a percentile interval of each method's difference to the best method. A
 * method whose difference interval contains 0 cannot be told apart from the best on these texts.
 * Deterministic for a seed. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { Random } from "../tensor/random.js";
import { mean } from "./metrics.js";

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_LEVEL = 0.95;

export interface BootstrapOptions {
  /** Seed of the resampling [0]. */
  seed?: number;
  /** Number of resamples [2000]. */
  resamples?: number;
  /** Coverage of the intervals [0.95]. */
  level?: number;
}

export interface MetricComparison {
  /** Per method: the percentile interval [low, high] of its mean over texts. */
  interval: Record<string, [number, number]>;
  /** The method with the best mean (the first one listed on an exact tie). */
  best: string;
  /**
   * Per method other than the best: the percentile interval of (method − best), paired over the
   * same resampled texts.
   */
  differenceToBest: Record<string, [number, number]>;
  /** Methods whose difference interval contains 0, in the order given. */
  tied: string[];
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted values, linear between order statistics. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new XaitError("quantile of no values");
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

function percentileInterval(values: Float64Array, level: number): [number, number] {
  const sorted = values.slice().sort();
  const tail = (1 - level) / 2;
  return [quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail)];
}

/**
 * Compares methods on one metric from their per-text values (`perText[method][text]`, every method
 * over the same texts in the same order).
 */
export function compareMethods(
  perText: Readonly<Record<string, readonly number[]>>,
  higherIsBetter: boolean,
  opts: BootstrapOptions = {},
): MetricComparison {
  const methods = Object.keys(perText);
  if (methods.length === 0) throw new XaitError("bootstrap: no methods to compare");
  const n = perText[methods[0]!]!.length;
  if (n === 0) throw new XaitError("bootstrap: no texts");
  for (const m of methods)
    if (perText[m]!.length !== n)
      throw new XaitError(`bootstrap: ${m} has ${perText[m]!.length} values, ${methods[0]} has ${n}`);
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? BOOTSTRAP_LEVEL;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new XaitError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new XaitError(`bootstrap: level must be in (0, 1), got ${level}`);

  const sign = higherIsBetter ? 1 : -1;
  const score = methods.map((m) => sign * mean(perText[m]!));
  let bestIndex = 0;
  score.forEach((v, k) => {
    if (v > score[bestIndex]!) bestIndex = k;
  });
  const best = methods[bestIndex]!;

  const means = methods.map(() => new Float64Array(resamples));
  const values = methods.map((m) => perText[m]!);
  const rng = new Random(opts.seed ?? 0);
  const picks = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) picks[i] = Math.floor(rng.next() * n);
    values.forEach((v, k) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += v[picks[i]!]!;
      means[k]![b] = sum / n;
    });
  }

  const bestMeans = means[bestIndex]!;
  const interval: Record<string, [number, number]> = {};
  const differenceToBest: Record<string, [number, number]> = {};
  const tied: string[] = [];
  methods.forEach((m, k) => {
    interval[m] = percentileInterval(means[k]!, level);
    if (m === best) return;
    const diff = means[k]!.map((x, b) => x - bestMeans[b]!);
    const d = percentileInterval(diff, level);
    differenceToBest[m] = d;
    if (d[0] <= 0 && d[1] >= 0) tied.push(m);
  });
  return { interval, best, differenceToBest, tied };
}

/** Several metrics compared over the same texts, with the resampling they used. */
export interface BootstrapResult<K extends string> {
  resamples: number;
  level: number;
  metrics: Record<K, MetricComparison>;
}

/**
 * `compareMethods` for every metric of a report, with the default resamples and level; every metric
 * starts its resampling from the same seed, so all use the same resampled texts.
 */
export function bootstrapMetrics<K extends string>(
  metrics: Record<K, { perText: Record<string, readonly number[]>; higherIsBetter: boolean }>,
  seed: number,
): BootstrapResult<K> {
  const options = { seed, resamples: BOOTSTRAP_RESAMPLES, level: BOOTSTRAP_LEVEL };
  const out = {} as Record<K, MetricComparison>;
  for (const key of Object.keys(metrics) as K[])
    out[key] = compareMethods(metrics[key].perText, metrics[key].higherIsBetter, options);
  return { resamples: BOOTSTRAP_RESAMPLES, level: BOOTSTRAP_LEVEL, metrics: out };
}
