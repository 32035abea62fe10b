/** `xait evaluate accuracy`: accuracy and per-class precision/recall/F1 of a model on a labelled file. */
import { parseArgs } from "node:util";
import { evaluateAccuracy, type AccuracyResult } from "../evaluate/accuracy.js";
import { loadModel } from "../models/folder-node.js";
import { modelDir } from "./io.js";
import {
  DATA_OPTIONS,
  evaluationProgress,
  fixed,
  formatSeconds,
  readLabelledFile,
  textTable,
  truncationCounter,
  startBackend,
} from "./evaluate-common.js";

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

export async function runAccuracy(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      ...DATA_OPTIONS,
      json: { type: "boolean", default: false },
      threads: { type: "string" },
    },
  });
  const dir = modelDir(values.model);
  await startBackend(values.threads);
  const model = loadModel(dir);
  const { samples, skippedRows } = readLabelledFile(model, values);
  const progress = evaluationProgress("accuracy");
  const truncation = truncationCounter();
  const started = performance.now();
  const r = evaluateAccuracy(model, samples, {
    onProgress: (d, t) => progress.update(d, t),
    warn: truncation.warn,
  });
  progress.done();
  truncation.report();
  const seconds = (performance.now() - started) / 1000;
  const timeLine = `run time: ${formatSeconds(seconds)} (${((1000 * seconds) / r.n).toFixed(2)} ms/example)\n`;
  if (values.json) {
    process.stdout.write(JSON.stringify(accuracyJSON(dir, values.data!, r, skippedRows)) + "\n");
    process.stderr.write(timeLine);
    return 0;
  }
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
  process.stdout.write(
    `accuracy ${fixed(r.accuracy, 4)} (${Math.round(r.accuracy * r.n)}/${r.n}) on ${values.data}, macro F1 ${fixed(r.macroF1, 4)}\n${table}\n${timeLine}`,
  );
  return 0;
}
