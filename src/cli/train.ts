/** `xait train`: train a sequence classifier on a labelled file and save it as a Hugging Face folder. */
import { readFileSync } from "node:fs";
import { constants as osConstants, cpus } from "node:os";
import { join, resolve } from "node:path";
import { usageError, XaitError } from "../errors.js";
import { INIT_STD, parseConfig, TransformerModel } from "../models/index.js";
import { loadModel, saveModel } from "../models/folder-node.js";
import { buildWordPieceVocabulary } from "../tokenize/index.js";
import { mapLabels, splitDataset, type Example } from "../train/data.js";
import { readDatasetFile } from "../train/data-node.js";
import { train, type EpochRecord } from "../train/trainer.js";
import { ppmiSvdEmbeddings } from "../train/embeddings.js";
import type { EncodedExample } from "../train/batches.js";
import { predictAll } from "../evaluate/accuracy.js";
import { accuracy } from "../evaluate/metrics.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { registerCommand } from "./commands.js";
import { writeFileAtomic } from "./io.js";
import { flagHelp, parseFlags, THREADS_FLAG, type FlagTable } from "./flags.js";
import { createProgress } from "./progress.js";
import { VERSION } from "../version.js";

/** Signals that stop training after the current step, keeping the last good checkpoint. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

const ARCHITECTURE_FLAGS = {
  arch: {
    kind: "string",
    value: "A",
    choices: ["bert", "xai-transformer"],
    default: "bert",
    help: "bert | xai-transformer (the paper's model: attention-only blocks, no mask)",
  },
  layers: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    defaultText: "bert 4, xai-transformer 3",
    help: "blocks",
  },
  hidden: { kind: "number", value: "N", integer: true, min: 1, default: 256, help: "hidden size" },
  heads: { kind: "number", value: "N", integer: true, min: 1, default: 4, help: "attention heads" },
  intermediate: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    defaultText: "4 × hidden",
    help: "feed-forward width (bert)",
  },
  "max-length": {
    kind: "number",
    value: "N",
    integer: true,
    min: 4,
    default: 128,
    help: "maximum tokens per input, special tokens included",
  },
  "vocab-size": { kind: "number", value: "N", integer: true, min: 1, default: 16000, help: "vocabulary cap" },
  "min-frequency": {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 2,
    help: "minimum count of a whole word in the vocabulary",
  },
  "strip-html": {
    kind: "boolean",
    help: "the tokenizer replaces HTML formatting tags (<br />, <i>, <p>, …) by a space;\nsaved in tokenizer.json, so explaining and evaluating the model strip them too",
  },
  "pretrain-text": {
    kind: "string",
    value: "F[,F]",
    help: "unlabeled text (the text column of these files; labels are not read) added to\nthe vocabulary corpus and used to initialise the word embeddings with\nPPMI-SVD vectors (positive PMI of windowed co-occurrences, truncated SVD)",
  },
  "pretrain-std": {
    kind: "number",
    value: "X",
    above: 0,
    help: "standard deviation the PPMI-SVD vectors are scaled to [0.02, the initialiser's];\nlarger values keep more of them against the optimiser's updates",
  },
  "freeze-embeddings": {
    kind: "boolean",
    help: "keep the word embeddings fixed during training (as the paper keeps BERT's)",
  },
  init: {
    kind: "string",
    value: "DIR",
    help: "start from a model folder: its weights, tokenizer, labels and architecture\n(--arch … --pretrain-text are then refused) — to train on, or to fine-tune\non other data",
  },
  "crop-batches": {
    kind: "boolean",
    help: "xai-transformer: batch texts of similar length, each batch shortened to its\nshortest text (final [SEP] kept), instead of equal lengths only — for long\ndocuments, where few texts share a length",
  },
} as const satisfies FlagTable;

const DATA_FLAGS = {
  train: { kind: "string", value: "FILE", help: "TSV (header), CSV or JSON lines" },
  validation: { kind: "string", value: "FILE", help: "validation file, or:" },
  "validation-fraction": {
    kind: "number",
    value: "F",
    min: 0,
    max: 0.9,
    help: "hold out a seeded fraction F of --train (uses --seed)",
  },
  "text-column": { kind: "string", value: "C", help: "text column [sentence | text | review]" },
  "label-column": { kind: "string", value: "C", help: "label column [label | sentiment]" },
  "skip-bad-rows": { kind: "boolean", help: "skip malformed rows (counted) instead of failing" },
  limit: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    help: "use only the first N training rows (quick experiments)",
  },
} as const satisfies FlagTable;

const OPTIMISATION_FLAGS = {
  epochs: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 3,
    help: "passes over the training data",
  },
  "batch-size": { kind: "number", value: "N", integer: true, min: 1, default: 32, help: "texts per step" },
  lr: { kind: "number", value: "X", min: 0, default: 5e-4, help: "peak learning rate of AdamW" },
  warmup: {
    kind: "number",
    value: "X",
    min: 0,
    default: 0.1,
    help: "linear warmup: a fraction of the steps if < 1, else steps",
  },
  "weight-decay": { kind: "number", value: "X", min: 0, default: 0.01, help: "AdamW weight decay" },
  dropout: { kind: "number", value: "X", min: 0, max: 0.99, default: 0.1, help: "dropout probability" },
  seed: {
    kind: "number",
    value: "N",
    integer: true,
    min: 0,
    default: 42,
    help: "seed of initialisation, shuffling, dropout and splits",
  },
  threads: THREADS_FLAG,
  ema: {
    kind: "number",
    value: "D",
    above: 0,
    max: 0.99999,
    help: "keep an exponential moving average of the weights (decay D per step, e.g.\n0.999) and evaluate and save the averaged weights at each epoch",
  },
} as const satisfies FlagTable;

const OUTPUT_FLAGS = {
  out: {
    kind: "string",
    value: "DIR",
    help: "model folder (replaced atomically at each better epoch; Ctrl-C or SIGTERM\nstops after the current step and keeps it)",
  },
  dtype: {
    kind: "string",
    value: "f16|f32",
    choices: ["f16", "f32"],
    default: "f16",
    help: "weight precision on disk",
  },
} as const satisfies FlagTable;

const TRAIN_FLAGS = { ...ARCHITECTURE_FLAGS, ...DATA_FLAGS, ...OPTIMISATION_FLAGS, ...OUTPUT_FLAGS } as const;

const HELP = `Usage: xait train --train FILE (--validation FILE | --validation-fraction F) --out DIR [options]

Train a Transformer classifier from scratch: an uncased WordPiece vocabulary built from the training
text, AdamW with linear warmup and decay, dropout, validation after every epoch; the best epoch is
saved (atomically) to DIR as config.json, model.safetensors, tokenizer.json and training.json.

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
  xait train --train tweets.csv --validation-fraction 0.1 --seed 42 --skip-bad-rows --out models/tweet-bert`;

/** Flags that --init DIR takes from the model folder instead. */
const INIT_FIXED = [
  "arch",
  "layers",
  "hidden",
  "heads",
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

/** The command and best accuracy of the run that produced an --init model, when it was trained by xait. */
function initTraining(dir: string): { command: string; bestValidationAccuracy: number } | null {
  try {
    const t = JSON.parse(readFileSync(join(dir, "training.json"), "utf8")) as {
      command?: unknown;
      bestValidationAccuracy?: unknown;
    };
    return typeof t.command === "string" && typeof t.bestValidationAccuracy === "number"
      ? { command: t.command, bestValidationAccuracy: t.bestValidationAccuracy }
      : null;
  } catch {
    return null;
  }
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
  const initDir = values.init;
  if (initDir !== undefined) {
    const fixed = INIT_FIXED.find((k) => given.has(k));
    if (fixed) throw usageError(`--init DIR takes the architecture and vocabulary from DIR; drop --${fixed}`);
  }
  // --init: continue from a model folder (its weights, tokenizer and labels)
  const base = initDir === undefined ? undefined : loadModel(resolve(initDir));
  if (base && !base.tokenizer) throw new XaitError(`--init ${initDir}: the model folder has no tokenizer`);
  const arch = base ? base.config.modelType : values.arch;
  if (arch !== "bert" && arch !== "xai-transformer")
    throw usageError(
      base
        ? `--init ${initDir} is a ${arch} model; xait trains bert or xai-transformer`
        : `--arch must be bert or xai-transformer, got '${arch}'`,
    );
  const hidden = base?.config.hiddenSize ?? values.hidden;
  const heads = base?.config.numHeads ?? values.heads;
  if (hidden % heads !== 0) throw usageError(`--hidden ${hidden} must be divisible by --heads ${heads}`);
  const layers = base?.config.numLayers ?? values.layers ?? (arch === "bert" ? 4 : 3);
  const intermediate = base?.config.intermediateSize ?? values.intermediate ?? 4 * hidden;
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
  const mapping = mapLabels(trainRows, base ? labelMap(base.config.labels) : undefined);
  const validIds = mapLabels(validRows, mapping.label2id).ids;
  const labels = labelNames(mapping.id2label, mapping.numClasses);

  const pretrainFiles = values["pretrain-text"]?.split(",").filter(Boolean) ?? [];
  const pretrainText = pretrainFiles.flatMap((f) =>
    readDatasetFile(f, { skipBadRows: true }).examples.map((e) => e.text.replace(/<br\s*\/?>/gi, " ")),
  );
  const trainText = trainRows.map((e) => (e.pair ? `${e.text} ${e.pair}` : e.text));
  const tokenizer =
    base?.tokenizer ??
    buildWordPieceVocabulary([...trainText, ...pretrainText], {
      vocabSize: values["vocab-size"],
      minFrequency: values["min-frequency"],
      stripHtml: values["strip-html"] ?? false,
    });
  const config =
    base?.config ??
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
  const model = base ?? TransformerModel.initialise(config, opts.seed, tokenizer);
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

  const out = resolve(values.out);
  const record = {
    command: ["xait", "train", ...argv].join(" "),
    xait: VERSION,
    seed: opts.seed,
    options: {
      arch,
      layers,
      hidden,
      heads,
      intermediate: arch === "bert" ? intermediate : 0,
      maxLength,
      ...opts,
      averageDecay: opts.averageDecay ?? null,
      validationFraction: fraction ?? null,
      limit: limit ?? null,
      pretrainStd: values["pretrain-text"] ? (pretrainStd ?? INIT_STD) : null,
      freezeEmbeddings: values["freeze-embeddings"],
      stripHtml: base ? null : (values["strip-html"] ?? false),
      init: base ? { dir: initDir, training: initTraining(resolve(initDir!)) } : null,
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
  // Ctrl-C (SIGINT) or SIGTERM: stop after the current step (handlers run between steps, when the
  // trainer yields); exit code 128 + the signal's number, as a shell reports a process killed by it.
  let interrupted: NodeJS.Signals | null = null;
  let saved = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    process.stderr.write(`\n${signal}: stopping after this step\n`);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const progress = createProgress("train");
  const validExamples = validRows.map((e, i) => ({ text: e.text, pair: e.pair, label: validIds[i]! }));
  /** training.json's text, with the wall time so far and `status`. */
  const recordJSON = (status: string) => {
    record.wallSeconds = (Date.now() - started) / 1000;
    record.status = status;
    return JSON.stringify(record, null, 2) + "\n";
  };
  const save = (status: string) => {
    saveModel(model, out, {
      dtype: values.dtype === "f16" ? "F16" : "F32",
      extra: { "training.json": recordJSON(status) },
    });
    saved = true;
  };
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
            save("running");
          }
        },
        shouldStop: () => interrupted !== null,
      },
    );
    progress.done();
    // the folder already holds the best epoch's weights; record the final status beside them
    const finish = (status: string) => writeFileAtomic(resolve(out, "training.json"), recordJSON(status));
    if (result.stopped) {
      if (saved) {
        finish("interrupted");
        process.stderr.write(
          `interrupted: the last good checkpoint (epoch ${record.bestEpoch}) is in ${out}\n`,
        );
      } else process.stderr.write(`interrupted before the first epoch ended: nothing saved\n`);
      return 128 + osConstants.signals[interrupted!];
    }
    finish("finished");
    process.stderr.write(
      `best validation accuracy ${record.bestValidationAccuracy.toFixed(4)} (epoch ${record.bestEpoch}); model in ${out} (${record.wallSeconds.toFixed(0)} s)\n`,
    );
    return 0;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
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
  summary: "train a classifier (bert or the paper's xai-transformer) on a labelled file",
  help: HELP,
  run,
});
