/** `xait evaluate perturbation`: the paper's input-perturbation table (AUAC, AUPC, AU-MSE) and figure. */
import { getMethod } from "../explain/index.js";
import {
  perturbationResult,
  perturbationSample,
  sampleSeed,
  type PerturbationResult,
  type PerturbationSampleResult,
} from "../evaluate/run-perturbation.js";
import { FRACTIONS } from "../evaluate/perturbation.js";
import { linePlot, sideBySide } from "../report/plot.js";
import { labelledPlan, NEXT_TOKEN_FLAGS, sampleContext } from "./evaluate-labelled.js";
import { parseFlags } from "./flags.js";
import {
  DATA_FLAGS,
  METHOD_FLAGS,
  MODEL_FLAG,
  bootstrapMarkdown,
  bootstrapText,
  fixed,
  formatSeconds,
  markdownTable,
  methodTimes,
  runSection,
  textTable,
  withInterval,
} from "./evaluate-common.js";
import {
  registerReporter,
  runEvaluation,
  runJSON,
  RUN_FLAGS,
  type Report,
  type RunInfo,
} from "./evaluate-skeleton.js";

/** The object printed by --json and written to results.json (timings go to perturbation-run.json). */
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
export function perturbationFigure(r: PerturbationResult, target = "the true class"): string {
  const series = (pick: "generate" | "mse") =>
    r.methods.map((id) => ({ name: getMethod(id).title, xs: FRACTIONS, ys: r.curves[id]![pick] }));
  return sideBySide([
    linePlot({
      title: "Activation (generate)",
      xLabel: "fraction of tokens put back",
      yLabel: `p(${target.replace(/^the /, "")})`,
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

function markdown(r: PerturbationResult, model: string, data: string, target: string, run: RunInfo): string {
  return [
    `# Input perturbation: ${model} on ${data}`,
    "",
    `${r.n} samples, ${target} explained; AUAC and AUPC: higher is better, AU-MSE: lower is better ` +
      `(curves averaged over samples, then trapezoid areas over fractions 0, 0.1, …, 1).`,
    "",
    markdownTable(["method", "id", ...METRICS.map((k) => METRIC_LABELS[k])], rowsWithIntervals(r)),
    "",
    ...bootstrapMarkdown(r.bootstrap, METRIC_LABELS, r.seed, "samples"),
    "",
    "![perturbation curves](perturbation.svg)",
    "",
    `- seed: ${r.seed}`,
    "",
    runSection(run, methodTimes(r.methods, r.timing)),
  ].join("\n");
}

registerReporter("perturbation", {
  files: () => ["results.json", "results.md", "perturbation.svg", "perturbation-run.json"],
  report(header, results, run): Report {
    const { model, data, target } = sampleContext(header.context);
    const id = header.identity;
    const r = perturbationResult(
      id.methods,
      results as PerturbationSampleResult[],
      id.seed,
      run.seconds * 1000,
    );
    const json = perturbationJSON(model, data, r);
    const text =
      `input perturbation, ${r.n} samples of ${data} (${target} explained)\n` +
      textTable(["method", "id", "AUAC↑", "AUPC↑", "AU-MSE↓"], rows(r)) +
      "\n" +
      bootstrapText(r.bootstrap, METRIC_LABELS, "samples");
    return {
      files: {
        "results.json": JSON.stringify(json, null, 2) + "\n",
        "results.md": markdown(r, model, data, target, run),
        "perturbation.svg": perturbationFigure(r, target),
        "perturbation-run.json": JSON.stringify(runJSON(run, r.timing), null, 2) + "\n",
      },
      text,
      json: { ...json, timing: r.timing },
      timeLine: runTimeLine(r) + "\n",
    };
  },
});

export const PERTURBATION_FLAGS = {
  model: MODEL_FLAG,
  ...DATA_FLAGS,
  ...NEXT_TOKEN_FLAGS,
  ...METHOD_FLAGS,
  ...RUN_FLAGS,
} as const;

export async function runPerturbation(argv: string[]): Promise<number> {
  const { values } = parseFlags(PERTURBATION_FLAGS, argv);
  return runEvaluation("perturbation", argv, values, () =>
    labelledPlan("perturbation", values, "all", (seed, i) => sampleSeed(seed, i), perturbationSample),
  );
}
