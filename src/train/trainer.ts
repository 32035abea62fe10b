/**
 * The training loop: AdamW with linear warmup and decay, dropout, cross-entropy on padded batches,
 * validation after every epoch (optionally of a moving average of the weights), the best epoch kept.
 * Deterministic for a seed (and thread count).
 */
import { XaitError } from "../errors.js";
import { paddingToken } from "../tokenize/index.js";
import { makeBatch, type TransformerModel } from "../models/index.js";
import { Random, crossEntropy } from "../tensor/index.js";
import { cropToShortest, epochBatches, type EncodedExample } from "./batches.js";
import { AdamW, linearSchedule } from "./optimizer.js";
import { WeightAverage } from "./average.js";

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Warmup: a fraction of all steps when < 1, else a number of steps. */
  warmup: number;
  weightDecay: number;
  dropout: number;
  seed: number;
  /** Maximum global gradient norm (default 1). */
  clipNorm?: number;
  /** Tensors kept as they are (e.g. pretrained word embeddings, as the paper keeps BERT's frozen). */
  frozen?: readonly string[];
  /**
   * Mask-free models only: batch texts of similar length (as for padded models) and shorten each
   * batch to its shortest text, keeping the final [SEP], instead of batching only equal lengths.
   */
  cropBatches?: boolean;
  /**
   * Keep an exponential moving average of the weights with this decay per step; each epoch then
   * evaluates (and the best epoch keeps) the averaged weights instead of the last step's.
   */
  averageDecay?: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  /** Accuracy of the weights the epoch offers as its checkpoint (the averaged ones with averageDecay). */
  validationAccuracy: number;
  /** With averageDecay: accuracy of the last step's weights, for comparison. */
  lastStepValidationAccuracy?: number;
  seconds: number;
}

export interface TrainHooks {
  /** Accuracy of the model on the validation examples. */
  evaluate(model: TransformerModel): number;
  /**
   * After each epoch, with the epoch's checkpoint weights in the model (the averaged ones with
   * averageDecay); `best` is true when this epoch has the best validation accuracy so far.
   */
  onEpoch?(record: EpochRecord, best: boolean): void;
  onStep?(step: number, total: number, loss: number, examplesPerSecond: number): void;
  /**
   * Polled between steps, after pending events (such as a signal handler) have had their turn;
   * returning true stops training after the current step.
   */
  shouldStop?(): boolean;
}

export interface TrainResult {
  epochs: EpochRecord[];
  bestEpoch: number;
  bestAccuracy: number;
  stopped: boolean;
  steps: number;
}

/** Weight decay applies to weight matrices, not to biases or LayerNorm parameters. */
function decays(name: string): boolean {
  return !name.endsWith(".bias") && !/LayerNorm|layer_norm/.test(name);
}

/** Lets the event loop run what is pending (a signal handler, for one) before training goes on. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Train `model` in place. Asynchronous only so that events can be handled between steps (when
 * `hooks.shouldStop` is given); the steps themselves run synchronously.
 */
export async function train(
  model: TransformerModel,
  data: readonly EncodedExample[],
  opts: TrainOptions,
  hooks: TrainHooks,
): Promise<TrainResult> {
  if (data.length === 0) throw new XaitError("no training examples");
  const named = model.trainableParameters().filter(([name]) => !opts.frozen?.includes(name));
  const params = named.map(([, t]) => t.requireGrad());
  const optimizer = new AdamW(
    params,
    named.map(([n]) => decays(n)),
    { weightDecay: opts.weightDecay },
  );
  const average = opts.averageDecay === undefined ? null : new WeightAverage(params, opts.averageDecay);
  const rng = new Random(opts.seed);
  const dropoutRng = new Random(opts.seed ^ 0x9e3779b9);
  const maskFree = !model.capabilities.masksPadding;
  const crop = maskFree && opts.cropBatches === true;
  const exact = maskFree && !crop;
  const pad = model.tokenizer
    ? paddingToken(model.tokenizer.special, model.config.padTokenId)
    : model.config.padTokenId;
  const stepsPerEpoch = epochBatches(data, opts.batchSize, new Random(opts.seed), exact).length;
  const total = stepsPerEpoch * opts.epochs;
  const warmup = opts.warmup < 1 ? Math.round(opts.warmup * total) : Math.round(opts.warmup);
  const epochs: EpochRecord[] = [];
  let best = -1;
  let bestEpoch = 0;
  let step = 0;
  let stopped = false;
  try {
    for (let epoch = 1; epoch <= opts.epochs && !stopped; epoch++) {
      const start = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (const idx of epochBatches(data, opts.batchSize, rng, exact)) {
        const examples = idx.map((i) => data[i]!);
        const batch = makeBatch(crop ? cropToShortest(examples) : examples, pad);
        const labels = idx.map((i) => data[i]!.label);
        const logits = model.forward(batch, { train: { dropout: opts.dropout, rng: dropoutRng } });
        const loss = crossEntropy(logits, labels);
        loss.backward();
        optimizer.clipGradients(opts.clipNorm ?? 1);
        optimizer.update(linearSchedule(step, total, warmup, opts.lr));
        average?.update();
        step++;
        const C = model.numLabels;
        for (let r = 0; r < idx.length; r++) {
          let arg = 0;
          for (let c = 1; c < C; c++) if (logits.data[r * C + c]! > logits.data[r * C + arg]!) arg = c;
          if (arg === labels[r]) correct++;
        }
        lossSum += loss.item() * idx.length;
        seen += idx.length;
        hooks.onStep?.(step, total, lossSum / seen, seen / ((performance.now() - start) / 1000));
        if (hooks.shouldStop) {
          await yieldToEvents();
          if (hooks.shouldStop()) {
            stopped = true;
            break;
          }
        }
      }
      if (stopped) break;
      for (const p of params) p.requiresGrad = false;
      const lastStep = average ? hooks.evaluate(model) : undefined;
      average?.swap();
      try {
        const validationAccuracy = hooks.evaluate(model);
        const record: EpochRecord = {
          epoch,
          loss: lossSum / seen,
          trainAccuracy: correct / seen,
          validationAccuracy,
          ...(lastStep === undefined ? {} : { lastStepValidationAccuracy: lastStep }),
          seconds: (performance.now() - start) / 1000,
        };
        epochs.push(record);
        const isBest = validationAccuracy > best;
        if (isBest) {
          best = validationAccuracy;
          bestEpoch = epoch;
        }
        hooks.onEpoch?.(record, isBest);
      } finally {
        average?.swap();
      }
      for (const p of params) p.requiresGrad = true;
    }
  } finally {
    for (const p of params) {
      p.requiresGrad = false;
      p.grad = null;
    }
  }
  return { epochs, bestEpoch, bestAccuracy: best, stopped, steps: step };
}
