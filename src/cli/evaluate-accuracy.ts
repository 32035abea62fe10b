/** `xait evaluate accuracy`: accuracy and per-class precision/recall/F1 of a model on a labelled file. */
import { accuracyResult, predictAll, type AccuracyResult } from "../evaluate/accuracy.js";
import { loadModel } from "../models/folder-node.js";
import { modelDir } from "./io.js";
import { parseFlags } from "./flags.js";
import {
  DATA_FLAGS,
  MODEL_FLAG,
  dataOptions,
  fixed,
  formatSeconds,
  readLabelledFile,
  textTable,
  truncationCounter,
} from "./evaluate-common.js";
import { registerReporter, runEvaluation, runJSON, RUN_FLAGS, type Report } from "./evaluate-skeleton.js";

/** The object printed by --json: per-class scores keyed by label name. */
export function accuracyJSON(
  model: string,
  data: string,
  r: AccuracyResult,
  skippedRows: number,
): Record<string, unknown> {
  return {
    model,
    data,
    n: r.n,
    accuracy: r.accuracy,
    macro_f1: r.macroF1,
    classes: Object.fromEntries(
      r.classes.map((c) => [
        c.label,
        { precision: c.precision, recall: c.recall, f1: c.f1, support: c.support },
      ]),
    ),
    labels: r.classes.map((c) => c.label),
    confusion: r.confusion,
    skipped_rows: skippedRows,
  };
}

/** One text's part: its predicted and gold class ids. */
interface AccuracySampleResult {
  predicted: number;
  gold: number;
}

registerReporter("accuracy", {
  files: () => ["accuracy.json", "accuracy-run.json"],
  report(header, results, run): Report {
    const { model, data, labels, skipped } = header.context as {
      model: string;
      data: string;
      labels: string[];
      skipped: number;
    };
    const parts = results as AccuracySampleResult[];
    const r = accuracyResult(
      labels,
      parts.map((p) => p.predicted),
      parts.map((p) => p.gold),
    );
    const json = accuracyJSON(model, data, r, skipped);
    const table = textTable(
      ["class", "precision", "recall", "F1", "support"],
      r.classes.map((c) => [
        c.label,
        fixed(c.precision, 4),
        fixed(c.recall, 4),
        fixed(c.f1, 4),
        String(c.support),
      ]),
    );
    return {
      files: {
        "accuracy.json": JSON.stringify(json, null, 2) + "\n",
        "accuracy-run.json": JSON.stringify(runJSON(run, {}), null, 2) + "\n",
      },
      text: `accuracy ${fixed(r.accuracy, 4)} (${Math.round(r.accuracy * r.n)}/${r.n}) on ${data}, macro F1 ${fixed(r.macroF1, 4)}\n${table}\n`,
      json,
      timeLine: `run time: ${formatSeconds(run.seconds)} (${((1000 * run.seconds) / r.n).toFixed(2)} ms/example)\n`,
    };
  },
});

export const ACCURACY_FLAGS = {
  model: MODEL_FLAG,
  ...DATA_FLAGS,
  ...RUN_FLAGS,
  block: { ...RUN_FLAGS.block, default: 32, help: "texts per forward pass (and per shard slice)" },
} as const;

export async function runAccuracy(argv: string[]): Promise<number> {
  const { values } = parseFlags(ACCURACY_FLAGS, argv);
  return runEvaluation("accuracy", argv, values, () => {
    const dir = modelDir(values.model);
    const model = loadModel(dir);
    const { samples, skippedRows } = readLabelledFile(model, values);
    const truncation = truncationCounter();
    return {
      name: "accuracy",
      evaluation: "accuracy",
      total: samples.length,
      modelDir: dir,
      dataFile: values.data!,
      methods: [],
      seed: values.seed,
      options: dataOptions(values),
      context: { model: dir, data: values.data!, labels: model.config.labels, skipped: skippedRows },
      *run(pending, block) {
        // blocks of consecutive texts, predicted together (the same blocks in every run and shard)
        for (let from = 0; from < samples.length; from += block) {
          const ids = Array.from({ length: Math.min(block, samples.length - from) }, (_, k) => from + k);
          if (!ids.some(pending)) continue;
          const predicted = predictAll(
            model,
            ids.map((i) => samples[i]!),
            { batchSize: block, warn: truncation.warn },
          );
          for (const [k, i] of ids.entries())
            if (pending(i)) yield { index: i, result: { predicted: predicted[k]!, gold: samples[i]!.label } };
        }
      },
      finish: truncation.report,
    };
  });
}
