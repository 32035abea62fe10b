/**
 * `xait evaluate rationale`: agreement of relevance with human rationales — the Tweet Sentiment
 * Extraction `selected_text` spans (positive and negative tweets of the held-out split) and the SST
 * treebank's word labels (binary dev sentences).
 */
import { parseRuleList } from "../models/index.js";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { usageError, XaitError } from "../errors.js";
import { getMethod } from "../explain/index.js";
import { classByName } from "../evaluate/labels.js";
import {
  checkRationaleSamples,
  hasRationale,
  rationaleResult,
  rationaleSample,
  type RationaleResult,
  type RationaleSample,
  type RationaleSampleResult,
} from "../evaluate/rationale.js";
import { parseSstTrees, sstRationale, tweetRationale } from "../evaluate/rationale-data.js";
import { sampleSeed } from "../evaluate/run-perturbation.js";
import { explainSamples } from "../evaluate/sample-loop.js";
import type { TransformerModel } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { splitDataset } from "../train/data.js";
import { dataFolder, readDatasetFile } from "../train/data-node.js";
import { modelDir } from "./io.js";
import { parseFlags, type FlagTable } from "./flags.js";
import {
  bootstrapMarkdown,
  bootstrapText,
  METHOD_FLAGS,
  MODEL_FLAG,
  fixed,
  formatSeconds,
  markdownTable,
  methodsFlag,
  methodTimes,
  runSection,
  textTable,
  truncationCounter,
  withInterval,
} from "./evaluate-common.js";
import { registerReporter, runEvaluation, runJSON, RUN_FLAGS, type Report } from "./evaluate-skeleton.js";

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
  const file =
    data === "tweets"
      ? join(dataFolder(), "tweet-sentiment-extraction", "train.csv")
      : join(dataFolder(), "sst-trees", "dev.txt");
  // relative to the working directory, so that reports name it the same on every machine
  return relative(process.cwd(), file);
}

const METRIC_LABELS = { auprc: "AUPRC ↑", f1: "top-k F1 ↑" };

/** Table rows; with `intervals`, each mean with its bootstrap interval (the Markdown report). */
function rows(r: RationaleResult, intervals = false): string[][] {
  const cell = (id: string, k: "auprc" | "f1") =>
    intervals
      ? withInterval(r.metrics[id]![k], r.bootstrap.metrics[k].interval[id]!)
      : fixed(r.metrics[id]![k]);
  return r.methods.map((id) => [getMethod(id).title, id, cell(id, "auprc"), cell(id, "f1")]);
}

const HEADER = ["method", "id", "AUPRC↑", "top-k F1↑"];

registerReporter("rationale", {
  files: (header) => {
    const { data } = header.context as { data: string };
    return [`rationale-${data}.json`, `rationale-${data}.md`, `rationale-${data}-run.json`];
  },
  report(header, results, run): Report {
    const { model, data, file, set } = header.context as {
      model: string;
      data: string;
      file: string;
      set: string;
    };
    const seed = header.identity.seed;
    const r = rationaleResult(header.identity.methods, results as RationaleSampleResult[], seed);
    const json = {
      model,
      data,
      file,
      n: r.n,
      skipped: r.skipped,
      seed,
      metrics: r.metrics,
      bootstrap: r.bootstrap,
      set,
    };
    const summary = `${r.n} texts evaluated, ${r.skipped} skipped for an empty rationale (${set})`;
    const times = methodTimes(r.methods, r.timing, "text");
    const md = [
      `# Rationale agreement: ${model} on ${data}`,
      "",
      `${summary}. Labelled class explained; word-piece relevance summed to words; AUPRC = average precision of the word ranking against the human rationale, top-k F1 with k = rationale length in words; means over texts. The \`random\` row is the chance baseline.`,
      "",
      markdownTable(HEADER, rows(r, true)),
      "",
      ...bootstrapMarkdown(r.bootstrap, METRIC_LABELS, seed, "texts"),
      "",
      `- seed: ${seed}`,
      "",
      runSection(run, times),
    ].join("\n");
    const total = r.n + r.skipped;
    return {
      files: {
        [`rationale-${data}.json`]: JSON.stringify(json, null, 2) + "\n",
        [`rationale-${data}.md`]: md,
        [`rationale-${data}-run.json`]: JSON.stringify(runJSON(run, r.timing), null, 2) + "\n",
      },
      text:
        `rationale agreement: ${summary}\n${textTable(HEADER, rows(r))}\n` +
        bootstrapText(r.bootstrap, METRIC_LABELS, "texts"),
      json: { ...json, timing: r.timing },
      timeLine:
        `run time: ${formatSeconds(run.seconds)} (${((1000 * run.seconds) / Math.max(1, total)).toFixed(1)} ms/text); ` +
        `explanation time: ${times}\n`,
    };
  },
});

export const RATIONALE_FLAGS = {
  model: MODEL_FLAG,
  data: {
    kind: "string",
    value: "SET",
    choices: RATIONALE_DATA,
    help: "the rationale set: tweets or sst-trees",
  },
  file: { kind: "string", value: "FILE", help: "the set's file (default under $XAIT_DATA)" },
  limit: { kind: "number", value: "N", integer: true, min: 1, help: "only the first N candidate texts" },
  seed: {
    kind: "number",
    value: "S",
    integer: true,
    min: 0,
    default: 42,
    help: "seed of the random baseline, of the tweets' held-out split and of the bootstrap",
  },
  ...METHOD_FLAGS,
  ...RUN_FLAGS,
} as const satisfies FlagTable;

export async function runRationale(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(RATIONALE_FLAGS, argv, { positionals: true });
  const data = values.data as RationaleData | undefined;
  if (data === undefined) throw usageError(`--data is required: ${RATIONALE_DATA.join(" or ")}`);
  if (positionals.length > 1 || (positionals.length === 1 && values.file !== undefined))
    throw usageError("give one rationale file (--file FILE)");
  return runEvaluation("rationale", argv, values, () => {
    const methods = methodsFlag(values, "all");
    const { limit, seed, gamma, steps } = values;
    const rules = parseRuleList(values.rule === undefined ? [] : [values.rule]);
    const file = values.file ?? positionals[0] ?? defaultFile(data);
    const dir = modelDir(values.model);
    const model = loadModel(dir);
    const set = data === "tweets" ? tweetSamples(model, file, seed, limit) : sstSamples(model, file, limit);
    if (set.samples.length === 0) throw new XaitError(`${set.description}: nothing to evaluate`);
    checkRationaleSamples(model, set.samples);
    const truncation = truncationCounter();
    return {
      name: `rationale-${data}`,
      evaluation: "rationale",
      total: set.samples.length,
      modelDir: dir,
      dataFile: file,
      methods,
      seed,
      options: {
        data,
        gamma,
        steps,
        ...(Object.keys(rules).length ? { rules: JSON.stringify(rules) } : {}),
        limit: limit ?? null,
      },
      context: { model: dir, data, file, set: set.description },
      *run(pending, block) {
        const samples = set.samples;
        const toExplain = samples.flatMap((s, index) =>
          hasRationale(s) ? [{ index, input: s.text, target: s.target }] : [],
        );
        const loop = explainSamples(model, toExplain, methods, pending, {
          gamma,
          steps,
          rules,
          seedOf: (i) => sampleSeed(seed, i),
          block,
          warn: truncation.warn,
        });
        let next = 0;
        const skippedBefore = function* (end: number) {
          for (; next < end; next++)
            if (!hasRationale(samples[next]!) && pending(next))
              yield { index: next, result: { skipped: true } };
        };
        for (const e of loop) {
          yield* skippedBefore(e.index);
          yield { index: e.index, result: rationaleSample(methods, samples[e.index]!, e) };
        }
        yield* skippedBefore(samples.length);
      },
      finish: truncation.report,
    };
  });
}
