/** `xait train`: train a sequence classifier on a labelled file and save it as a Hugging Face folder. */
import { cpus } from "node:os";
import { resolve } from "node:path";
import { usageError, XaitError } from "../errors.js";
import { INIT_STD, parseConfig, TransformerModel } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { buildByteLevelBPE, buildWordPieceVocabulary, tokenizerFromJSON } from "../tokenize/index.js";
import { mapLabels, splitDataset, type Example } from "../train/data.js";
import { readDatasetFile } from "../train/data-node.js";
import { train, type EpochRecord } from "../train/trainer.js";
import { ppmiSvdEmbeddings } from "../train/embeddings.js";
import type { EncodedExample } from "../train/batches.js";
import { predictAll } from "../evaluate/accuracy.js";
import { accuracy } from "../evaluate/metrics.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { classifierFromLanguageModel, decoderConfig, defaultIntermediate } from "../train/decoders.js";
import { registerCommand } from "./commands.js";
import { flagHelp, parseFlags } from "./flags.js";
import { createProgress } from "./progress.js";
import { VERSION } from "../version.js";
import {
  ARCHITECTURE_FLAGS,
  DATA_FLAGS,
  OPTIMISATION_FLAGS,
  OUTPUT_FLAGS,
  TRAIN_FLAGS,
} from "./train-flags.js";
import { CheckpointedRun, initTraining } from "./train-checkpoints.js";
import { BPE_VOCAB_SIZE, MIN_BPE_VOCAB_SIZE, runLanguageModel } from "./train-lm.js";

const HELP = `Usage: xait train --train FILE (--validation FILE | --validation-fraction F) --out DIR [options]
       xait train --task causal-lm --arch gpt2|llama --train FILE[,FILE] (--validation … ) --out DIR

Train a Transformer classifier from scratch: an uncased WordPiece vocabulary (gpt2, llama: a
byte-level BPE) built from the training text, AdamW with linear warmup and decay, dropout,
validation after every epoch; the best epoch is saved (atomically) to DIR as config.json,
model.safetensors, tokenizer.json and training.json.

--task causal-lm trains a decoder language model on raw text: a byte-level BPE vocabulary learned
from the training text (unless --init gives the tokenizer); documents tokenised, joined with
<|endoftext|> between them, cut into windows of --max-length tokens (the last partial window is
dropped) and shuffled every epoch; the loss is the mean next-token cross-entropy over the
window's positions. Validation loss and perplexity (exp of the mean token loss) after every
epoch; the epoch with the lowest validation loss is saved. --task classify --init <LM folder>
then fine-tunes it as a classifier.

Architecture:
${flagHelp(ARCHITECTURE_FLAGS)}
Data:
${flagHelp(DATA_FLAGS)}
Optimisation:
${flagHelp(OPTIMISATION_FLAGS)}
Output:
${flagHelp(OUTPUT_FLAGS)}

Examples:
  xait train --arch xai-transformer --train $XAIT_DATA/sst2/train.tsv --validation $XAIT_DATA/sst2/validation.tsv --out models/sst2-xai-transformer
  xait train --train tweets.csv --validation-fraction 0.1 --seed 42 --skip-bad-rows --out models/tweet-bert
  xait train --task causal-lm --arch gpt2 --train $XAIT_DATA/imdb/train.jsonl --validation-fraction 0.02 --out models/reviews-gpt2
  xait train --init models/reviews-gpt2 --train $XAIT_DATA/sst2/train.tsv --validation $XAIT_DATA/sst2/validation.tsv --out models/sst2-gpt2`;

/** Flags that --init DIR takes from the model folder instead. */
const INIT_FIXED = [
  "arch",
  "layers",
  "hidden",
  "heads",
  "kv-heads",
  "intermediate",
  "max-length",
  "vocab-size",
  "min-frequency",
  "pretrain-text",
  "pretrain-std",
  "strip-html",
] as const;

function labelMap(labels: readonly string[]): Record<string, number> {
  return Object.fromEntries(labels.map((l, i) => [l, i]));
}

function labelNames(id2label: Record<number, string>, n: number): string[] {
  return Array.from({ length: n }, (_, i) => id2label[i] ?? `LABEL_${i}`);
}

async function run(argv: string[]): Promise<number> {
  const { values, given } = parseFlags(TRAIN_FLAGS, argv);
  if (!values.train) throw usageError("--train FILE is required (see xait train --help)");
  if (!values.out) throw usageError("--out DIR is required (see xait train --help)");
  if (!values.validation && values["validation-fraction"] === undefined)
    throw usageError("give --validation FILE or --validation-fraction F");
  if (values.task === "causal-lm") return runLanguageModel(values, given, argv);
  const initDir = values.init;
  if (initDir !== undefined) {
    const fixed = INIT_FIXED.find((k) => given.has(k));
    if (fixed) throw usageError(`--init DIR takes the architecture and vocabulary from DIR; drop --${fixed}`);
  }
  // --init: continue from a model folder (its weights, tokenizer and labels), or fine-tune a causal
  // language model folder as a classifier (converted once the labels are known)
  const base = initDir === undefined ? undefined : loadModel(resolve(initDir));
  if (base && !base.tokenizer) throw new XaitError(`--init ${initDir}: the model folder has no tokenizer`);
  const arch = base ? base.config.modelType : (values.arch ?? "bert");
  const decoder = arch === "gpt2" || arch === "llama";
  if (arch !== "bert" && arch !== "xai-transformer" && !decoder)
    throw usageError(
      `--init ${initDir} is a ${arch} ${base?.config.task === "causal-lm" ? "language model" : "classifier"}; --task classify trains bert or xai-transformer, or fine-tunes a gpt2 / llama causal language model or classifier`,
    );
  const fromLanguageModel = base?.config.task === "causal-lm";
  if (fromLanguageModel && base!.tokenizer!.special.eos === undefined)
    throw new XaitError(`--init ${initDir}: the tokenizer has no end-of-text token to pad with`);
  const hidden = base?.config.hiddenSize ?? values.hidden;
  const heads = base?.config.numHeads ?? values.heads;
  if (hidden % heads !== 0) throw usageError(`--hidden ${hidden} must be divisible by --heads ${heads}`);
  const kvHeads = base?.config.numKvHeads ?? values["kv-heads"] ?? heads;
  if (!base && values["kv-heads"] !== undefined && arch !== "llama")
    throw usageError("--kv-heads applies to --arch llama only");
  if (heads % kvHeads !== 0) throw usageError(`--heads ${heads} must be divisible by --kv-heads ${kvHeads}`);
  if (!base && arch === "llama" && (hidden / heads) % 2 !== 0)
    throw usageError(
      `llama's rotary positions need an even head width; --hidden / --heads is ${hidden / heads}`,
    );
  const layers = base?.config.numLayers ?? values.layers ?? (arch === "xai-transformer" ? 3 : 4);
  const intermediate =
    base?.config.intermediateSize ??
    values.intermediate ??
    (decoder ? defaultIntermediate(arch, hidden) : 4 * hidden);
  const maxLength = base?.config.maxPositions ?? values["max-length"];
  const opts = {
    epochs: values.epochs,
    batchSize: values["batch-size"],
    lr: values.lr,
    warmup: values.warmup,
    weightDecay: values["weight-decay"],
    dropout: values.dropout,
    seed: values.seed,
    cropBatches: values["crop-batches"],
    averageDecay: values.ema,
  };
  if (opts.cropBatches && arch !== "xai-transformer")
    throw usageError("--crop-batches applies to --arch xai-transformer only (bert pads and masks)");
  if (decoder) {
    const encoderOnly = (["pretrain-text", "pretrain-std", "strip-html"] as const).find((k) => given.has(k));
    if (encoderOnly) throw usageError(`--${encoderOnly} applies to --arch bert and xai-transformer only`);
  }
  const vocabSize = values["vocab-size"] ?? (decoder ? BPE_VOCAB_SIZE : 16000);
  if (decoder && !base && vocabSize < MIN_BPE_VOCAB_SIZE)
    throw usageError(
      `--vocab-size ${vocabSize} is too small: a byte-level BPE needs at least ${MIN_BPE_VOCAB_SIZE} (256 byte symbols + <|endoftext|>)`,
    );
  const fraction = values["validation-fraction"];
  const limit = values.limit;
  const threads = values.threads;
  const pretrainStd = values["pretrain-std"];
  if (pretrainStd !== undefined && !values["pretrain-text"])
    throw usageError("--pretrain-std scales the --pretrain-text vectors; give --pretrain-text too");

  await initBackend({ threads });
  const started = Date.now();
  const readOpts = {
    skipBadRows: values["skip-bad-rows"],
    textColumn: values["text-column"],
    labelColumn: values["label-column"],
  };
  const full = readDatasetFile(values.train, readOpts);
  if (full.skipped) process.stderr.write(`skipped ${full.skipped} malformed row(s) of ${values.train}\n`);
  let trainRows: Example[] = full.examples;
  let validRows: Example[];
  if (values.validation) {
    const v = readDatasetFile(values.validation, readOpts);
    if (v.skipped) process.stderr.write(`skipped ${v.skipped} malformed row(s) of ${values.validation}\n`);
    validRows = v.examples;
  } else {
    const split = splitDataset(full.examples, fraction!, opts.seed);
    trainRows = split.train;
    validRows = split.validation;
  }
  if (limit) trainRows = trainRows.slice(0, limit);
  const mapping = mapLabels(trainRows, base && !fromLanguageModel ? labelMap(base.config.labels) : undefined);
  const validIds = mapLabels(validRows, mapping.label2id).ids;
  const labels = labelNames(mapping.id2label, mapping.numClasses);

  const pretrainFiles = values["pretrain-text"]?.split(",").filter(Boolean) ?? [];
  const pretrainText = pretrainFiles.flatMap((f) =>
    readDatasetFile(f, { skipBadRows: true }).examples.map((e) => e.text.replace(/<br\s*\/?>/gi, " ")),
  );
  const trainText = trainRows.map((e) => (e.pair ? `${e.text} ${e.pair}` : e.text));
  const tokenizer =
    base?.tokenizer ??
    (decoder
      ? tokenizerFromJSON(buildByteLevelBPE(trainText, { vocabSize, minFrequency: values["min-frequency"] }))
      : buildWordPieceVocabulary([...trainText, ...pretrainText], {
          vocabSize,
          minFrequency: values["min-frequency"],
          stripHtml: values["strip-html"] ?? false,
        }));
  const newDecoderConfig = () =>
    decoderConfig(arch as "gpt2" | "llama", {
      vocabSize: tokenizer.vocabSize,
      hidden,
      layers,
      heads,
      kvHeads,
      intermediate,
      maxPositions: maxLength,
      eos: tokenizer.special.eos!,
      labels,
    });
  const config =
    base?.config ??
    (decoder ? newDecoderConfig() : undefined) ??
    parseConfig(
      JSON.stringify({
        model_type: arch,
        vocab_size: tokenizer.vocabSize,
        hidden_size: hidden,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        ...(arch === "bert" ? { intermediate_size: intermediate, hidden_act: "gelu" } : {}),
        max_position_embeddings: maxLength,
        type_vocab_size: 2,
        layer_norm_eps: arch === "bert" ? 1e-12 : 1e-5,
        pad_token_id: tokenizer.special.pad,
        id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      }),
    );
  const model = fromLanguageModel
    ? classifierFromLanguageModel(base!, labels, opts.seed)
    : (base ?? TransformerModel.initialise(config, opts.seed, tokenizer));
  if (fromLanguageModel)
    process.stderr.write(
      `${initDir}: a ${arch} language model, fine-tuned as a classifier (its body and tokenizer kept, a new score head)\n`,
    );
  let pretrained = 0;
  if (pretrainText.length) {
    const t0 = Date.now();
    const seqs = [...pretrainText, ...trainText].map((t) => tokenizer.encode(t).ids.slice(1, -1));
    const special = tokenizer.special;
    const vectors = ppmiSvdEmbeddings(seqs, tokenizer.vocabSize, {
      dim: hidden,
      seed: opts.seed,
      skip: new Set(
        [special.cls, special.sep, special.pad, special.unk, special.mask].filter((id) => id !== undefined),
      ),
    });
    pretrained = initialiseWordEmbeddings(model, vectors, hidden, pretrainStd ?? INIT_STD);
    process.stderr.write(
      `PPMI-SVD word vectors for ${pretrained} of ${tokenizer.vocabSize} tokens from ${seqs.length} texts (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
    );
  }
  let truncated = 0;
  const encoded: EncodedExample[] = trainRows.map((e, i) => {
    const enc = tokenizer.encode(e.text, e.pair, maxLength);
    if (enc.truncated) truncated++;
    return { ids: enc.ids, typeIds: enc.typeIds, label: mapping.ids[i]! };
  });
  if (truncated) process.stderr.write(`${truncated} training text(s) truncated to ${maxLength} tokens\n`);
  process.stderr.write(
    `training ${arch}: ${layers} layers, hidden ${hidden}, ${heads} heads, vocabulary ${tokenizer.vocabSize}, ${labels.length} classes (${labels.join(", ")}); ` +
      `${encoded.length} training / ${validRows.length} validation examples; backend ${backendInfo().name} × ${backendInfo().threads}\n`,
  );

  const record = {
    command: ["xait", "train", ...argv].join(" "),
    xait: VERSION,
    seed: opts.seed,
    options: {
      arch,
      layers,
      hidden,
      heads,
      intermediate: arch === "xai-transformer" ? 0 : intermediate,
      ...(arch === "llama" ? { kvHeads } : {}),
      maxLength,
      ...opts,
      averageDecay: opts.averageDecay ?? null,
      validationFraction: fraction ?? null,
      limit: limit ?? null,
      pretrainStd: values["pretrain-text"] ? (pretrainStd ?? INIT_STD) : null,
      freezeEmbeddings: values["freeze-embeddings"],
      stripHtml: base ? null : (values["strip-html"] ?? false),
      init: base
        ? {
            dir: initDir,
            training: initTraining(resolve(initDir!)),
            ...(fromLanguageModel ? { fromLanguageModel: true } : {}),
          }
        : null,
    },
    data: {
      train: values.train,
      validation: values.validation ?? `${fraction} of --train (seed ${opts.seed})`,
      trainExamples: encoded.length,
      validationExamples: validRows.length,
      skippedRows: full.skipped,
    },
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      node: process.version,
      backend: backendInfo(),
    },
    epochs: [] as EpochRecord[],
    bestEpoch: 0,
    bestValidationAccuracy: 0,
    wallSeconds: 0,
    status: "running",
  };
  const run = new CheckpointedRun(values.out, values.dtype === "f16" ? "f16" : "f32", record, started);
  const progress = createProgress("train");
  const validExamples = validRows.map((e, i) => ({ text: e.text, pair: e.pair, label: validIds[i]! }));
  try {
    const frozen = values["freeze-embeddings"] ? [model.architecture.embeddings.word] : [];
    const result = await train(
      model,
      encoded,
      { ...opts, frozen },
      {
        evaluate: (m) =>
          accuracy(
            predictAll(m, validExamples),
            validExamples.map((e) => e.label),
          ),
        onStep: (step, total, loss, eps) =>
          progress.update(step, total, `loss ${loss.toFixed(4)} · ${eps.toFixed(0)} ex/s`),
        onEpoch: (r, best) => {
          progress.done();
          record.epochs.push(r);
          process.stderr.write(
            `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, train accuracy ${r.trainAccuracy.toFixed(4)}, validation accuracy ${r.validationAccuracy.toFixed(4)}` +
              (r.lastStepValidationAccuracy === undefined
                ? ""
                : ` (averaged weights; last step's ${r.lastStepValidationAccuracy.toFixed(4)})`) +
              ` (${r.seconds.toFixed(0)} s)${best ? " — best, saved" : ""}\n`,
          );
          if (best) {
            record.bestEpoch = r.epoch;
            record.bestValidationAccuracy = r.validationAccuracy;
            run.save(model);
          }
        },
        shouldStop: run.shouldStop,
      },
    );
    progress.done();
    // the folder already holds the best epoch's weights; record the final status beside them
    return run.complete(
      result.stopped,
      () =>
        `best validation accuracy ${record.bestValidationAccuracy.toFixed(4)} (epoch ${record.bestEpoch}); model in ${run.out} (${record.wallSeconds.toFixed(0)} s)\n`,
    );
  } finally {
    run.dispose();
  }
}

/** Copy non-zero vectors into the word embedding rows, scaled to standard deviation `std`. */
function initialiseWordEmbeddings(
  model: TransformerModel,
  vectors: Float32Array,
  dim: number,
  std: number,
): number {
  const table = model.wordEmbeddings;
  let ss = 0;
  let n = 0;
  for (let i = 0; i < vectors.length; i++) {
    ss += vectors[i]! * vectors[i]!;
    if (vectors[i] !== 0) n++;
  }
  const scale = n ? std / Math.sqrt(ss / n) : 0;
  let rows = 0;
  for (let r = 0; r < vectors.length / dim; r++) {
    const row = vectors.subarray(r * dim, (r + 1) * dim);
    if (!row.some((v) => v !== 0)) continue;
    for (let j = 0; j < dim; j++) table.data[r * dim + j] = row[j]! * scale;
    rows++;
  }
  return rows;
}

registerCommand({
  name: "train",
  summary: "train a classifier (bert, the paper's xai-transformer, gpt2, llama) or a causal language model",
  help: HELP,
  run,
});
