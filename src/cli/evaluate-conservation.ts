/** `xait evaluate conservation`: Σ_t R_t against the explained logit per sentence, as in the paper's figure. */
import { parseArgs } from "node:util";
import { getMethod } from "../explain/index.js";
import {
  CONSERVATION_METHODS,
  evaluateConservation,
  type ConservationResult,
} from "../evaluate/conservation.js";
import { loadModel } from "../models/folder-node.js";
import { scatterPlot, sideBySide } from "../report/plot.js";
import { modelDir, numberFlag } from "./io.js";
import {
  DATA_OPTIONS,
  METHOD_OPTIONS,
  evaluationProgress,
  fixed,
  formatSeconds,
  markdownTable,
  methodsFlag,
  provenance,
  readLabelledFile,
  textTable,
  methodTimes,
  truncationCounter,
  writeReport,
  startBackend,
} from "./evaluate-common.js";

/** The object printed by --json and written to conservation.json. */
export function conservationJSON(
  model: string,
  data: string,
  r: ConservationResult,
): Record<string, unknown> {
  return {
    model,
    data,
    n: r.n,
    summary: Object.fromEntries(
      r.methods.map((id) => {
        const s = r.summary[id]!;
        return [
          id,
          {
            pearson: s.pearson,
            mean_abs_diff: s.meanAbsDiff,
            slope: s.slope,
            n: s.n,
            ...(s.head ? { head: s.head, encoder: s.encoder } : {}),
          },
        ];
      }),
    ),
    timing: r.timing,
    points: r.points,
  };
}

function rows(r: ConservationResult): string[][] {
  return r.methods.map((id) => {
    const s = r.summary[id]!;
    const pair = (x?: { pearson: number; slope: number }) =>
      x ? `${fixed(x.pearson)} / ${fixed(x.slope)}` : "–";
    return [
      getMethod(id).title,
      id,
      fixed(s.pearson),
      fixed(s.meanAbsDiff),
      fixed(s.slope),
      pair(s.head),
      pair(s.encoder),
      String(s.n),
      r.timing[id]!.per_sample_ms.toFixed(1),
    ];
  });
}

/** head: relevance at the top of the encoder vs f; encoder: relevance at the embeddings vs the top (r / slope). */
const HEADER = [
  "method",
  "id",
  "Pearson r",
  "mean |ΣR − f|",
  "slope",
  "head r / slope",
  "encoder r / slope",
  "n",
  "ms/sentence",
];

/**
 * The paper's conservation figure: Σ_t R_t against f with the diagonal, one panel per method (each
 * with its own range, so that one method's outliers do not flatten the others).
 */
export function conservationFigure(r: ConservationResult): string {
  return sideBySide(
    r.methods.map((id) =>
      scatterPlot({
        title: `${getMethod(id).title}: r = ${fixed(r.summary[id]!.pearson)}`,
        xLabel: "logit f (true class)",
        yLabel: "relevance sum Σ R",
        diagonal: true,
        width: 440,
        height: 340,
        series: [{ name: id, xs: r.points.map((p) => p.logit), ys: r.points.map((p) => p.sums[id]!) }],
      }),
    ),
  );
}

export async function runConservation(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      ...DATA_OPTIONS,
      ...METHOD_OPTIONS,
    },
  });
  const methods = methodsFlag(values, CONSERVATION_METHODS.join(","));
  const gamma = numberFlag("gamma", values.gamma, { min: 0 });
  const steps = numberFlag("steps", values.steps, { integer: true, min: 1 });
  const seed = numberFlag("seed", values.seed, { integer: true }) ?? 42;
  const dir = modelDir(values.model);
  await startBackend(values.threads);
  const model = loadModel(dir);
  const { samples } = readLabelledFile(model, values);
  const data = values.data!;
  const progress = evaluationProgress("conservation");
  const truncation = truncationCounter();
  const started = performance.now();
  const r = evaluateConservation(model, samples, methods, {
    gamma,
    steps,
    seed,
    onProgress: (done, total) => progress.update(done, total),
    warn: truncation.warn,
  });
  progress.done();
  truncation.report();
  const seconds = (performance.now() - started) / 1000;
  const json = conservationJSON(dir, data, r);
  if (values.out) {
    const md = [
      `# Conservation: ${dir} on ${data}`,
      "",
      `${r.n} sentences; Σ_t R_t of each method against the logit f of the true class (conservative = on the diagonal: r = 1, slope = 1, mean |ΣR − f| = 0).`,
      "",
      markdownTable(HEADER, rows(r)),
      "",
      "head: relevance at the top of the encoder (after the classifier head's backward pass) against f; " +
        "encoder: relevance at the embeddings against that at the top of the encoder (Pearson r / slope), " +
        "for methods that report per-block sums.",
      "",
      "![conservation scatter](conservation.svg)",
      "",
      provenance(["evaluate", "conservation", ...argv], seconds),
      "",
    ].join("\n");
    writeReport(values.out, {
      "conservation.json": JSON.stringify(json, null, 2) + "\n",
      "conservation.md": md,
      "conservation.svg": conservationFigure(r),
    });
  }
  const timeLine =
    `run time: ${formatSeconds(seconds)} for ${r.n} sentences (${((1000 * seconds) / r.n).toFixed(1)} ms/sentence); ` +
    `explanation time: ${methodTimes(r.methods, r.timing, "sentence")}\n`;
  if (values.json) {
    process.stdout.write(JSON.stringify(json) + "\n");
    process.stderr.write(timeLine);
  } else {
    process.stdout.write(`conservation, ${r.n} sentences of ${data} (true class explained)\n`);
    process.stdout.write(textTable(HEADER, rows(r)) + "\n" + timeLine);
  }
  return 0;
}
