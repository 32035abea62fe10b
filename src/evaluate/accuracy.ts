/**
 * Classification accuracy of a model on labelled texts, with per-class precision, recall and F1.
 * `predictAll` is the batched inference the training loop reuses for its validation passes.
 *
 * Batching: BERT-family models mask padding, so texts are sorted by length and padded in batches;
 * the paper's xai-transformer has no attention mask (padding would change its outputs), so only
 * texts of equal length share a batch. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { paddingToken } from "../tokenize/index.js";
import { encodeInput } from "../explain/index.js";
import { makeBatch, type Sequence, type TransformerModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { accuracy, precisionRecall } from "./metrics.js";
import { checkLabels, type LabelledText } from "./labels.js";

export interface PredictOptions {
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /** Called after every batch with the number of texts predicted so far. */
  onProgress?: (done: number, total: number) => void;
  /** Receives warnings (one per truncated text). */
  warn?: (message: string) => void;
}

/** Token ids of every text as the model's tokenizer encodes it (truncated to the model's maximum). */
export function encodeAll(
  model: TransformerModel,
  examples: readonly { text: string; pair?: string }[],
  warn?: (message: string) => void,
): Sequence[] {
  return examples.map((e) => {
    const { batch } = encodeInput(model, e.pair === undefined ? e.text : [e.text, e.pair], warn);
    return { ids: Array.from(batch.ids), typeIds: Array.from(batch.typeIds) };
  });
}

/**
 * Groups text indices into batches of at most `size`: by ascending length (ties in input order);
 * with `equalLength`, a batch never mixes lengths.
 */
export function lengthBatches(lengths: readonly number[], size: number, equalLength: boolean): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    const full = current.length >= size;
    const newLength = equalLength && current.length > 0 && lengths[current[0]!] !== lengths[i];
    if (full || newLength) {
      batches.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Logits of every sequence, batched as described above; rows in input order. */
export function logitsAll(
  model: TransformerModel,
  seqs: readonly Sequence[],
  opts: PredictOptions = {},
): number[][] {
  const size = opts.batchSize ?? 32;
  if (!Number.isInteger(size) || size < 1)
    throw new XaitError(`batch size must be a positive integer, got ${size}`);
  const pad = paddingToken(model.tokenizer?.special ?? {}, model.config.padTokenId);
  const equalLength = !model.capabilities.masksPadding;
  const out: number[][] = new Array(seqs.length);
  const C = model.numLabels;
  let done = 0;
  for (const group of lengthBatches(
    seqs.map((s) => s.ids.length),
    size,
    equalLength,
  )) {
    const logits = noGrad(() =>
      model.forward(
        makeBatch(
          group.map((i) => seqs[i]!),
          pad,
        ),
      ),
    ).data;
    group.forEach((i, r) => (out[i] = Array.from(logits.subarray(r * C, (r + 1) * C))));
    done += group.length;
    opts.onProgress?.(done, seqs.length);
  }
  return out;
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/** The predicted class of every text (argmax of the logits), in input order. */
export function predictAll(
  model: TransformerModel,
  examples: readonly { text: string; pair?: string }[],
  opts: PredictOptions = {},
): number[] {
  return logitsAll(model, encodeAll(model, examples, opts.warn), opts).map(argmax);
}

export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Gold examples of this class. */
  support: number;
}

export interface AccuracyResult {
  n: number;
  accuracy: number;
  macroF1: number;
  /** One entry per model class, in class-id order. */
  classes: ClassReport[];
  /** confusion[gold][predicted]. */
  confusion: number[][];
  predictions: number[];
}

/** Accuracy and per-class precision/recall/F1 from predicted and gold class ids (in text order). */
export function accuracyResult(
  labels: readonly string[],
  predictions: readonly number[],
  gold: readonly number[],
): AccuracyResult {
  if (predictions.length === 0) throw new XaitError("accuracy: no examples to evaluate");
  const pr = precisionRecall(predictions, gold, labels.length);
  return {
    n: predictions.length,
    accuracy: accuracy(predictions, gold),
    macroF1: pr.macroF1,
    classes: labels.map((label, c) => ({
      label,
      precision: pr.precision[c]!,
      recall: pr.recall[c]!,
      f1: pr.f1[c]!,
      support: pr.support[c]!,
    })),
    confusion: pr.confusion,
    predictions: [...predictions],
  };
}

/** Accuracy and per-class precision/recall/F1 of the model on labelled texts. */
export function evaluateAccuracy(
  model: TransformerModel,
  samples: readonly LabelledText[],
  opts: PredictOptions = {},
): AccuracyResult {
  if (samples.length === 0) throw new XaitError("accuracy: no examples to evaluate");
  checkLabels(model, samples);
  const predictions = predictAll(model, samples, opts);
  return accuracyResult(
    model.config.labels,
    predictions,
    samples.map((s) => s.label),
  );
}
