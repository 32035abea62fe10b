/**
 * `xait train --task causal-lm`: a GPT-2 or Llama-family language model trained on raw text. A
 * byte-level BPE vocabulary is learned from the training text (unless --init gives the model and its
 * tokenizer); documents are tokenised, joined with <|endoftext|> between them and cut into windows
 * of --max-length tokens (the last partial window dropped), shuffled per epoch; the loss is the mean
 * next-token cross-entropy; validation loss and perplexity after every epoch pick the saved epoch.
 */
import { cpus } from "node:os";
import { resolve } from "node:path";
import { usageError, XaitError } from "../errors.js";
import { TransformerModel } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { buildByteLevelBPE, tokenizerFromJSON, type Tokenizer } from "../tokenize/index.js";
import { splitDataset } from "../train/data.js";
import { readDocuments } from "./documents.js";
import { packDocuments } from "../train/lm-data.js";
import { languageModelMeasures, trainLanguageModel, type LanguageModelMeasures } from "../train/lm.js";
import { decoderConfig, defaultIntermediate, type DecoderArch } from "../train/decoders.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { CheckpointedRun, initTraining } from "./train-checkpoints.js";
import type { TrainFlagValues } from "./train-flags.js";
import { createProgress } from "./progress.js";
import { VERSION } from "../version.js";

/** Flags that --init DIR takes from the language model folder. */
const INIT_FIXED = [
  "arch",
  "layers",
  "hidden",
  "heads",
  "kv-heads",
  "intermediate",
  "vocab-size",
  "min-frequency",
];

/** Classifier-only flags. */
const CLASSIFY_ONLY = [
  "label-column",
  "pretrain-text",
  "pretrain-std",
  "freeze-embeddings",
  "strip-html",
  "crop-batches",
];

/** Default vocabulary of a byte-level BPE trained here. */
export const BPE_VOCAB_SIZE = 8000;

/** The smallest byte-level BPE vocabulary: the 256 byte symbols and <|endoftext|>. */
export const MIN_BPE_VOCAB_SIZE = 257;

/** One epoch as training.json records it. */
interface LanguageModelEpoch {
  epoch: number;
  loss: number;
  validationLoss: number;
  validationPerplexity: number;
  lastStepValidationLoss?: number;
  tokensPerSecond: number;
  seconds: number;
}

export async function runLanguageModel(
  values: TrainFlagValues,
  given: Set<string>,
  argv: string[],
): Promise<number> {
  const train = values.train!;
  const initDir = values.init;
  const classifyOnly = CLASSIFY_ONLY.find((k) => given.has(k));
  if (classifyOnly) throw usageError(`--${classifyOnly} applies to --task classify only`);
  if (initDir !== undefined) {
    const fixed = INIT_FIXED.find((k) => given.has(k));
    if (fixed) throw usageError(`--init DIR takes the architecture and vocabulary from DIR; drop --${fixed}`);
  }
  const vocabSize = values["vocab-size"] ?? BPE_VOCAB_SIZE;
  if (vocabSize < MIN_BPE_VOCAB_SIZE)
    throw usageError(
      `--vocab-size ${vocabSize} is too small: a byte-level BPE needs at least ${MIN_BPE_VOCAB_SIZE} (256 byte symbols + <|endoftext|>)`,
    );
  const maxLength = values["max-length"];

  const base = initDir === undefined ? undefined : loadModel(resolve(initDir));
  if (base) {
    if (base.config.task !== "causal-lm")
      throw usageError(
        `--init ${initDir} is a classifier, not a causal language model; --task causal-lm continues from a language model folder`,
      );
    if (!base.tokenizer) throw new XaitError(`--init ${initDir}: the model folder has no tokenizer`);
    if (base.tokenizer.special.eos === undefined)
      throw new XaitError(`--init ${initDir}: the tokenizer has no end-of-text token to separate documents`);
    if (maxLength > base.capabilities.maxTokens)
      throw usageError(
        `--max-length ${maxLength} is longer than the ${base.capabilities.maxTokens} positions of the model in ${initDir}`,
      );
  }
  const arch = (base?.config.modelType ?? values.arch ?? "gpt2") as DecoderArch;
  if (arch !== "gpt2" && arch !== "llama")
    throw usageError(
      base
        ? `--init ${initDir} is a ${arch} model; --task causal-lm trains gpt2 or llama`
        : `--task causal-lm trains --arch gpt2 or llama, got '${arch}'`,
    );
  const hidden = base?.config.hiddenSize ?? values.hidden;
  const heads = base?.config.numHeads ?? values.heads;
  const kvHeads = base?.config.numKvHeads ?? values["kv-heads"] ?? heads;
  const layers = base?.config.numLayers ?? values.layers ?? 4;
  const intermediate =
    base?.config.intermediateSize ?? values.intermediate ?? defaultIntermediate(arch, hidden);
  if (!base) {
    if (hidden % heads !== 0) throw usageError(`--hidden ${hidden} must be divisible by --heads ${heads}`);
    if (given.has("kv-heads") && arch !== "llama")
      throw usageError("--kv-heads applies to --arch llama only");
    if (heads % kvHeads !== 0)
      throw usageError(`--heads ${heads} must be divisible by --kv-heads ${kvHeads}`);
    if (arch === "llama" && (hidden / heads) % 2 !== 0)
      throw usageError(
        `llama's rotary positions need an even head width; --hidden / --heads is ${hidden / heads}`,
      );
  }
  const opts = {
    epochs: values.epochs,
    batchSize: values["batch-size"],
    lr: values.lr,
    warmup: values.warmup,
    weightDecay: values["weight-decay"],
    dropout: values.dropout,
    seed: values.seed,
    averageDecay: values.ema,
  };
  const fraction = values["validation-fraction"];

  await initBackend({ threads: values.threads });
  const started = Date.now();
  const readOpts = {
    skipBadRows: values["skip-bad-rows"],
    ...(values["text-column"] === undefined ? {} : { textColumn: values["text-column"] }),
  };
  const all = readDocuments(train, readOpts);
  if (all.length === 0)
    throw new XaitError(`--train ${train}: no usable text rows (every document is empty or was skipped)`);
  let trainDocs = all;
  let validDocs: string[];
  if (values.validation) {
    validDocs = readDocuments(values.validation, readOpts);
    if (validDocs.length === 0)
      throw new XaitError(
        `--validation ${values.validation}: no usable text rows (every document is empty or was skipped)`,
      );
  } else {
    const split = splitDataset(all, fraction!, opts.seed);
    trainDocs = split.train;
    validDocs = split.validation;
    if (trainDocs.length === 0 || validDocs.length === 0)
      throw usageError(
        `--validation-fraction ${fraction} of ${all.length} document(s) leaves ${trainDocs.length} for training and ${validDocs.length} for validation; give --validation FILE or more text`,
      );
  }
  if (values.limit) trainDocs = trainDocs.slice(0, values.limit);

  let vocabularySeconds: number | null = null;
  let tokenizer: Tokenizer;
  if (base) tokenizer = base.tokenizer!;
  else {
    const t0 = Date.now();
    tokenizer = tokenizerFromJSON(
      buildByteLevelBPE(trainDocs, { vocabSize, minFrequency: values["min-frequency"] }),
    );
    vocabularySeconds = (Date.now() - t0) / 1000;
    process.stderr.write(
      `byte-level BPE vocabulary of ${tokenizer.vocabSize} tokens from ${trainDocs.length} documents (${vocabularySeconds.toFixed(1)} s)\n`,
    );
  }
  const eos = tokenizer.special.eos!;
  const encode = (docs: string[]) => docs.map((d) => tokenizer.pieces(d).ids);
  const trainPacked = packDocuments(encode(trainDocs), eos, maxLength);
  const validPacked = packDocuments(encode(validDocs), eos, maxLength);
  if (trainPacked.windows.length === 0)
    throw new XaitError(
      `--train ${train}: ${trainPacked.tokens} tokens of training text, fewer than one window of --max-length ${maxLength}`,
    );
  if (validPacked.windows.length === 0)
    throw new XaitError(
      `${values.validation ? `--validation ${values.validation}` : "the validation documents"}: ${validPacked.tokens} tokens, fewer than one window of --max-length ${maxLength}`,
    );

  const model =
    base ??
    TransformerModel.initialise(
      decoderConfig(arch, {
        vocabSize: tokenizer.vocabSize,
        hidden,
        layers,
        heads,
        kvHeads,
        intermediate,
        maxPositions: maxLength,
        eos,
      }),
      opts.seed,
      tokenizer,
    );
  process.stderr.write(
    `training a ${arch} language model: ${layers} layers, hidden ${hidden}, ${heads} heads` +
      (arch === "llama" ? ` (${kvHeads} key/value)` : "") +
      `, vocabulary ${tokenizer.vocabSize}; ${trainPacked.windows.length} training / ${validPacked.windows.length} validation windows of ${maxLength} tokens` +
      ` (${trainPacked.dropped} + ${validPacked.dropped} tokens of the last partial windows dropped); backend ${backendInfo().name} × ${backendInfo().threads}\n`,
  );

  const record = {
    command: ["xait", "train", ...argv].join(" "),
    xait: VERSION,
    task: "causal-lm",
    seed: opts.seed,
    options: {
      arch,
      layers,
      hidden,
      heads,
      kvHeads,
      intermediate,
      maxLength,
      vocabSize: tokenizer.vocabSize,
      minFrequency: base ? null : values["min-frequency"],
      ...opts,
      averageDecay: opts.averageDecay ?? null,
      validationFraction: fraction ?? null,
      limit: values.limit ?? null,
      init: base ? { dir: initDir, training: initTraining(resolve(initDir!)) } : null,
    },
    data: {
      train,
      validation: values.validation ?? `${fraction} of the --train documents (seed ${opts.seed})`,
      trainDocuments: trainDocs.length,
      validationDocuments: validDocs.length,
      trainTokens: trainPacked.tokens,
      validationTokens: validPacked.tokens,
      trainWindows: trainPacked.windows.length,
      validationWindows: validPacked.windows.length,
      droppedTokens: trainPacked.dropped + validPacked.dropped,
      vocabularySeconds,
    },
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      node: process.version,
      backend: backendInfo(),
    },
    epochs: [] as LanguageModelEpoch[],
    bestEpoch: 0,
    bestValidationLoss: 0,
    bestValidationPerplexity: 0,
    wallSeconds: 0,
    status: "running",
  };
  const run = new CheckpointedRun(values.out!, values.dtype === "f32" ? "f32" : "f16", record, started);
  const progress = createProgress("train");
  const tokensPerPrediction = maxLength / (maxLength - 1);
  try {
    const result = await trainLanguageModel(model, trainPacked.windows, opts, {
      evaluate: (m): LanguageModelMeasures => languageModelMeasures(m, validPacked.windows, opts.batchSize),
      onStep: (step, total, loss, perSecond) =>
        progress.update(
          step,
          total,
          `loss ${loss.toFixed(4)} · ${(perSecond * tokensPerPrediction).toFixed(0)} tokens/s`,
        ),
      onEpoch: (e, best) => {
        progress.done();
        const r: LanguageModelEpoch = {
          epoch: e.epoch,
          loss: e.loss,
          validationLoss: e.validation.loss,
          validationPerplexity: e.validation.perplexity,
          ...(e.lastStep === undefined ? {} : { lastStepValidationLoss: e.lastStep.loss }),
          tokensPerSecond: e.perSecond * tokensPerPrediction,
          seconds: e.seconds,
        };
        record.epochs.push(r);
        process.stderr.write(
          `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, validation loss ${r.validationLoss.toFixed(4)}, perplexity ${r.validationPerplexity.toFixed(2)}` +
            (r.lastStepValidationLoss === undefined
              ? ""
              : ` (averaged weights; last step's loss ${r.lastStepValidationLoss.toFixed(4)})`) +
            ` (${r.tokensPerSecond.toFixed(0)} tokens/s, ${r.seconds.toFixed(0)} s)${best ? " — best, saved" : ""}\n`,
        );
        if (best) {
          record.bestEpoch = r.epoch;
          record.bestValidationLoss = r.validationLoss;
          record.bestValidationPerplexity = r.validationPerplexity;
          run.save(model);
        }
      },
      shouldStop: run.shouldStop,
    });
    progress.done();
    return run.complete(
      result.stopped,
      () =>
        `best validation perplexity ${record.bestValidationPerplexity.toFixed(2)} (loss ${record.bestValidationLoss.toFixed(4)}, epoch ${record.bestEpoch}); model in ${run.out} (${record.wallSeconds.toFixed(0)} s)\n`,
    );
  } finally {
    run.dispose();
  }
}
