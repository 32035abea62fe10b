/**
 * The training loop: AdamW with linear warmup and decay, dropout, cross-entropy on padded batches,
 * validation after every epoch (optionally of a moving average of the weights), the best epoch kept.
 * Deterministic for a seed (and thread count).
 */
import { XaitError } from "../errors.js";
import { paddingToken } from "../tokenize/index.js";
import { makeBatch, type ForwardOptions, type TransformerModel } from "../models/index.js";
import { Random, crossEntropy, type Tensor } from "../tensor/index.js";
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

/** Dropout of one training forward pass. */
export type TrainingDropout = NonNullable<ForwardOptions["train"]>;

/** What the loop trains: the batches of an epoch and the loss of one batch. */
export interface TrainingTask<B> {
  /** The batches of one epoch, in training order, drawn with `rng`. */
  epochBatches(rng: Random): B[];
  /**
   * The loss of one batch (a scalar on the tape), the number of predictions it is the mean of (its
   * weight in the epoch's mean loss, and the unit of the step rate) and, for a classifier, how many
   * of them were right.
   */
  loss(
    model: TransformerModel,
    batch: B,
    train: TrainingDropout,
  ): { loss: Tensor; count: number; correct?: number };
}

/** One epoch of the loop: mean training loss, the validation measures of its checkpoint weights. */
export interface LoopEpoch<M> {
  epoch: number;
  /** Mean training loss over the epoch's predictions. */
  loss: number;
  /** Share of right training predictions (when the task counts them). */
  trainAccuracy?: number;
  /** The validation measures of the weights the epoch offers as its checkpoint (averaged with averageDecay). */
  validation: M;
  /** With averageDecay: the measures of the last step's weights, for comparison. */
  lastStep?: M;
  /** Training predictions per second over the epoch. */
  perSecond: number;
  seconds: number;
}

export interface LoopHooks<M> {
  /** Validation measures of the model. */
  evaluate(model: TransformerModel): M;
  /** The number that picks the best epoch (higher is better). */
  score(measures: M): number;
  /** After each epoch, with the epoch's checkpoint weights in the model; `best`: best score so far. */
  onEpoch?(record: LoopEpoch<M>, best: boolean): void;
  /** After each step: mean loss of the epoch so far and predictions per second. */
  onStep?(step: number, total: number, loss: number, perSecond: number): void;
  /** Polled between steps, after pending events have had their turn; true stops after the current step. */
  shouldStop?(): boolean;
}

export interface LoopResult<M> {
  epochs: LoopEpoch<M>[];
  /** 0 when no epoch finished. */
  bestEpoch: number;
  stopped: boolean;
  steps: number;
}

/**
 * The training loop shared by every task: AdamW with linear warmup and decay, gradient clipping,
 * dropout, an optional moving average of the weights, validation after every epoch and the best
 * epoch reported to `onEpoch`. Asynchronous only so that events (a signal) are handled between
 * steps when `hooks.shouldStop` is given; the steps themselves run synchronously.
 */
export async function runTraining<B, M>(
  model: TransformerModel,
  task: TrainingTask<B>,
  opts: Omit<TrainOptions, "cropBatches">,
  hooks: LoopHooks<M>,
): Promise<LoopResult<M>> {
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
  const stepsPerEpoch = task.epochBatches(new Random(opts.seed)).length;
  const total = stepsPerEpoch * opts.epochs;
  const warmup = opts.warmup < 1 ? Math.round(opts.warmup * total) : Math.round(opts.warmup);
  const epochs: LoopEpoch<M>[] = [];
  let best = -Infinity;
  let bestEpoch = 0;
  let step = 0;
  let stopped = false;
  try {
    for (let epoch = 1; epoch <= opts.epochs && !stopped; epoch++) {
      const start = performance.now();
      let lossSum = 0;
      let correct = 0;
      let counted = false;
      let seen = 0;
      for (const batch of task.epochBatches(rng)) {
        const out = task.loss(model, batch, { dropout: opts.dropout, rng: dropoutRng });
        out.loss.backward();
        optimizer.clipGradients(opts.clipNorm ?? 1);
        optimizer.update(linearSchedule(step, total, warmup, opts.lr));
        average?.update();
        step++;
        if (out.correct !== undefined) {
          counted = true;
          correct += out.correct;
        }
        lossSum += out.loss.item() * out.count;
        seen += out.count;
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
      const trainSeconds = (performance.now() - start) / 1000;
      for (const p of params) p.requiresGrad = false;
      const lastStep = average ? hooks.evaluate(model) : undefined;
      average?.swap();
      try {
        const validation = hooks.evaluate(model);
        const record: LoopEpoch<M> = {
          epoch,
          loss: lossSum / seen,
          ...(counted ? { trainAccuracy: correct / seen } : {}),
          validation,
          ...(lastStep === undefined ? {} : { lastStep }),
          perSecond: seen / trainSeconds,
          seconds: (performance.now() - start) / 1000,
        };
        epochs.push(record);
        const score = hooks.score(validation);
        const isBest = score > best;
        if (isBest) {
          best = score;
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
  return { epochs, bestEpoch, stopped, steps: step };
}

/** Train a sequence classifier in place on encoded examples (cross-entropy on padded batches). */
export async function train(
  model: TransformerModel,
  data: readonly EncodedExample[],
  opts: TrainOptions,
  hooks: TrainHooks,
): Promise<TrainResult> {
  if (data.length === 0) throw new XaitError("no training examples");
  const maskFree = !model.capabilities.masksPadding;
  const crop = maskFree && opts.cropBatches === true;
  const exact = maskFree && !crop;
  const pad = model.tokenizer
    ? paddingToken(model.tokenizer.special, model.config.padTokenId)
    : model.config.padTokenId;
  const C = model.numLabels;
  const task: TrainingTask<number[]> = {
    epochBatches: (rng) => epochBatches(data, opts.batchSize, rng, exact),
    loss: (m, idx, dropout) => {
      const examples = idx.map((i) => data[i]!);
      const batch = makeBatch(crop ? cropToShortest(examples) : examples, pad);
      const labels = idx.map((i) => data[i]!.label);
      const logits = m.forward(batch, { train: dropout });
      let correct = 0;
      for (let r = 0; r < idx.length; r++) {
        let arg = 0;
        for (let c = 1; c < C; c++) if (logits.data[r * C + c]! > logits.data[r * C + arg]!) arg = c;
        if (arg === labels[r]) correct++;
      }
      return { loss: crossEntropy(logits, labels), count: idx.length, correct };
    },
  };
  const toRecord = (e: LoopEpoch<number>): EpochRecord => ({
    epoch: e.epoch,
    loss: e.loss,
    trainAccuracy: e.trainAccuracy ?? 0,
    validationAccuracy: e.validation,
    ...(e.lastStep === undefined ? {} : { lastStepValidationAccuracy: e.lastStep }),
    seconds: e.seconds,
  });
  const result = await runTraining(model, task, opts, {
    evaluate: (m) => hooks.evaluate(m),
    score: (accuracy) => accuracy,
    ...(hooks.onStep ? { onStep: hooks.onStep } : {}),
    ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
    onEpoch: (e, best) => hooks.onEpoch?.(toRecord(e), best),
  });
  const epochs = result.epochs.map(toRecord);
  return {
    epochs,
    bestEpoch: result.bestEpoch,
    bestAccuracy: result.bestEpoch ? epochs[result.bestEpoch - 1]!.validationAccuracy : -1,
    stopped: result.stopped,
    steps: result.steps,
  };
}
