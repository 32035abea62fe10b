/** `xait evaluate perturbation`: the paper's input-perturbation table (AUAC, AUPC, AU-MSE) and figure. */
import { parseArgs } from "node:util";
import { getMethod } from "../explain/index.js";
import { evaluatePerturbation, type PerturbationResult } from "../evaluate/run-perturbation.js";
import { FRACTIONS } from "../evaluate/perturbation.js";
import { loadModel } from "../models/folder-node.js";
import { linePlot, sideBySide } from "../report/plot.js";
import { modelDir, numberFlag } from "./io.js";
import {
  DATA_OPTIONS,
  METHOD_OPTIONS,
  evaluationProgress,
  bootstrapMarkdown,
  bootstrapText,
  fixed,
  formatSeconds,
  markdownTable,
  methodTimes,
  methodsFlag,
  provenance,
  readLabelledFile,
  textTable,
  truncationCounter,
  withInterval,
  writeReport,
  startBackend,
} from "./evaluate-common.js";

/** The object printed by --json and written to results.json. */
export function perturbationJSON(
  model: string,
  data: string,
  r: PerturbationResult,
): Record<string, unknown> {
  return {
    model,
    data,
    n: r.n,
    metrics: r.metrics,
    bootstrap: r.bootstrap,
    curves: r.curves,
    timing: r.timing,
    seed: r.seed,
  };
}

const METRICS = ["AUAC", "AUPC", "AU-MSE"] as const;
const METRIC_LABELS = { AUAC: "AUAC ↑", AUPC: "AUPC ↑", "AU-MSE": "AU-MSE ↓" };

function rows(r: PerturbationResult): string[][] {
  return r.methods.map((id) => [getMethod(id).title, id, ...METRICS.map((k) => fixed(r.metrics[id]![k]))]);
}

/** Table rows with each area's bootstrap interval, for the Markdown report. */
function rowsWithIntervals(r: PerturbationResult): string[][] {
  return r.methods.map((id) => [
    getMethod(id).title,
    id,
    ...METRICS.map((k) => withInterval(r.metrics[id]![k], r.bootstrap.metrics[k].interval[id]!)),
    r.timing[id]!.per_sample_ms.toFixed(1),
  ]);
}

/** The run-time line: total, per sample, the perturbed forward passes, and explanation time per method. */
export function runTimeLine(r: PerturbationResult): string {
  return (
    `run time: ${formatSeconds(r.total_s)} for ${r.n} samples × ${r.methods.length} methods ` +
    `(${((1000 * r.total_s) / r.n).toFixed(1)} ms/sample); perturbed forward passes ${formatSeconds(r.forward_s)} ` +
    `(${r.perturbedInputs} distinct inputs); explanation time: ${methodTimes(r.methods, r.timing)}`
  );
}

/** The paper's figure: the activation (generate) curve on the left, the pruning MSE on the right. */
export function perturbationFigure(r: PerturbationResult): string {
  const series = (pick: "generate" | "mse") =>
    r.methods.map((id) => ({ name: getMethod(id).title, xs: FRACTIONS, ys: r.curves[id]![pick] }));
  return sideBySide([
    linePlot({
      title: "Activation (generate)",
      xLabel: "fraction of tokens put back",
      yLabel: "p(true class)",
      series: series("generate"),
    }),
    linePlot({
      title: "Pruning",
      xLabel: "fraction of tokens removed",
      yLabel: "Σ (y₀ − y)² on the logits",
      series: series("mse"),
    }),
  ]);
}

function markdown(r: PerturbationResult, model: string, data: string, args: string[]): string {
  return [
    `# Input perturbation: ${model} on ${data}`,
    "",
    `${r.n} samples, true class explained; AUAC and AUPC: higher is better, AU-MSE: lower is better ` +
      `(SPEC §4; curves averaged over samples, then trapezoid areas over fractions 0, 0.1, …, 1).`,
    "",
    markdownTable(
      ["method", "id", ...METRICS.map((k) => METRIC_LABELS[k]), "ms/sample"],
      rowsWithIntervals(r),
    ),
    "",
    ...bootstrapMarkdown(r.bootstrap, METRIC_LABELS, r.seed, "samples"),
    "",
    "![perturbation curves](perturbation.svg)",
    "",
    provenance(args, r.total_s),
    `- seed: ${r.seed}`,
    "",
  ].join("\n");
}

export async function runPerturbation(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      ...DATA_OPTIONS,
      ...METHOD_OPTIONS,
    },
  });
  const methods = methodsFlag(values, "all");
  const seed = numberFlag("seed", values.seed, { integer: true }) ?? 42;
  const gamma = numberFlag("gamma", values.gamma, { min: 0 });
  const steps = numberFlag("steps", values.steps, { integer: true, min: 1 });
  const dir = modelDir(values.model);
  await startBackend(values.threads);
  const model = loadModel(dir);
  const { samples } = readLabelledFile(model, values);
  const data = values.data!;
  const progress = evaluationProgress("perturbation");
  const truncation = truncationCounter();
  const r = evaluatePerturbation(model, samples, methods, {
    seed,
    gamma,
    steps,
    onProgress: (done, total) => progress.update(done, total),
    warn: truncation.warn,
  });
  progress.done();
  truncation.report();
  const json = perturbationJSON(dir, data, r);
  if (values.out) {
    const args = ["evaluate", "perturbation", ...argv];
    writeReport(values.out, {
      "results.json": JSON.stringify(json, null, 2) + "\n",
      "results.md": markdown(r, dir, data, args),
      "perturbation.svg": perturbationFigure(r),
    });
  }
  if (values.json) process.stdout.write(JSON.stringify(json) + "\n");
  else {
    process.stdout.write(`input perturbation, ${r.n} samples of ${data} (true class explained)\n`);
    process.stdout.write(textTable(["method", "id", "AUAC↑", "AUPC↑", "AU-MSE↓"], rows(r)) + "\n");
    process.stdout.write(bootstrapText(r.bootstrap, METRIC_LABELS, "samples"));
  }
  (values.json ? process.stderr : process.stdout).write(runTimeLine(r) + "\n");
  return 0;
}
