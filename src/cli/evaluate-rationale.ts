/**
 * `xait evaluate rationale`: agreement of relevance with human rationales — the Tweet Sentiment
 * Extraction `selected_text` spans (positive and negative tweets of the held-out split) and the SST
 * treebank's word labels (binary dev sentences).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { usageError, XaitError } from "../errors.js";
import { getMethod } from "../explain/index.js";
import { classByName } from "../evaluate/labels.js";
import { evaluateRationale, type RationaleResult, type RationaleSample } from "../evaluate/rationale.js";
import { parseSstTrees, sstRationale, tweetRationale } from "../evaluate/rationale-data.js";
import type { TransformerModel } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { splitDataset } from "../train/data.js";
import { dataFolder, readDatasetFile } from "../train/data-node.js";
import { modelDir, numberFlag } from "./io.js";
import {
  bootstrapMarkdown,
  bootstrapText,
  evaluationProgress,
  METHOD_OPTIONS,
  fixed,
  formatSeconds,
  limitFlag,
  markdownTable,
  methodsFlag,
  methodTimes,
  provenance,
  textTable,
  truncationCounter,
  withInterval,
  writeReport,
  startBackend,
} from "./evaluate-common.js";

export const RATIONALE_DATA = ["tweets", "sst-trees"] as const;
export type RationaleData = (typeof RATIONALE_DATA)[number];

/** The held-out fraction of the tweet file (the same split `xait train --validation-fraction 0.1` makes). */
export const TWEET_VALIDATION_FRACTION = 0.1;

export interface RationaleSet {
  samples: RationaleSample[];
  /** How the set was made, for the report. */
  description: string;
}

/**
 * Positive and negative tweets of the held-out split of tweet-sentiment-extraction/train.csv:
 * the rows as `xait train` reads them (columns text / sentiment, malformed rows skipped, file
 * order), split by `splitDataset(rows, 0.1, seed)`; the validation part, positive and negative
 * only, first `limit`. A tweet whose selected text is empty or not found has an empty rationale.
 */
export function tweetSamples(
  model: TransformerModel,
  file: string,
  seed: number,
  limit?: number,
): RationaleSet {
  const columns = { skipBadRows: true, textColumn: "text", labelColumn: "sentiment" };
  const rows = readDatasetFile(file, columns).examples;
  // The same rows again with selected_text as the pair; rows with an empty selection are missing
  // here, so this is a subsequence of `rows` in the same order.
  const withSpan = readDatasetFile(file, { ...columns, pairColumn: "selected_text" }).examples;
  let j = 0;
  const selected = rows.map((e) => {
    const s = withSpan[j];
    if (s && s.text === e.text && s.label === e.label) {
      j++;
      return s.pair;
    }
    return undefined;
  });
  if (j !== withSpan.length)
    throw new XaitError(`${file}: could not match the selected_text column to the rows`);
  const { validation } = splitDataset(
    rows.map((e, i) => ({ ...e, selected: selected[i] })),
    TWEET_VALIDATION_FRACTION,
    seed,
  );
  const polar = validation.filter((e) => /^(positive|negative)$/i.test(e.label));
  const chosen = limit === undefined ? polar : polar.slice(0, limit);
  const target = { positive: classByName(model, "positive"), negative: classByName(model, "negative") };
  const samples = chosen.map((e) => {
    const r = e.selected === undefined ? null : tweetRationale(e.text, e.selected);
    return {
      text: e.text,
      words: r?.words ?? [],
      mask: r?.mask ?? [],
      target: target[e.label.toLowerCase() as "positive" | "negative"],
    };
  });
  return {
    samples,
    description:
      `${file}: held-out ${TWEET_VALIDATION_FRACTION * 100}% (splitDataset, seed ${seed}) of ${rows.length} rows = ` +
      `${validation.length} tweets, ${polar.length} positive/negative${limit !== undefined ? `, first ${chosen.length}` : ""}`,
  };
}

/**
 * Binary sentences (root label ≠ 2) of an SST treebank file: the rationale is the words labelled
 * with the sentence's polarity (0-1 negative, 3-4 positive); the gold class is explained.
 */
export function sstSamples(model: TransformerModel, file: string, limit?: number): RationaleSet {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new XaitError(
      `cannot read treebank ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  const trees = parseSstTrees(text, file);
  const binary = trees.map(sstRationale).filter((r) => r !== null);
  const chosen = limit === undefined ? binary : binary.slice(0, limit);
  const target = [
    classByName(model, "negative", { id: 0, classes: 2 }),
    classByName(model, "positive", { id: 1, classes: 2 }),
  ];
  return {
    samples: chosen.map((r) => ({ text: r.text, words: r.words, mask: r.mask, target: target[r.target]! })),
    description: `${file}: ${trees.length} trees, ${binary.length} binary sentences${limit !== undefined ? `, first ${chosen.length}` : ""}`,
  };
}

function defaultFile(data: RationaleData): string {
  return data === "tweets"
    ? join(dataFolder(), "tweet-sentiment-extraction", "train.csv")
    : join(dataFolder(), "sst-trees", "dev.txt");
}

const METRIC_LABELS = { auprc: "AUPRC ↑", f1: "top-k F1 ↑" };

/** Table rows; with `intervals`, each mean with its bootstrap interval (the Markdown report). */
function rows(r: RationaleResult, intervals = false): string[][] {
  const cell = (id: string, k: "auprc" | "f1") =>
    intervals
      ? withInterval(r.metrics[id]![k], r.bootstrap.metrics[k].interval[id]!)
      : fixed(r.metrics[id]![k]);
  return r.methods.map((id) => [
    getMethod(id).title,
    id,
    cell(id, "auprc"),
    cell(id, "f1"),
    r.timing[id]!.per_sample_ms.toFixed(1),
  ]);
}

const HEADER = ["method", "id", "AUPRC↑", "top-k F1↑", "ms/text"];

export async function runRationale(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      data: { type: "string" },
      file: { type: "string" },
      limit: { type: "string" },
      ...METHOD_OPTIONS,
    },
  });
  const data = values.data;
  if (data === undefined) throw usageError(`--data is required: ${RATIONALE_DATA.join(" or ")}`);
  if (!(RATIONALE_DATA as readonly string[]).includes(data))
    throw usageError(`--data must be ${RATIONALE_DATA.join(" or ")}, got '${data}'`);
  if (positionals.length > 1 || (positionals.length === 1 && values.file !== undefined))
    throw usageError("give one rationale file (--file FILE)");
  const methods = methodsFlag(values, "all");
  const limit = limitFlag(values.limit);
  const seed = numberFlag("seed", values.seed, { integer: true }) ?? 42;
  const gamma = numberFlag("gamma", values.gamma, { min: 0 });
  const steps = numberFlag("steps", values.steps, { integer: true, min: 1 });
  const file = values.file ?? positionals[0] ?? defaultFile(data as RationaleData);
  const dir = modelDir(values.model);
  await startBackend(values.threads);
  const model = loadModel(dir);
  const set = data === "tweets" ? tweetSamples(model, file, seed, limit) : sstSamples(model, file, limit);
  if (set.samples.length === 0) throw new XaitError(`${set.description}: nothing to evaluate`);
  const progress = evaluationProgress(`rationale ${data}`);
  const truncation = truncationCounter();
  const started = performance.now();
  const r = evaluateRationale(model, set.samples, methods, {
    seed,
    gamma,
    steps,
    onProgress: (done, total) => progress.update(done, total),
    warn: truncation.warn,
  });
  progress.done();
  truncation.report();
  const seconds = (performance.now() - started) / 1000;
  const json = {
    model: dir,
    data,
    file,
    n: r.n,
    skipped: r.skipped,
    seed,
    metrics: r.metrics,
    bootstrap: r.bootstrap,
    timing: r.timing,
    set: set.description,
  };
  const summary = `${r.n} texts evaluated, ${r.skipped} skipped for an empty rationale (${set.description})`;
  if (values.out) {
    const md = [
      `# Rationale agreement: ${dir} on ${data}`,
      "",
      `${summary}. Labelled class explained; word-piece relevance summed to words; AUPRC = average precision of the word ranking against the human rationale, top-k F1 with k = rationale length in words; means over texts. The \`random\` row is the chance baseline.`,
      "",
      markdownTable(HEADER, rows(r, true)),
      "",
      ...bootstrapMarkdown(r.bootstrap, METRIC_LABELS, seed, "texts"),
      "",
      provenance(["evaluate", "rationale", ...argv], seconds),
      `- seed: ${seed}`,
      "",
    ].join("\n");
    writeReport(values.out, {
      [`rationale-${data}.json`]: JSON.stringify(json, null, 2) + "\n",
      [`rationale-${data}.md`]: md,
    });
  }
  const timeLine =
    `run time: ${formatSeconds(seconds)} (${((1000 * seconds) / Math.max(1, set.samples.length)).toFixed(1)} ms/text); ` +
    `explanation time: ${methodTimes(r.methods, r.timing, "text")}\n`;
  if (values.json) {
    process.stdout.write(JSON.stringify(json) + "\n");
    process.stderr.write(timeLine);
  } else {
    process.stdout.write(
      `rationale agreement: ${summary}\n${textTable(HEADER, rows(r))}\n` +
        bootstrapText(r.bootstrap, METRIC_LABELS, "texts") +
        timeLine,
    );
  }
  return 0;
}
