/**
 * The paper's input-perturbation protocols of Ali et al. (2022), independent of any model: given token ids, a
 * relevance per position and the true class, build the perturbed inputs, ask the model for their
 * logits, and read off the curves; `aggregate` averages curves over samples and integrates them.
 *
 * - generate (activation): start from all-[UNK] (pads kept as pads) and put back the n tokens with
 *   the highest signed relevance; curve = softmax probability of the true class → AUAC (higher is
 *   better).
 * - pruning: replace the n tokens with the smallest |relevance| by [UNK]; curves = true-class
 *   probability → AUPC (higher is better) and Σ_classes (y₀ − y)² on the logits, y₀ the logits of the
 *   unperturbed input → AU-MSE (lower is better).
 *
 * n = ⌈k·N/10⌉ at fraction k/10, N = the number of non-pad positions, [CLS]/[SEP] included (they
 * are perturbed like any token). Ties go to the lower position first in either protocol's order:
 * of two equal relevances the earlier token is put back first (generate) or replaced first
 * (pruning), so the ordering is total and the curves reproducible. A NaN relevance counts as the
 * least relevant. The `random` baseline needs nothing special here: its relevance is random.
 */
import { XaitError } from "../errors.js";
import { FRACTIONS, STEPS, tokensAt } from "./fractions.js";
import { trapezoid } from "./metrics.js";

export { FRACTIONS, tokensAt } from "./fractions.js";

/** What the protocol needs of a classifier: the special ids and batched logits. */
export interface PerturbationModel {
  unkId: number;
  padId: number;
  /**
   * A position never perturbed and not counted in N: a decoder's explained position (the last token,
   * which carries the prediction). Undefined for encoders, whose [CLS] is perturbed like any token.
   */
  keep?: number;
  /** Logits per input, one row per input (inputs have equal length; pads are marked by padId). */
  predictBatch(inputs: number[][]): number[][];
}

/** One sample's curves, one value per fraction in FRACTIONS. */
export interface PerturbationCurves {
  /** True-class softmax probability, generate protocol. */
  generate: number[];
  /** True-class softmax probability, pruning protocol. */
  pruning: number[];
  /** Σ_classes (y₀ − y)² on the logits, pruning protocol. */
  mse: number[];
}

export interface PerturbationSummary {
  /** The curves averaged over samples, per fraction. */
  curves: PerturbationCurves;
  /** Trapezoid areas over x = FRACTIONS of the mean curves. */
  AUAC: number;
  AUPC: number;
  "AU-MSE": number;
  samples: number;
}

function nonPadPositions(
  ids: readonly number[],
  relevance: readonly number[],
  padId: number,
  keep?: number,
): number[] {
  if (ids.length !== relevance.length) {
    throw new XaitError(`perturbation: ${ids.length} tokens but ${relevance.length} relevance scores`);
  }
  const positions: number[] = [];
  ids.forEach((id, i) => {
    if (id !== padId && i !== keep) positions.push(i);
  });
  return positions;
}

/**
 * Orders positions by a key (sign +1: descending, −1: ascending), ties by lower position first.
 * A NaN key counts as −∞.
 */
function orderBy(positions: number[], key: (i: number) => number, sign: 1 | -1): number[] {
  const k = (i: number) => {
    const v = key(i);
    return Number.isNaN(v) ? -Infinity : v;
  };
  return positions.slice().sort((a, b) => sign * (k(b) - k(a)) || a - b);
}

/**
 * The 11 generate inputs: input k has the ⌈k·N/10⌉ positions of highest signed relevance restored
 * and every other non-pad position set to [UNK].
 */
export function generateInputs(
  ids: readonly number[],
  relevance: readonly number[],
  unkId: number,
  padId: number,
  keep?: number,
): number[][] {
  const positions = nonPadPositions(ids, relevance, padId, keep);
  const order = orderBy(positions, (i) => relevance[i], 1);
  const inputs: number[][] = [];
  for (let k = 0; k <= STEPS; k++) {
    const input = ids.map((id, i) => (id === padId || i === keep ? id : unkId));
    const n = tokensAt(k, positions.length);
    for (let j = 0; j < n; j++) input[order[j]] = ids[order[j]];
    inputs.push(input);
  }
  return inputs;
}

/**
 * The 11 pruning inputs: input k has the ⌈k·N/10⌉ non-pad positions of smallest |relevance|
 * replaced by [UNK] (input 0 is the unperturbed input).
 */
export function pruningInputs(
  ids: readonly number[],
  relevance: readonly number[],
  unkId: number,
  padId: number,
  keep?: number,
): number[][] {
  const positions = nonPadPositions(ids, relevance, padId, keep);
  const removal = orderBy(positions, (i) => Math.abs(relevance[i]), -1);
  const inputs: number[][] = [];
  for (let k = 0; k <= STEPS; k++) {
    const input = ids.slice();
    const n = tokensAt(k, positions.length);
    for (let j = 0; j < n; j++) input[removal[j]] = unkId;
    inputs.push(input);
  }
  return inputs;
}

/** Softmax probability of class `target` from logits, computed stably. */
export function softmaxAt(logits: readonly number[], target: number): number {
  const max = Math.max(...logits);
  let sum = 0;
  for (const z of logits) sum += Math.exp(z - max);
  return Math.exp(logits[target] - max) / sum;
}

/**
 * Both protocols for one sample, explaining class `target` (the true class): the 22 inputs go to
 * the model in one predictBatch call (generate's 11, then pruning's 11). y₀ is the logits of
 * pruning's input 0, the unperturbed input.
 */
export function perturbationCurves(
  model: PerturbationModel,
  ids: readonly number[],
  relevance: readonly number[],
  target: number,
): PerturbationCurves {
  const generate = generateInputs(ids, relevance, model.unkId, model.padId, model.keep);
  const pruning = pruningInputs(ids, relevance, model.unkId, model.padId, model.keep);
  const logits = model.predictBatch([...generate, ...pruning]);
  if (logits.length !== 2 * (STEPS + 1)) {
    throw new XaitError(
      `perturbation: the model returned ${logits.length} rows of logits for ${2 * (STEPS + 1)} inputs`,
    );
  }
  const classes = logits[0].length;
  if (!Number.isInteger(target) || target < 0 || target >= classes) {
    throw new XaitError(`perturbation: target class ${target} is not one of the model's ${classes} classes`);
  }
  const generateLogits = logits.slice(0, STEPS + 1);
  const pruningLogits = logits.slice(STEPS + 1);
  const y0 = pruningLogits[0];
  return {
    generate: generateLogits.map((y) => softmaxAt(y, target)),
    pruning: pruningLogits.map((y) => softmaxAt(y, target)),
    mse: pruningLogits.map((y) => y.reduce((s, v, c) => s + (y0[c] - v) ** 2, 0)),
  };
}

/** Averages the curves over samples first, then integrates each mean curve over x = FRACTIONS. */
export function aggregate(curvesPerSample: readonly PerturbationCurves[]): PerturbationSummary {
  const n = curvesPerSample.length;
  if (n === 0) throw new XaitError("perturbation: no samples to aggregate");
  const meanCurve = (pick: (c: PerturbationCurves) => number[]) =>
    FRACTIONS.map((_, k) => curvesPerSample.reduce((s, c) => s + pick(c)[k], 0) / n);
  const curves: PerturbationCurves = {
    generate: meanCurve((c) => c.generate),
    pruning: meanCurve((c) => c.pruning),
    mse: meanCurve((c) => c.mse),
  };
  return {
    curves,
    AUAC: trapezoid(curves.generate, FRACTIONS),
    AUPC: trapezoid(curves.pruning, FRACTIONS),
    "AU-MSE": trapezoid(curves.mse, FRACTIONS),
    samples: n,
  };
}
