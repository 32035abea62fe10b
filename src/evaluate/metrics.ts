/**
 * Small numeric metrics for the evaluation protocols: areas under curves, correlation, ranking
 * agreement with ground-truth rationales, and classification accuracy.
 */
import { XaitError } from "../errors.js";

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new XaitError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/**
 * Trapezoid rule ∫ y dx. `xs` defaults to evenly spaced points from 0 to 1 (so the area of a
 * curve sampled at the fractions 0, 0.1, …, 1 is its mean height, ends weighted ½). Fewer than two
 * points have area 0.
 */
export function trapezoid(ys: readonly number[], xs?: readonly number[]): number {
  const n = ys.length;
  if (xs) sameLength(ys, xs, "trapezoid");
  if (n < 2) return 0;
  let area = 0;
  for (let i = 1; i < n; i++) {
    const dx = xs ? xs[i] - xs[i - 1] : 1 / (n - 1);
    area += (dx * (ys[i] + ys[i - 1])) / 2;
  }
  return area;
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Pearson's correlation coefficient; NaN when either series is constant or empty. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, "pearson");
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Least-squares slope of y on x: cov(x, y) / var(x); NaN when x is constant. */
export function slope(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, "slope");
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/** mean |a_i − b_i| (e.g. between Σ_t R_t and the logit, over samples). */
export function meanAbsDiff(a: readonly number[], b: readonly number[]): number {
  sameLength(a, b, "meanAbsDiff");
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** A ground-truth mask: truthy = in the rationale. */
export type BinaryLabels = readonly (boolean | number)[];

/**
 * Area under the precision-recall curve as average precision, the step-wise sum of
 * scikit-learn's `average_precision_score`: AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct score
 * thresholds in decreasing order (tied scores enter together), with R_0 = 0. No interpolation:
 * the trapezoid rule over PR points is optimistic, the step sum is not. NaN when there are no
 * positive labels (the curve is undefined; skip such samples).
 */
export function auprc(scores: readonly number[], labels: BinaryLabels): number {
  sameLength(scores, labels, "auprc");
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (const l of labels) if (l) positives++;
  if (positives === 0) return NaN;
  let ap = 0;
  let tp = 0;
  let seen = 0;
  let lastRecall = 0;
  for (let i = 0; i < order.length; i++) {
    const k = order[i];
    seen++;
    if (labels[k]) tp++;
    if (i + 1 < order.length && scores[order[i + 1]] === scores[k]) continue;
    const recall = tp / positives;
    ap += (recall - lastRecall) * (tp / seen);
    lastRecall = recall;
  }
  return ap;
}

/**
 * F1 of the top-k scored positions as a predicted rationale against the ground-truth mask: ties
 * are broken by lower position first; k is clamped to [0, n]. 0 when nothing is hit.
 */
export function topKF1(scores: readonly number[], labels: BinaryLabels, k: number): number {
  sameLength(scores, labels, "topKF1");
  const kk = Math.max(0, Math.min(scores.length, Math.floor(k)));
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  let hits = 0;
  for (let i = 0; i < kk; i++) if (labels[order[i]]) hits++;
  let positives = 0;
  for (const l of labels) if (l) positives++;
  if (hits === 0) return 0;
  const precision = hits / kk;
  const recall = hits / positives;
  return (2 * precision * recall) / (precision + recall);
}

/** Fraction of predictions equal to the gold class. */
export function accuracy(pred: readonly number[], gold: readonly number[]): number {
  sameLength(pred, gold, "accuracy");
  let right = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === gold[i]) right++;
  return right / pred.length;
}

export interface ClassScores {
  /** Per class, index = class id. Precision of a never-predicted class and recall of an absent class are 0. */
  precision: number[];
  recall: number[];
  f1: number[];
  /** Number of gold examples of each class. */
  support: number[];
  /** Unweighted mean of the per-class F1. */
  macroF1: number;
  /** confusion[gold][pred] counts. */
  confusion: number[][];
}

/** Per-class precision, recall and F1 (zero where undefined, as scikit-learn's zero_division=0). */
export function precisionRecall(
  pred: readonly number[],
  gold: readonly number[],
  numClasses: number,
): ClassScores {
  sameLength(pred, gold, "precisionRecall");
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < pred.length; i++) {
    if (!(gold[i] >= 0 && gold[i] < numClasses && pred[i] >= 0 && pred[i] < numClasses)) {
      throw new XaitError(`precisionRecall: class id out of range 0..${numClasses - 1} at example ${i}`);
    }
    confusion[gold[i]][pred[i]]++;
  }
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    for (let g = 0; g < numClasses; g++) predicted += confusion[g][c];
    const actual = confusion[c].reduce((s, v) => s + v, 0);
    const p = predicted === 0 ? 0 : tp / predicted;
    const r = actual === 0 ? 0 : tp / actual;
    precision.push(p);
    recall.push(r);
    f1.push(p + r === 0 ? 0 : (2 * p * r) / (p + r));
    support.push(actual);
  }
  return { precision, recall, f1, support, macroF1: numClasses ? mean(f1) : NaN, confusion };
}
