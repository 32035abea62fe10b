/**
 * The plans of the evaluations that explain samples with the chosen methods and turn each explained
 * sample into a journal record (perturbation and conservation). The samples are either the texts
 * of a labelled file with their true class, or — with --next-token — windows of held-out text for a
 * language model with the true next token. The evaluations differ only in their default methods,
 * the `random` baseline's seed per sample, and what they compute from an explained sample.
 */
import { usageError, XaitError } from "../errors.js";
import type { TransformerModel } from "../models/index.js";
import { parseRuleList } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { labelledInput } from "../evaluate/run-perturbation.js";
import { nextTokenWindows } from "../evaluate/next-token.js";
import { explainSamples, type ExplainedSample, type SampleToExplain } from "../evaluate/sample-loop.js";
import { seededSubset, splitDataset } from "../train/data.js";
import { readDocuments } from "./documents.js";
import {
  dataOptions,
  methodsFlag,
  readLabelledFile,
  truncationCounter,
  type DataFlags,
} from "./evaluate-common.js";
import type { EvaluationPlan } from "./evaluate-skeleton.js";
import type { FlagTable } from "./flags.js";
import { modelDir } from "./io.js";

/** --next-token and --window: the language-model form of perturbation and conservation. */
export const NEXT_TOKEN_FLAGS = {
  "next-token": {
    kind: "boolean",
    help: "a causal language model on raw text: --data F[,F] are documents (their text\ncolumn, or whole .txt files), each cut into windows of --window tokens plus the\ntrue next token, which is explained (--validation-fraction F: only the documents\n`xait train --task causal-lm --validation-fraction F --seed S` held out)",
  },
  window: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: 64,
    help: "--next-token: input tokens per window",
  },
} as const satisfies FlagTable;

export interface LabelledValues extends DataFlags {
  model?: string;
  methods?: string;
  method?: string;
  gamma: number;
  steps: number;
  rule?: string;
  seed: number;
  data?: string;
  "next-token"?: boolean;
  window?: number;
}

type PerSample = (
  model: TransformerModel,
  methods: string[],
  sample: ExplainedSample,
  target: number,
) => unknown;

/** What a plan explains: the model, its samples and what describes them. */
interface Samples {
  dir: string;
  model: TransformerModel;
  toExplain: SampleToExplain[];
  /** Options beyond the data flags that change which samples there are. */
  options: Record<string, string | number | boolean | null>;
  context: Record<string, unknown>;
}

export function labelledPlan(
  evaluation: string,
  values: LabelledValues,
  defaultMethods: string,
  seedOf: (seed: number, index: number) => number,
  perSample: PerSample,
): EvaluationPlan {
  const dir = modelDir(values.model);
  const model = loadModel(dir);
  const samples = values["next-token"]
    ? nextTokenSamples(dir, model, values)
    : (() => {
        if (values.window !== undefined && values.window !== NEXT_TOKEN_FLAGS.window.default)
          throw usageError("--window applies to --next-token only");
        const { samples } = readLabelledFile(model, values);
        return {
          dir,
          model,
          toExplain: samples.map((s, index) => ({ index, input: labelledInput(s), target: s.label })),
          options: {},
          context: { model: dir, data: values.data! },
        };
      })();
  return samplePlan(evaluation, values, defaultMethods, seedOf, perSample, samples);
}

/** Windows of held-out documents, the true next token explained (see `nextTokenWindows`). */
function nextTokenSamples(dir: string, model: TransformerModel, values: LabelledValues): Samples {
  if (model.config.task !== "causal-lm")
    throw usageError(`--next-token needs a causal language model; ${dir} is a classifier`);
  if (!values.data) throw usageError("--next-token needs --data F[,F] (documents of raw text)");
  if (values["label-column"] !== undefined) throw usageError("--label-column does not apply to --next-token");
  const window = values.window ?? NEXT_TOKEN_FLAGS.window.default;
  if (window > model.capabilities.maxTokens)
    throw usageError(
      `--window ${window} is longer than the model's ${model.capabilities.maxTokens} positions`,
    );
  if (values.limit !== undefined && values.sample !== undefined)
    throw usageError("give --limit N or --sample N, not both");
  const all = readDocuments(values.data, {
    skipBadRows: values["skip-bad-rows"] ?? false,
    ...(values["text-column"] === undefined ? {} : { textColumn: values["text-column"] }),
  });
  const fraction = values["validation-fraction"];
  const docs = fraction === undefined ? all : splitDataset(all, Number(fraction), values.seed).validation;
  const tok = model.tokenizer;
  if (!tok) throw new XaitError(`${dir}: the model has no tokenizer`);
  const windows = nextTokenWindows(
    docs.map((d) => tok.pieces(d).ids),
    window,
  );
  if (windows.length === 0)
    throw new XaitError(
      `--data ${values.data}: no document${fraction === undefined ? "" : " held out"} has ${window + 1} tokens (a window and its next token)`,
    );
  const chosen =
    values.sample !== undefined
      ? seededSubset(windows, Number(values.sample), values.seed).chosen
      : windows.slice(0, values.limit === undefined ? undefined : Number(values.limit));
  return {
    dir,
    model,
    toExplain: chosen.map((w, index) => ({ index, input: { ids: w.ids }, target: w.target })),
    options: { "next-token": true, window },
    context: {
      model: dir,
      data: `${values.data}${fraction === undefined ? "" : ` (held-out fraction ${fraction})`}, ${chosen.length} of ${windows.length} windows of ${window} tokens`,
      target: "the true next token",
    },
  };
}

/** What a report of such a plan shows beside its results: model, data, and what was explained. */
export function sampleContext(context: Record<string, unknown>): {
  model: string;
  data: string;
  target: string;
} {
  const c = context as { model: string; data: string; target?: string };
  return { model: c.model, data: c.data, target: c.target ?? "the true class" };
}

/** The plan over prepared samples: the shared explanation loop, one journal record per sample. */
function samplePlan(
  evaluation: string,
  values: LabelledValues,
  defaultMethods: string,
  seedOf: (seed: number, index: number) => number,
  perSample: PerSample,
  s: Samples,
): EvaluationPlan {
  const methods = methodsFlag(values, defaultMethods);
  const truncation = truncationCounter();
  const { gamma, steps, seed } = values;
  const rules = parseRuleList(values.rule === undefined ? [] : [values.rule]);
  return {
    name: evaluation,
    evaluation,
    total: s.toExplain.length,
    modelDir: s.dir,
    dataFile: values.data!,
    methods,
    seed,
    options: {
      gamma,
      steps,
      ...(Object.keys(rules).length ? { rules: JSON.stringify(rules) } : {}),
      ...dataOptions(values),
      ...s.options,
    },
    context: s.context,
    *run(pending, block) {
      const loop = explainSamples(s.model, s.toExplain, methods, pending, {
        gamma,
        steps,
        rules,
        seedOf: (i) => seedOf(seed, i),
        block,
        warn: truncation.warn,
      });
      for (const e of loop)
        yield { index: e.index, result: perSample(s.model, methods, e, s.toExplain[e.index]!.target) };
    },
    finish: truncation.report,
  };
}
