/**
 * Causal language-model training: the next-token loss of packed windows and the validation
 * loss / perplexity, run by the shared training loop. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { makeBatch, type TransformerModel } from "../models/index.js";
import { crossEntropy, noGrad, reshape, slice, type Tensor } from "../tensor/index.js";
import { windowBatches } from "./lm-data.js";
import {
  runTraining,
  type LoopHooks,
  type LoopResult,
  type TrainOptions,
  type TrainingDropout,
} from "./trainer.js";

/** Validation measures of a language model: mean next-token loss (nats) and its exponential. */
export interface LanguageModelMeasures {
  loss: number;
  perplexity: number;
  /** Number of next-token predictions averaged. */
  tokens: number;
}

/**
 * The mean next-token cross-entropy of a batch of equal-length windows: position t predicts token
 * t + 1, so a window of T tokens gives T − 1 predictions (the last position has no target).
 */
export function nextTokenLoss(
  model: TransformerModel,
  windows: readonly (readonly number[])[],
  train?: TrainingDropout,
): { loss: Tensor; count: number } {
  if (windows.length === 0) throw new XaitError("empty batch of windows");
  const T = windows[0]!.length;
  if (T < 2 || windows.some((w) => w.length !== T))
    throw new XaitError("language-model windows must share one length of at least 2 tokens");
  const batch = makeBatch(
    windows.map((ids) => ({ ids })),
    0,
  );
  const logits = model.logitsAll(batch, train ? { train } : {});
  const V = logits.shape[2]!;
  const predicting = reshape(slice(logits, 1, 0, T - 1), [windows.length * (T - 1), V]);
  const targets = new Int32Array(windows.length * (T - 1));
  windows.forEach((w, r) => {
    for (let t = 0; t + 1 < T; t++) targets[r * (T - 1) + t] = w[t + 1]!;
  });
  return { loss: crossEntropy(predicting, targets), count: targets.length };
}

/** Mean next-token loss and perplexity of a model on windows, in batches (no tape). */
export function languageModelMeasures(
  model: TransformerModel,
  windows: readonly (readonly number[])[],
  batchSize = 16,
): LanguageModelMeasures {
  let sum = 0;
  let tokens = 0;
  noGrad(() => {
    for (let s = 0; s < windows.length; s += batchSize) {
      const { loss, count } = nextTokenLoss(model, windows.slice(s, s + batchSize));
      sum += loss.item() * count;
      tokens += count;
    }
  });
  if (tokens === 0) throw new XaitError("no validation windows");
  const loss = sum / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}

/**
 * Train a causal language model in place on windows of token ids (shuffled per epoch with the
 * seed); the best epoch is the one with the lowest validation loss (`hooks.score` is ignored).
 */
export async function trainLanguageModel(
  model: TransformerModel,
  windows: readonly (readonly number[])[],
  opts: Omit<TrainOptions, "cropBatches">,
  hooks: Omit<LoopHooks<LanguageModelMeasures>, "score">,
): Promise<LoopResult<LanguageModelMeasures>> {
  if (model.config.task !== "causal-lm") throw new XaitError("the model is not a causal language model");
  if (windows.length === 0) throw new XaitError("no training windows");
  return runTraining(
    model,
    {
      epochBatches: (rng) => windowBatches(windows.length, opts.batchSize, rng),
      loss: (m, idx, dropout) =>
        nextTokenLoss(
          m,
          idx.map((i) => windows[i]!),
          dropout,
        ),
    },
    opts,
    { ...hooks, score: (m) => -m.loss },
  );
}
