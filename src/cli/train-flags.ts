/** The flag tables of `xait train` (classifiers and causal language models). */
import { THREADS_FLAG, type FlagTable, type FlagValues } from "./flags.js";

export const ARCHITECTURE_FLAGS = {
  task: {
    kind: "string",
    value: "T",
    choices: ["classify", "causal-lm"],
    default: "classify",
    help: "classify: a sequence classifier on labelled text; causal-lm: a next-token language\nmodel on raw text (--arch gpt2 | llama)",
  },
  arch: {
    kind: "string",
    value: "A",
    choices: ["bert", "xai-transformer", "gpt2", "llama"],
    help: "bert | xai-transformer (the paper's model: attention-only blocks, no mask) |\ngpt2 | llama (decoders with a byte-level BPE vocabulary; classifiers read the\nlast real token) [default: classify bert, causal-lm gpt2]",
  },
  layers: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 48,
    defaultText: "bert 4, xai-transformer 3, gpt2 and llama 4",
    help: "blocks",
  },
  hidden: { kind: "number", value: "N", integer: true, min: 1, max: 4096, default: 256, help: "hidden size" },
  heads: { kind: "number", value: "N", integer: true, min: 1, max: 64, default: 4, help: "attention heads" },
  "kv-heads": {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 64,
    defaultText: "--heads",
    help: "key/value heads of grouped-query attention (llama; must divide --heads)",
  },
  intermediate: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 16384,
    defaultText: "4 × hidden; llama 8/3 × hidden rounded up to 8",
    help: "feed-forward width (bert, gpt2, llama)",
  },
  "max-length": {
    kind: "number",
    value: "N",
    integer: true,
    min: 4,
    max: 4096,
    default: 128,
    help: "maximum tokens per input, special tokens included; causal-lm: the window length\n(with --init at most the model's positions)",
  },
  "vocab-size": {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 262144,
    defaultText: "16000; gpt2 and llama 8000",
    help: "vocabulary cap (byte-level BPE: at least 257, the 256 bytes + <|endoftext|>)",
  },
  "min-frequency": {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 2,
    help: "minimum count of a whole word (WordPiece) or of a merged pair (BPE)",
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
    help: "start from a model folder: its weights, tokenizer, labels and architecture\n(--arch … --pretrain-text are then refused) — to train on, or to fine-tune\non other data. classify: a gpt2 / llama causal LM folder becomes a classifier\n(same body and tokenizer, a new score head); causal-lm: continue an LM folder",
  },
  "crop-batches": {
    kind: "boolean",
    help: "xai-transformer: batch texts of similar length, each batch shortened to its\nshortest text (final [SEP] kept), instead of equal lengths only — for long\ndocuments, where few texts share a length",
  },
} as const satisfies FlagTable;

export const DATA_FLAGS = {
  train: {
    kind: "string",
    value: "FILE",
    help: "TSV (header), CSV or JSON lines; causal-lm: F[,F] — the text column of these\nfiles (labels not read), a .txt file being one document",
  },
  validation: { kind: "string", value: "FILE", help: "validation file (causal-lm: F[,F]), or:" },
  "validation-fraction": {
    kind: "number",
    value: "F",
    min: 0,
    max: 0.9,
    help: "hold out a seeded fraction F of --train (uses --seed); causal-lm: of its documents",
  },
  "text-column": { kind: "string", value: "C", help: "text column [sentence | text | review]" },
  "label-column": { kind: "string", value: "C", help: "label column [label | sentiment]" },
  "skip-bad-rows": { kind: "boolean", help: "skip malformed rows (counted) instead of failing" },
  limit: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    help: "use only the first N training rows or documents (quick experiments)",
  },
} as const satisfies FlagTable;

export const OPTIMISATION_FLAGS = {
  epochs: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 3,
    help: "passes over the training data",
  },
  "batch-size": {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 32,
    help: "texts per step (causal-lm: windows per step)",
  },
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

export const OUTPUT_FLAGS = {
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

export const TRAIN_FLAGS = {
  ...ARCHITECTURE_FLAGS,
  ...DATA_FLAGS,
  ...OPTIMISATION_FLAGS,
  ...OUTPUT_FLAGS,
} as const;

/** The parsed flags of `xait train`. */
export type TrainFlagValues = FlagValues<typeof TRAIN_FLAGS>;
