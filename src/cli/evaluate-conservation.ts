/** `xait evaluate conservation`: Σ_t R_t against the explained logit per sentence, as in the paper's figure. */
import { getMethod } from "../explain/index.js";
import {
  CONSERVATION_METHODS,
  conservationResult,
  conservationSample,
  type ConservationResult,
  type ConservationSampleResult,
} from "../evaluate/conservation.js";
import { scatterPlot, sideBySide } from "../report/plot.js";
import { labelledPlan, NEXT_TOKEN_FLAGS, sampleContext } from "./evaluate-labelled.js";
import { parseFlags } from "./flags.js";
import {
  DATA_FLAGS,
  METHOD_FLAGS,
  MODEL_FLAG,
  fixed,
  formatSeconds,
  markdownTable,
  methodTimes,
  runSection,
  textTable,
} from "./evaluate-common.js";
import { registerReporter, runEvaluation, runJSON, RUN_FLAGS, type Report } from "./evaluate-skeleton.js";

/** The object written to conservation.json (--json adds the timing; timings go to conservation-run.json). */
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
];

/**
 * The paper's conservation figure: Σ_t R_t against f with the diagonal, one panel per method (each
 * with its own range, so that one method's outliers do not flatten the others).
 */
export function conservationFigure(r: ConservationResult, target = "the true class"): string {
  return sideBySide(
    r.methods.map((id) =>
      scatterPlot({
        title: `${getMethod(id).title}: r = ${fixed(r.summary[id]!.pearson)}`,
        xLabel: `logit f (${target.replace(/^the /, "")})`,
        yLabel: "relevance sum Σ R",
        diagonal: true,
        width: 440,
        height: 340,
        series: [{ name: id, xs: r.points.map((p) => p.logit), ys: r.points.map((p) => p.sums[id]!) }],
      }),
    ),
  );
}

registerReporter("conservation", {
  files: () => ["conservation.json", "conservation.md", "conservation.svg", "conservation-run.json"],
  report(header, results, run): Report {
    const { model, data, target } = sampleContext(header.context);
    const r = conservationResult(header.identity.methods, results as ConservationSampleResult[]);
    const json = conservationJSON(model, data, r);
    const times = methodTimes(r.methods, r.timing, "sentence");
    const md = [
      `# Conservation: ${model} on ${data}`,
      "",
      `${r.n} sentences; Σ_t R_t of each method against the logit f of ${target} (conservative = on the diagonal: r = 1, slope = 1, mean |ΣR − f| = 0).`,
      "",
      markdownTable(HEADER, rows(r)),
      "",
      "head: relevance at the top of the encoder (after the classifier head's backward pass) against f; " +
        "encoder: relevance at the embeddings against that at the top of the encoder (Pearson r / slope), " +
        "for methods that report per-block sums.",
      "",
      "![conservation scatter](conservation.svg)",
      "",
      runSection(run, times),
    ].join("\n");
    return {
      files: {
        "conservation.json": JSON.stringify(json, null, 2) + "\n",
        "conservation.md": md,
        "conservation.svg": conservationFigure(r, target),
        "conservation-run.json": JSON.stringify(runJSON(run, r.timing), null, 2) + "\n",
      },
      text: `conservation, ${r.n} sentences of ${data} (${target} explained)\n${textTable(HEADER, rows(r))}\n`,
      json: { ...json, timing: r.timing },
      timeLine:
        `run time: ${formatSeconds(run.seconds)} for ${r.n} sentences (${((1000 * run.seconds) / r.n).toFixed(1)} ms/sentence); ` +
        `explanation time: ${times}\n`,
    };
  },
});

export const CONSERVATION_FLAGS = {
  model: MODEL_FLAG,
  ...DATA_FLAGS,
  ...NEXT_TOKEN_FLAGS,
  ...METHOD_FLAGS,
  ...RUN_FLAGS,
} as const;

export async function runConservation(argv: string[]): Promise<number> {
  const { values } = parseFlags(CONSERVATION_FLAGS, argv);
  return runEvaluation("conservation", argv, values, () =>
    labelledPlan("conservation", values, CONSERVATION_METHODS.join(","), (seed) => seed, conservationSample),
  );
}
